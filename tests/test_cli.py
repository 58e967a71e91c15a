from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from embeddings.corpus.documents import load_corpus
from tests.conftest import ROOT


def test_search_json_single(run, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("search", "--json", "--k", "2", "Hokkaido ICBM launch")
    assert code == 0
    obj = json.loads(out)
    assert set(obj) == {"question", "answered", "results"}
    assert obj["answered"] and 1 <= len(obj["results"]) <= 2
    r = obj["results"][0]
    assert set(r) == {"doc_id", "title", "citation", "paragraph", "quote", "highlight", "start", "end", "score"}
    text = load_corpus(corpus_dir).documents[r["doc_id"]].text
    assert text[r["start"] : r["end"]] == r["quote"]
    a, b = r["highlight"]
    assert 0 <= a < b <= len(r["quote"])


def test_search_json_reads_questions_from_stdin_in_order(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("search", "--json", stdin="Hokkaido\n\nmotor bridge Tumannaya\n   \nsanctions\n")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [o["question"] for o in lines if "error" not in o] == ["Hokkaido", "motor bridge Tumannaya", "sanctions"]


def test_index_summary_and_bad_file_named(run, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    (corpus_dir / "bad.txt").write_text("---\ntitle: x\n---\nbody\n")
    code, out, err = run("index")
    assert "indexed 5 documents" in out
    assert "bad.txt:3: missing required field(s): speaker, venue, date" in err
    assert code == 1
    code, out, _ = run("index")
    assert "up to date" in out


def test_source_and_sources(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("source", "004_98d5f114bee79a04", "--paragraph", "8")
    assert code == 0 and "[8] Putin paid a state visit" in out
    code, out, _ = run("sources")
    assert out.count("\n    ") == 5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["source", "../../etc/passwd"], "no document '../../etc/passwd'"),
        (["source", "004_98d5f114bee79a0"], "did you mean 004_98d5f114bee79a04"),
        (["source", "004_98d5f114bee79a04", "--paragraph", "99"], "paragraphs 1 to 8"),
        (["ask", "   "], "the question is empty"),
        (["ask", "sanctions", "--since", "2024-13"], "is not a date"),
        (["ask", "sanctions", "--since", "2025", "--until", "2024-06"], "since 2025-01-01 is after until 2024-06-30"),
        (["ask", "sanctions", "--k", "0"], "between 1 and 10"),
        (["eval", "missing.jsonl"], "cannot read missing.jsonl"),
        (["compare", " ", "Japan"], "the topic is empty"),
        (["timeline", "?!"], "the topic has no words in it"),
        (["add", "x.txt", "--date", "2023-02-31"], "not a day of the calendar"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(run, argv: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(*argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_ask_declines_plainly(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("ask", "zzzz qqqq")
    assert code == 0 and "Nothing in the corpus answers this" in out


def test_run_without_a_token_explains_and_opens_the_console(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    code, out, err = run("run", stdin="Hokkaido ICBM launch\n")
    assert code == 0
    assert "No Discord token" in err and "DISCORD_TOKEN" in err and "README.md" in err
    assert "you>" in out and "**" in out and "para." in out


def test_eval_reports_by_style_and_explains_misses(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    questions = tmp_path / "qs.jsonl"
    rows = [
        {"id": "a1", "question": "Hokkaido ICBM launch", "evidence": ["200 km off the island of Hokkaido"]},
        {"id": "a2", "question": "motor bridge River Tumannaya", "evidence": ["no such words anywhere at all"]},
        {"id": "n1", "question": "recipe for miso soup", "evidence": []},
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "qs_styles.json").write_text(json.dumps({"a1": "kw", "a2": "kw", "n1": "off"}))
    code, out, _ = run("eval", str(questions), "--misses")
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split()[:3] == ["style", "n", "hit@1"]
    by_style = {line.split()[0]: line.split() for line in lines[:3]}
    assert set(by_style) == {"all", "kw", "off"} and by_style["all"][1] == "3" and by_style["kw"][1] == "2"
    assert "a2 [kw] motor bridge River Tumannaya" in out
    assert "is in no indexed sentence" in out, "a miss says where its evidence is (here: nowhere)"


def test_eval_names_a_bad_question_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    code, _, err = run("eval", str(bad))
    assert code == 2 and "bad.jsonl:1: not a question object" in err


# ---- bad input from pipes and terminals ---------------------------------------------------------


def test_a_question_that_is_not_utf8_is_refused_clearly_and_the_batch_goes_on(run) -> None:  # type: ignore[no-untyped-def]
    bad = b"What did Japan say about \xff\xfe launches?".decode("utf-8", "surrogateescape")
    code, out, err = run("ask", bad)
    assert code == 2 and "not valid UTF-8" in err and "Traceback" not in err
    code, out, _ = run("search", "--json", stdin=f"Hokkaido\n{bad}\nmotor bridge Tumannaya\n")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 3, "every input line gets its output line"
    assert lines[0]["answered"] and lines[2]["answered"]
    assert "not valid UTF-8" in lines[1]["error"] and not lines[1]["results"]


def test_every_input_line_gets_one_output_line(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("search", "--json", stdin="Hokkaido\n\n   \nmotor bridge Tumannaya\n")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 4
    assert [bool(o.get("error")) for o in lines] == [False, True, True, False]
    assert "empty" in lines[1]["error"]


@pytest.mark.model
def test_a_closed_pipe_ends_quietly(corpus_dir: Path, tmp_path: Path) -> None:
    script = "import sys; sys.argv=['verbatim','search','--json'];from bot.cli import main; raise SystemExit(main())"
    proc = subprocess.run(
        f'yes Hokkaido | head -200 | {sys.executable} -c "{script}" | head -1',
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "VERBATIM_CORPUS": str(corpus_dir),
            "VERBATIM_INDEX": str(tmp_path / "pipe-index"),
        },
        timeout=120,
    )
    assert proc.stdout.count("\n") == 1 and json.loads(proc.stdout)["answered"]
    assert "BrokenPipeError" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--since", "24", "not a date"),
        ("--until", "2024-W01-5", "not a date"),
        ("--since", "20240105", "not a date"),
        ("--since", "2024-13", "not a date"),
        ("--doc", "001_9a301a089a780dax", "no document '001_9a301a089a780dax'; did you mean 001_9a301a089a780dac"),
    ],
)
def test_filters_are_checked_with_a_reason(run, option: str, value: str, message: str) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("ask", "ICBM launch", option, value)
    assert code == 2 and message in err, err


def test_header_dates_must_be_written_yyyy_mm_dd(corpus_dir: Path) -> None:
    for bad in ("20240105", "2024-W01-5", "2024-1-5"):
        (corpus_dir / "odd.txt").write_text(f"---\ntitle: T\nspeaker: S\nvenue: V\ndate: {bad}\n---\nText.\n")
        corpus = load_corpus(corpus_dir)
        assert "odd" not in corpus.documents
        assert any(i.path == "odd.txt" and "YYYY-MM-DD" in i.reason for i in corpus.issues)


def test_corpus_problems_are_printed_once(run, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    (corpus_dir / "bad.txt").write_text("---\ntitle: x\n---\nbody\n")
    for command in (["index"], ["sources"]):
        _, _, err = run(*command)
        assert err.count("bad.txt:3") == 1, err
    _, _, err = run("ask", "Hokkaido ICBM launch")
    assert "bad.txt:3" not in err and "1 file skipped" in err and "verbatim index" in err


def test_run_from_another_folder_says_where_to_run_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from bot import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VERBATIM_CORPUS", raising=False)
    assert cli.main(["sources"]) == 2
    err = capsys.readouterr().err
    assert "corpus folder corpus does not exist in" in err and "--corpus" in err and "project folder" in err


@pytest.mark.parametrize("question", ["", "   ", "x" * 2000])
def test_search_json_answers_an_unaskable_question_with_an_error_object(run, question: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("search", "--json", question)
    payload = json.loads(out)
    assert code == 2 and payload["answered"] is False and payload["error"] and payload["results"] == []
    assert len(payload["question"]) <= 201, "a pasted document is not echoed back whole"
    assert "Traceback" not in err


def test_an_index_or_corpus_that_names_a_file_is_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, _, err = run("--index", str(afile), "ask", "ICBM launch")
    assert code == 2 and f"verbatim: {afile} is a file, not a folder" in err and "Traceback" not in err
    code, _, err = run("--corpus", str(afile), "sources")
    assert code == 2 and f"verbatim: {afile} is a file, not a folder" in err


def test_a_bad_log_level_is_named(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VERBATIM_LOG_LEVEL", "LOUD")
    code, _, err = run("sources")
    assert code == 2 and "VERBATIM_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'" in err


def test_help_gives_its_whole_first_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    from bot import cli

    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "index, ask, search, sources, source, eval, chat, add, compare, timeline, feedback, migrate, export, import."
        in out
    )


def test_compare_names_who_was_left_out_past_ten(run) -> None:  # type: ignore[no-untyped-def]
    names = [f"Nation{i}" for i in range(11)]
    code, out, _ = run("compare", "ICBM launches", *names)
    assert code == 0 and "Not compared (at most 10 at once): Nation10" in out
