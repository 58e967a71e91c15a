"""`verbatim add`: PDFs, web pages and links become statements whose words are the original's, and
every bad input is refused with one clear line and leaves the corpus as it was."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from embeddings.cli import main
from embeddings.corpus.documents import load_corpus
from embeddings.engine import open_engine
from embeddings.index.embedder import HashingEmbedder
from embeddings.ingest import add as add_module
from embeddings.ingest import fetch as fetch_module
from embeddings.ingest.add import prepare, save
from embeddings.ingest.errors import DuplicateStatementError, IngestError
from tests.documents_fixtures import (
    encrypted_pdf,
    image_only_pdf,
    lines_pdf,
    news_report_html,
    osce_pdf,
    press_release_html,
)

SEED = "002_78125fb04298b027"


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def _corpus_files(corpus_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(corpus_dir)) for p in corpus_dir.rglob("*"))


# ---- PDF --------------------------------------------------------------------------------------


def test_a_seed_laid_out_as_an_osce_pdf_comes_back_word_for_word(corpus_dir: Path, tmp_path: Path) -> None:
    seed = load_corpus(corpus_dir).documents[SEED]
    paragraphs = _paragraphs(seed.text)
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(osce_pdf(paragraphs, symbol="PC.DEL/999/24", footer="Permanent Mission of Japan"))
    draft = prepare(str(pdf))
    got = _paragraphs(draft.text)
    assert got[1:4] == ["PC.DEL/999/24", "8 November 2024", "ENGLISH only"], "the circulation block, as printed"
    position = got.index(paragraphs[0])
    assert got[position:] == paragraphs, "every paragraph, in order, nothing added or lost"
    assert draft.cleaning is not None and draft.cleaning.page_breaks_joined >= 1
    for running in ("Permanent Mission of Japan", "- 1 -", "- 2 -"):
        assert running not in draft.text
    assert draft.text.count("PC.DEL/999/24") == 1, "the running header is gone, page 1's symbol kept"
    assert draft.text.count("8 November 2024") == 1, "the date repeated under it too"


def test_the_same_questions_get_the_same_quotes_from_the_pdf(corpus_dir: Path, tmp_path: Path) -> None:
    seed = load_corpus(corpus_dir).documents[SEED]
    before = open_engine(corpus_dir, tmp_path / "ix-before", HashingEmbedder())
    questions = [
        "Has North Korea breached the annual cap for refined petroleum products?",
        "Should sanctions on North Korea be eased or lifted?",
        "What maritime activities are monitored?",
    ]
    expected = {q: [r.quote for r in before.search(q, k=3).results if r.doc_id == SEED] for q in questions}
    pdf = tmp_path / "bessho.pdf"
    pdf.write_bytes(osce_pdf(_paragraphs(seed.text)))
    (corpus_dir / f"{SEED}.txt").unlink()
    draft = prepare(str(pdf), {"title": seed.title, "speaker": seed.speaker, "venue": seed.venue, "date": "2018-09-17"})
    added = save(draft, corpus_dir)
    after = open_engine(corpus_dir, tmp_path / "ix-after", HashingEmbedder())
    for q in questions:
        got = [r.quote for r in after.search(q, k=3).results if r.doc_id == added.stem]
        assert [" ".join(x.split()) for x in got] == [" ".join(x.split()) for x in expected[q]], q
        assert expected[q], f"the seed answers {q!r}"


def test_line_breaks_hyphens_and_page_breaks_follow_the_documented_rules(tmp_path: Path) -> None:
    pages = [
        [
            "STATEMENT BY THE DELEGATION OF JAPAN",
            None,
            "PC.DEL/1234/24",
            "12 March 2024",
            None,
            "North Korea launched another missile on Monday, which the Government of Japan regards as a bal-",
            "listic missile launch of the kind the Council has prohibited. The ballistic missile flew far.",
            None,
            "We condemn these launches, above all the long- and intermediate-range launches, and the long-",
            "range launches which continue, in violation of the resolutions of the Security Council, and we",
        ],
        [
            "call on all States to implement the resolutions of the Security Council fully and without delay.",
            None,
            "Thank you.",
        ],
    ]
    draft = prepare("", data=lines_pdf(pages), name="japan.pdf")
    assert _paragraphs(draft.text)[3:] == [
        "North Korea launched another missile on Monday, which the Government of Japan regards as a ballistic "
        "missile launch of the kind the Council has prohibited. The ballistic missile flew far.",
        "We condemn these launches, above all the long- and intermediate-range launches, and the long-range "
        "launches which continue, in violation of the resolutions of the Security Council, and we call on all "
        "States to implement the resolutions of the Security Council fully and without delay.",
        "Thank you.",
    ]
    assert draft.fields["speaker"] == "Delegation of Japan"
    assert draft.fields["symbol"] == "PC.DEL/1234/24" and draft.fields["date"] == "2024-03-12"
    assert draft.fields["venue"] == "OSCE Permanent Council, Vienna"
    assert "symbol's series" in draft.inferred["venue"]


def test_a_short_line_that_stops_mid_sentence_is_not_a_paragraph_end() -> None:
    pages = [["Georgia also notes the mid-", "term review of the mission, which it welcomes.", None, "Thank you."]]
    draft = prepare("", data=lines_pdf(pages), name="georgia.pdf")
    assert _paragraphs(draft.text) == [
        "Georgia also notes the mid-term review of the mission, which it welcomes.",
        "Thank you.",
    ]


def test_a_running_header_printed_on_page_one_stays_a_paragraph_of_its_own() -> None:
    header = "S/PV.9999     Security Council     Eighty-first year     9999th meeting     Thursday, 14 March 2024"
    statement = "Statement by H.E. Ms. Carolyn Schwalger, Permanent Representative of New Zealand"
    body = "New Zealand condemns the launches of ballistic missiles by the Democratic People's Republic of"
    pages = [
        [header, statement, None, body, "Korea, which violate the resolutions of this Council, and urges restraint."],
        [
            header,
            "New Zealand will continue to support the work of the Committee established by resolution 1718.",
            None,
        ],
    ]
    draft = prepare("", data=lines_pdf(pages, font_size=10), name="nz.pdf")
    paragraphs = _paragraphs(draft.text)
    assert paragraphs[:2] == [" ".join(header.split()), statement]
    assert draft.text.count("S/PV.9999") == 1
    assert draft.fields["speaker"].startswith("H.E. Ms. Carolyn Schwalger") and draft.fields["symbol"] == "S/PV.9999"


def test_metadata_is_read_from_the_title_block_as_printed() -> None:
    from embeddings.ingest.metadata import detect, first_date

    body = "Estonia recalls that the UN Security Council resolutions bind all Member States. " * 4
    found = detect(["STATEMENT BY THE DELEGATION OF THE USA ON THE DPRK", "Vilnius, 28.05.2024", body])
    assert found.fields["title"] == "STATEMENT BY THE DELEGATION OF THE USA ON THE DPRK", "a title is kept as printed"
    assert found.fields["speaker"] == "Delegation of the USA" and "re-cased" in found.inferred["speaker"]
    assert found.fields["date"] == "2024-05-28"
    assert "venue" not in found.fields, "a council named in the body is not the venue"
    assert first_date("New York, March 5, 2024") == (dt.date(2024, 3, 5), "March 5, 2024")
    speakers = {
        "Spokesperson of the Ministry of Foreign Affairs of Lithuania": "Government of Lithuania",
        "H.E. Ambassador Koro Bessho, Permanent Representative of Japan to the United Nations": "Government of Japan",
        "Delegation of the Republic of Korea": "Government of the Republic of Korea",
        "TASS news agency": "",
    }
    for speaker, organisation in speakers.items():
        assert detect([f"Statement by {speaker}"]).fields.get("organisation", "") == organisation


def test_the_venue_named_first_at_the_top_wins_over_one_in_a_wrapped_body_line() -> None:
    from embeddings.ingest.metadata import detect

    lines = [
        "Statement by the Delegation of Japan",
        "OSCE Permanent Council, Vienna",
        "11 July 2024",
        "Mr. Chair,",
        "Japan shares the concern of other delegations about Iran's nuclear programme and",
        "recalls that UN Security Council resolution 2231 must be implemented in full, including",
        "the provisions on ballistic missiles, by every Member State.",
    ]
    found = detect(lines)
    assert found.fields["venue"] == "OSCE Permanent Council, Vienna"
    assert found.inferred["venue"] == "from the words 'Permanent Council' in line 2 of the title block"


def test_piped_answers_decide_what_is_saved(
    corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf = tmp_path / "japan.pdf"
    pdf.write_bytes(osce_pdf(["Statement by the Delegation of Japan", "Japan condemns the launch."]))
    before = _corpus_files(corpus_dir)
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert main(["--corpus", str(corpus_dir), "--index", str(tmp_path / "ix"), "add", str(pdf), "--no-index"]) == 0
    assert "not added" in capsys.readouterr().out and _corpus_files(corpus_dir) == before
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert main(["--corpus", str(corpus_dir), "--index", str(tmp_path / "ix"), "add", str(pdf), "--no-index"]) == 0
    assert "1 statement added" in capsys.readouterr().out


def test_a_statement_that_cannot_be_saved_is_not_offered_for_confirmation(
    corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nodate.txt"
    path.write_text("Some remarks without a date or a speaker, long enough to be a statement of sorts.\n")
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert main(["--corpus", str(corpus_dir), "--index", str(tmp_path / "ix"), "add", str(path), "--no-index"]) == 1
    out, err = capsys.readouterr()
    assert "save it?" not in out and "give --speaker, --venue, --date" in err


def test_flags_override_detection_and_inferences_are_noted(corpus_dir: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "japan.pdf"
    pdf.write_bytes(osce_pdf(["Statement by the Delegation of Japan", "Japan condemns the launch of missiles."]))
    draft = prepare(str(pdf), {"date": "2024-11-06", "venue": "FSC/PC Joint Meeting, OSCE, Vienna"})
    assert draft.fields["date"] == "2024-11-06" and "date" not in draft.inferred
    path = save(draft, corpus_dir)
    doc = load_corpus(corpus_dir).documents[path.stem]
    assert doc.venue == "FSC/PC Joint Meeting, OSCE, Vienna" and doc.speaker == "Delegation of Japan"
    assert doc.source == "file japan.pdf" and doc.checksum.startswith("sha256:")
    assert str(tmp_path) not in (corpus_dir / path.name).read_text(), "where the file sat is nobody's business"
    assert "Added by verbatim add" in doc.note and "venue" not in doc.note


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (image_only_pdf(), "OCR is not supported"),
        (encrypted_pdf(), "encrypted"),
        (b"%PDF-1.7\n1 0 obj garbage", "not a readable PDF"),
        (b"\x89PNG\r\n\x1a\n", "not a PDF, an HTML page or a .txt"),
    ],
    ids=["scan", "encrypted", "broken", "image"],
)
def test_a_pdf_that_cannot_be_read_is_refused_and_nothing_is_written(
    corpus_dir: Path, tmp_path: Path, data: bytes, reason: str
) -> None:
    before = _corpus_files(corpus_dir)
    path = tmp_path / "bad.pdf"
    path.write_bytes(data)
    assert main(["--corpus", str(corpus_dir), "--index", str(tmp_path / "ix"), "add", str(path), "--yes"]) == 1
    assert _corpus_files(corpus_dir) == before
    with pytest.raises(IngestError, match=reason):
        prepare(str(path))


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(add_module, "MAX_STATEMENT_BYTES", 1000)
    path = tmp_path / "big.pdf"
    path.write_bytes(osce_pdf(["A paragraph. " * 200]))
    with pytest.raises(IngestError, match=r"MB, over the \d+ MB limit"):
        prepare(str(path))


def test_a_statement_already_in_the_corpus_is_refused_naming_its_file(corpus_dir: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "japan.pdf"
    pdf.write_bytes(
        osce_pdf(["Statement by the Delegation of Japan", "Japan condemns the launch."], symbol="PC.DEL/77/24")
    )
    first = save(prepare(str(pdf)), corpus_dir)
    with pytest.raises(DuplicateStatementError, match=f"already in the corpus as {first.name}.*same original"):
        save(prepare(str(pdf)), corpus_dir)
    other = tmp_path / "japan-again.pdf"
    other.write_bytes(osce_pdf(["Statement by the Delegation of Japan", "Japan condemns it."], symbol="PC.DEL/77/24"))
    with pytest.raises(DuplicateStatementError, match=rf"symbol PC\.DEL/77/24, already in the corpus as {first.name}"):
        save(prepare(str(other)), corpus_dir)


def test_a_missing_required_field_asks_for_its_flag(corpus_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("Some remarks without a date or a speaker, long enough to be a statement of sorts.\n")
    before = _corpus_files(corpus_dir)
    with pytest.raises(IngestError, match=r"could not find its speaker, venue, date; give --speaker, --venue, --date"):
        save(prepare(str(path)), corpus_dir)
    assert _corpus_files(corpus_dir) == before


def test_a_folder_is_added_file_by_file_with_a_summary(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.pdf").write_bytes(
        osce_pdf(["Statement by the Delegation of Japan", "Japan condemns it."], symbol="PC.DEL/1/24")
    )
    (inbox / "b.pdf").write_bytes(
        osce_pdf(["Statement by the Delegation of Canada", "Canada agrees."], symbol="PC.DEL/2/24")
    )
    (inbox / "scan.pdf").write_bytes(image_only_pdf())
    (inbox / "menu.html").write_bytes(b"<html><body><nav><a href='/'>Home</a></nav></body></html>")
    (inbox / "notes.docx").write_bytes(b"ignored")
    code = main(
        ["--corpus", str(corpus_dir), "--index", str(tmp_path / "ix"), "add", str(inbox), "--yes", "--no-index"]
    )
    out, err = capsys.readouterr()
    assert code == 1 and "2 statements added, 2 refused" in out and "scan.pdf has no text layer" in err
    assert f"{inbox / 'menu.html'} has no main text" in err, "a page refused in a folder run is named"
    assert "trafilatura" not in err and "ERROR" not in err, "the extractor's own log lines stay out"
    assert "running header/footer line(s)" in out, "what cleaning did is shown before saving"
    speakers = {d.speaker for d in load_corpus(corpus_dir).documents.values()}
    assert {"Delegation of Japan", "Delegation of Canada"} <= speakers


# ---- links ------------------------------------------------------------------------------------


@pytest.fixture
def site() -> Iterator[tuple[str, dict[str, tuple[int, str, bytes]]]]:
    """A web server on 127.0.0.1: path -> (status, content type or Location, body)."""
    routes: dict[str, tuple[int, str, bytes]] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, kind, body = routes.get(self.path, (404, "text/plain", b"not found"))
            self.send_response(status)
            self.send_header("Location" if 300 <= status < 400 else "Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", routes
    finally:
        server.shutdown()
        thread.join(10)


PRESS = [
    "Japan strongly condemns the launch of a ballistic missile by North Korea on 18 December 2023.",
    "The launch is a clear violation of the relevant Security Council resolutions and poses a grave threat to "
    "the peace and security of Japan and the international community.",
    "Japan will continue to work closely with the United States and the Republic of Korea.",
]


def test_a_press_release_link_gives_its_main_text_title_and_date(
    corpus_dir: Path, tmp_path: Path, site: tuple[str, dict[str, tuple[int, str, bytes]]]
) -> None:
    base, routes = site
    html = press_release_html("Statement by the Press Secretary on the Launch", "2023-12-18", PRESS)
    routes["/press/launch.html"] = (200, "text/html; charset=utf-8", html.encode())
    routes["/old"] = (301, "/press/launch.html", b"")
    draft = prepare(f"{base}/old", {"speaker": "Ministry of Foreign Affairs of Japan"}, allow_private=True)
    assert _paragraphs(draft.text)[-3:] == PRESS, "the release's paragraphs, after its heading"
    for chrome in ("Share this page", "Privacy policy", "Press releases", "All rights reserved"):
        assert chrome not in draft.text
    assert draft.fields["date"] == "2023-12-18"
    assert draft.fields["title"].startswith("Statement by the Press Secretary on the Launch")
    assert draft.fields["source"] == f"{base}/press/launch.html", "the source names where the text came from"
    path = save(draft, corpus_dir)
    assert load_corpus(corpus_dir).documents[path.stem].date.isoformat() == "2023-12-18"


REPORT = [
    "MOSCOW, March 12. /TASS/. Russia and North Korea have signed an agreement on cooperation in fisheries, "
    "the Russian Foreign Ministry said on Tuesday.",
    "The document was signed in Pyongyang following talks between the two delegations, the ministry said.",
    "According to the statement, the sides also discussed humanitarian issues.",
]


def test_a_news_agency_report_keeps_its_dateline_and_drops_the_page_around_it(
    site: tuple[str, dict[str, tuple[int, str, bytes]]],
) -> None:
    base, routes = site
    html = news_report_html("Russia, North Korea sign fisheries agreement", "2024-03-12", REPORT)
    routes["/news/123"] = (200, "text/html", html.encode())
    draft = prepare(f"{base}/news/123", {"speaker": "TASS news agency", "kind": "press report"}, allow_private=True)
    assert _paragraphs(draft.text)[-3:] == REPORT
    for chrome in ("cookies", "Related stories", "Other story number", "All rights reserved", "Politics"):
        assert chrome not in draft.text, chrome
    assert draft.fields["date"] == "2024-03-12" and draft.fields["venue"] == "TASS"
    assert draft.fields["kind"] == "press report"


def test_links_to_private_addresses_are_refused_unless_allowed(
    site: tuple[str, dict[str, tuple[int, str, bytes]]],
) -> None:
    base, routes = site
    routes["/s.txt"] = (200, "text/plain", b"Statement by the Delegation of Nowhere, 1 May 2024.\n")
    with pytest.raises(IngestError, match="private, loopback or link-local"):
        prepare(f"{base}/s.txt")
    for url in ("http://[::1]/x", "http://169.254.169.254/latest/meta-data", "http://10.0.0.1/x", "http://localhost/x"):
        with pytest.raises(IngestError, match="private, loopback or link-local"):
            fetch_module.fetch(url)
    for url in ("file:///etc/passwd", "ftp://example.org/x.pdf", "javascript:alert(1)"):
        with pytest.raises(IngestError, match=r"not an http\(s\) link"):
            prepare(url)


def test_a_redirect_is_checked_like_the_first_address(
    site: tuple[str, dict[str, tuple[int, str, bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, routes = site
    port = base.rsplit(":", 1)[1]
    real = fetch_module._checked_address
    checked: list[str] = []

    def pretend_public(host: str, port: int, allow_private: bool) -> str:
        checked.append(host)
        return "127.0.0.1" if host == "public.test" else real(host, port, allow_private)

    monkeypatch.setattr(fetch_module, "_checked_address", pretend_public)
    routes["/go"] = (302, f"http://127.0.0.1:{port}/inside", b"")
    with pytest.raises(IngestError, match="private, loopback or link-local"):
        prepare(f"http://public.test:{port}/go")
    assert checked == ["public.test", "127.0.0.1"]


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ((200, "image/png", b"\x89PNG"), "is image/png, not a PDF"),
        ((404, "text/plain", b"gone"), "answered 404"),
        ((200, "text/html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>"), "no main text"),
    ],
    ids=["wrong-type", "not-found", "not-a-statement"],
)
def test_a_link_that_is_not_a_statement_is_refused(
    site: tuple[str, dict[str, tuple[int, str, bytes]]], route: tuple[int, str, bytes], reason: str
) -> None:
    base, routes = site
    routes["/x"] = route
    with pytest.raises(IngestError, match=reason):
        prepare(f"{base}/x", allow_private=True)


def test_an_unreachable_or_oversized_link_is_refused(
    site: tuple[str, dict[str, tuple[int, str, bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, routes = site
    with pytest.raises(IngestError, match="could not be fetched"):
        fetch_module.fetch("http://127.0.0.1:9/x", allow_private=True, timeout=5)
    routes["/big.pdf"] = (200, "application/pdf", b"%PDF" + b"0" * 5000)
    with pytest.raises(IngestError, match="over the"):
        fetch_module.fetch(f"{base}/big.pdf", allow_private=True, limit=1000)


def test_cli_adds_a_link_when_the_setting_allows_private_addresses(
    corpus_dir: Path,
    tmp_path: Path,
    site: tuple[str, dict[str, tuple[int, str, bytes]]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base, routes = site
    html = press_release_html("Press Secretary on the Launch", "2023-12-18", PRESS)
    routes["/launch"] = (200, "text/html", html.encode())
    args = ["--corpus", str(corpus_dir), "--index", str(tmp_path / "ix"), "add", f"{base}/launch", "--yes"]
    args += ["--speaker", "Ministry of Foreign Affairs of Japan", "--no-index"]
    assert main(args) == 1 and "private, loopback" in capsys.readouterr().err
    monkeypatch.setenv("VERBATIM_ALLOW_PRIVATE_LINKS", "1")
    assert main(args) == 0
    assert "1 statement added" in capsys.readouterr().out


def test_a_link_that_trickles_is_given_up_at_the_deadline() -> None:
    """A server that sends a byte at a time, each within the read timeout, is still cut off."""

    class Trickle(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            for _ in range(200):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.05)  # the misbehaving server's pace, not the test waiting

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        with pytest.raises(IngestError, match=r"took over 0.5 s to send"):
            fetch_module.fetch(f"http://127.0.0.1:{server.server_address[1]}/", allow_private=True, deadline=0.5)
        assert time.monotonic() - started < 5, "the deadline, not the 20 s read timeout, ended it"
    finally:
        server.shutdown()
        thread.join(10)


def test_an_id_already_in_use_is_refused_and_nothing_is_written(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf = tmp_path / "japan.pdf"
    pdf.write_bytes(osce_pdf(["Statement by the Delegation of Japan", "Japan condemns the launch."]))
    before = _corpus_files(corpus_dir)
    args = ["--corpus", str(corpus_dir), "--index", str(tmp_path / "ix"), "add", str(pdf), "--yes", "--no-index"]
    assert main([*args, "--id", "001_9a301a089a780dac"]) == 1
    err = capsys.readouterr().err
    assert "id 001_9a301a089a780dac is already used by 001_9a301a089a780dac.txt" in err and "Traceback" not in err
    assert _corpus_files(corpus_dir) == before
    assert main([*args, "--id", "japan-launch"]) == 0, "the same file under a free id is added"
    assert main([*args, "--id", "japan-launch-2"]) == 1, "and then it is in the corpus: refused as the same original"
    assert "same original" in capsys.readouterr().err


def test_control_characters_from_a_source_are_not_saved(corpus_dir: Path) -> None:
    """A page or PDF can carry an escape sequence; saved, it would be refused on the next index
    (and, printed, it would act on the reader's terminal)."""
    data = b"Japan condemns the \x1b[31mlaunch\x1b[0m of\x07 a ballistic missile.\n"
    fields = {"title": "On the \x1b[2Jlaunch", "speaker": "Japan", "venue": "UN", "date": "2024-01-02"}
    draft = prepare("", fields, data=data, name="note.txt")
    assert "\x1b" not in draft.text and "\x07" not in draft.text and "\x1b" not in draft.fields["title"]
    path = save(draft, corpus_dir)
    saved = load_corpus(corpus_dir)
    assert not saved.issues and any(d.path == path.name for d in saved.documents.values())


def test_an_id_made_from_a_long_title_ends_on_a_whole_word_and_a_citation_never_breaks_it() -> None:
    from types import SimpleNamespace

    from embeddings.ingest.add import MAX_SLUG, Draft, document_id
    from embeddings.presentation import _citation_line

    title = "Statement by H.E. the Permanent Representative of Kenya on the situation in Haiti and the mission"
    doc_id = document_id(Draft("kenya.html", {"title": title, "date": "2024-10-02"}, ""))
    assert doc_id == "2024-10-02_statement-by-h-e-the-permanent-representative-of-kenya-on"
    assert len(doc_id.split("_", 1)[1]) <= MAX_SLUG
    cited = SimpleNamespace(
        citation="Statement by the Permanent Representative of Kenya, New York, 2 October 2024", doc_id=doc_id
    )
    line = _citation_line(cited, width=60)  # type: ignore[arg-type]
    assert f"[{doc_id}]" in line.replace("\n      ", " "), "the id stays on one line"
