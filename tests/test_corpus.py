from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from embeddings.corpus.documents import MAX_STATEMENT_BYTES, load_corpus, parse_document
from tests.conftest import CORPUS, SEED, SEED_FILES

GOOD = "---\ntitle: T\nspeaker: S\nvenue: V\ndate: 2024-01-02\n---\nSome text here.\n"


SEED_SHA256 = {
    "000_4a0e896c0c50d79f.txt": "31def9895e663fa3abd478094e26a9568bd934008a71e1a139ff1ed4554301c5",
    "001_9a301a089a780dac.txt": "fd67ec721b51170cfea95fed543023c35527d04ae9ec9f1267e03e90922e2475",
    "002_78125fb04298b027.txt": "78004590ba566a0d853a0aa7d60211e5ac1e72c2bb40b143ce730f06d23b4d64",
    "003_98d10b9dfbac6c7a.txt": "1f5dafd44737f332d77df266aeb6cc9d89d1342447283413472b827cdfb285ab",
    "004_98d5f114bee79a04.txt": "bd4d62a6724c067855ae163280f2d43943b9046d53d16b94501d15e14d6ac202",
}
"""sha256 of the five seed statements as delivered (../shared/seed-corpus), so that every clone checks
them, with or without the shared folder beside it."""


def test_seed_statements_are_kept_byte_for_byte() -> None:
    corpus = load_corpus(CORPUS)
    assert not [i for i in corpus.issues if i.path in SEED_FILES]
    assert sorted(SEED_SHA256) == sorted(SEED_FILES)
    for name, digest in SEED_SHA256.items():
        doc = corpus.documents[Path(name).stem]
        assert hashlib.sha256(doc.text.encode("utf-8")).hexdigest() == digest, f"{name} differs from the seed"
        raw = (CORPUS / name).read_bytes()
        assert hashlib.sha256(raw[doc.body_offset :]).hexdigest() == digest
        if SEED.is_dir():
            assert (SEED / name).read_bytes() == raw[doc.body_offset :]


def test_seed_metadata() -> None:
    corpus = load_corpus(CORPUS)
    tass = corpus.documents["004_98d5f114bee79a04"]
    assert "TASS" in tass.speaker and tass.kind == "press report"
    assert corpus.documents["001_9a301a089a780dac"].symbol == "FSC-PC.DEL/51/24"
    assert corpus.documents["002_78125fb04298b027"].date == dt.date(2018, 9, 17)
    assert "inferred" in corpus.documents["002_78125fb04298b027"].note


@pytest.mark.parametrize(
    ("raw", "line", "reason"),
    [
        (b"title: T\n", 1, "missing header"),
        (b"---\ntitle: T\nspeaker: S\nvenue: V\n---\ntext\n", 5, "missing required field(s): date"),
        (b"---\ntitle: T\nspeaker: S\nvenue: V\ndate: 2024-13-01\n---\ntext\n", 5, "is not a day of the calendar"),
        (b"---\ntitle: T\nspeaker: S\nvenue: V\ndate: 6 May 2024\n---\ntext\n", 5, "is not YYYY-MM-DD"),
        (b"---\ntitle: T\nspeaker S\n---\ntext\n", 3, "not 'key: value'"),
        (b"---\ntitle: T\ntilte: T\n---\n", 3, "unknown header field 'tilte'"),
        (b"---\ntitle: T\nspeaker: S\nvenue: V\ndate: 2024-01-01\ntext\n", 6, "not 'key: value'"),
        (b"---\ntitle: T\nspeaker: S\n", 4, "never closed"),
        (b"---\ntitle: T\nspeaker: S\nvenue: V\ndate: 2024-01-01\n---\n\n  \n", 7, "no text"),
        (GOOD.encode().replace(b"Some", b"\xff\xfeSome"), 7, "not valid UTF-8"),
        (b"---\ntitle: \x1b[2J\x1b[31mT\nspeaker: S\n---\n", 2, "control character U+001B"),
    ],
)
def test_malformed_headers_are_named_with_line_and_reason(raw: bytes, line: int, reason: str) -> None:
    issue = parse_document(raw, "bad.txt", "bad")
    assert not hasattr(issue, "text"), issue
    assert issue.path == "bad.txt"  # type: ignore[union-attr]
    assert issue.line == line  # type: ignore[union-attr]
    assert reason in issue.reason  # type: ignore[union-attr]


def test_bad_files_are_reported_and_the_rest_still_load(corpus_dir: Path) -> None:
    (corpus_dir / "broken.txt").write_bytes(b"no header at all\n")
    (corpus_dir / "latin1.txt").write_bytes(GOOD.encode().replace(b"Some", b"Caf\xe9"))
    (corpus_dir / "sub").mkdir()
    (corpus_dir / "sub" / "dup.txt").write_text(GOOD.replace("title: T", "id: 000_4a0e896c0c50d79f\ntitle: T"))
    (corpus_dir / "sub" / "new.txt").write_text(GOOD)
    corpus = load_corpus(corpus_dir)
    assert len(corpus) == 6
    assert "new" in corpus.documents
    reasons = {i.path: i.reason for i in corpus.issues}
    assert set(reasons) == {"broken.txt", "latin1.txt", "sub/dup.txt"}
    assert "duplicate document id" in reasons["sub/dup.txt"]
    assert "UTF-8" in reasons["latin1.txt"]


def test_nothing_outside_the_corpus_folder_is_read(corpus_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(GOOD.replace("Some text here.", "The host's private notes."))
    (corpus_dir / "linked.txt").symlink_to(secret)
    (corpus_dir / "folder-link").symlink_to(secret.parent, target_is_directory=True)
    inside = corpus_dir / "sub" / "ok.txt"
    inside.parent.mkdir()
    inside.write_text(GOOD)
    (corpus_dir / "alias.txt").symlink_to(inside)  # a link that stays inside is fine
    corpus = load_corpus(corpus_dir)
    assert all("private notes" not in d.text for d in corpus.documents.values())
    assert "linked" not in corpus.documents and "secret" not in corpus.documents
    assert any(i.path == "linked.txt" and "outside the corpus folder" in i.reason for i in corpus.issues)
    assert "ok" in corpus.documents


def test_an_absurdly_large_file_is_refused_with_its_name_and_size(corpus_dir: Path) -> None:
    huge = corpus_dir / "huge.txt"
    with huge.open("w") as fh:
        fh.write(GOOD)
        fh.truncate(MAX_STATEMENT_BYTES + 1)
    corpus = load_corpus(corpus_dir)
    assert "huge" not in corpus.documents
    (issue,) = [i for i in corpus.issues if i.path == "huge.txt"]
    assert "MB" in issue.reason and "larger than" in issue.reason


def test_a_copied_id_never_pushes_an_indexed_statement_out(corpus_dir: Path) -> None:
    (corpus_dir / "ruritania_2025.txt").write_text(GOOD.replace("Some text here.", "Flows into the lake fell."))
    (corpus_dir / "a_dup.txt").write_text(GOOD.replace("---\ntitle", "---\nid: ruritania_2025\ntitle"))
    corpus = load_corpus(corpus_dir)
    assert "Flows into the lake" in corpus.documents["ruritania_2025"].text, "the file named after the id keeps it"
    (issue,) = [i for i in corpus.issues if "duplicate" in i.reason]
    assert (issue.path, issue.line) == ("a_dup.txt", 2) and "ruritania_2025.txt" in issue.reason
