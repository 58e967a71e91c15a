"""The index folder on a real full disk and a real read-only file system (a small tmpfs, mounted by
the test): one clear line, nothing lost, and the previous index keeps answering."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from embeddings.answer.search import Answer
from embeddings.cli import main
from embeddings.engine import open_engine
from embeddings.errors import IndexWriteError
from embeddings.index.embedder import HashingEmbedder
from embeddings.state import State

NEW_STATEMENT = (
    "---\ntitle: Freedonia on cod\nspeaker: Delegation of Freedonia\nvenue: OSCE Permanent Council\n"
    "date: 2025-02-03\n---\nFreedonia calls for a moratorium on cod fisheries in the northern waters.\n"
)


@contextmanager
def small_disk(path: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of `size` at `path`, unmounted afterwards; the test is skipped, saying why, where
    mounting is not allowed (it needs root)."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here ({done.stderr.decode().strip() or 'not root'})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path) -> None:
    """Write until the file system is full."""
    with (folder / "filler").open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass


def test_a_full_disk_keeps_the_previous_index_answering(corpus_dir: Path, tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    with small_disk(tmp_path / "disk") as disk:
        index = disk / "index"
        open_engine(corpus_dir, index, HashingEmbedder())
        before = sorted(p.name for p in index.iterdir())
        (corpus_dir / "cod.txt").write_text(NEW_STATEMENT)
        fill(disk)
        code, out, err = run("--index", str(index), "ask", "What did Japan say about the ICBM launch?")
        assert code == 0 and "Traceback" not in err
        assert "cannot write the index" in err and "the disk is full" in err
        assert "without the 1 statement added or changed since (cod)" in err
        assert "Hokkaido" in out or "ICBM" in out, "the previous index answered"
        assert sorted(p.name for p in index.iterdir()) == before, "nothing half-written left behind"
        code, out, err = run("--index", str(index), "index")
        assert code == 2 and "Traceback" not in err
        assert err.strip().splitlines()[-1].startswith("verbatim: cannot write the index")
        assert "the previous index is untouched" in err
        (disk / "filler").unlink()
        code, out, err = run("--index", str(index), "ask", "What does Freedonia want for cod?")
        assert code == 0 and "moratorium on cod" in out, "with room again, the next question updates"


def test_a_read_only_index_folder_answers_from_what_it_has(corpus_dir: Path, tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    with small_disk(tmp_path / "disk") as disk:
        index = disk / "index"
        open_engine(corpus_dir, index, HashingEmbedder())
        (corpus_dir / "cod.txt").write_text(NEW_STATEMENT)
        shutil.copyfile(corpus_dir / "000_4a0e896c0c50d79f.txt", tmp_path / "keep.txt")
        with (corpus_dir / "000_4a0e896c0c50d79f.txt").open("a") as fh:
            fh.write("\nA paragraph added after the index was built.\n")
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        code, out, err = run("--index", str(index), "search", "--json", "ICBM launch Hokkaido")
        assert code == 0 and "Traceback" not in err
        assert "the file system is read-only" in err and "without the 2 statements added or changed since" in err
        assert '"doc_id": "000_4a0e896c0c50d79f"' not in out, "a changed statement is never quoted from old offsets"
        assert '"answered": true' in out
        code, _, err = run("--index", str(index), "index")
        assert code == 2 and "Traceback" not in err and "the file system is read-only" in err


def test_no_index_and_no_room_is_one_clear_error(corpus_dir: Path, tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", size="64k") as disk:
        fill(disk)
        with pytest.raises(IndexWriteError, match="cannot write the index"):
            open_engine(corpus_dir, disk / "index", HashingEmbedder())


def test_feedback_reads_skip_a_damaged_row_and_need_no_write_access(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        index = disk / "ix"
        state = State.beside(index)
        good = state.record_answer(Answer("Where did the ICBM land?", True, []))
        bad = state.record_answer(Answer("What about the launch?", True, []))
        assert state.vote(good, "1", "wrong", "off", "200 km off Hokkaido") and state.vote(bad, "2", "answers")
        db = sqlite3.connect(index / "verbatim.sqlite3")
        with db:
            db.execute("UPDATE answers SET shown = '{not json' WHERE answer_id = ?", (bad,))
            db.execute("UPDATE votes SET voted_at = 'yesterday' WHERE answer_id = ?", (bad,))
        db.close()
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        out = tmp_path / "feedback.jsonl"
        args = ["--corpus", str(tmp_path), "--index", str(index), "feedback"]
        assert main([*args, "export", "--out", str(out)]) == 0
        err = capsys.readouterr().err
        assert f"vote of member 2 on answer {bad} skipped: its record is damaged" in err and "Traceback" not in err
        assert [json.loads(line)["evidence"] for line in out.read_text().splitlines()] == [["200 km off Hokkaido"]]
        assert main([*args, "stats"]) == 0
        captured = capsys.readouterr()
        assert "0 of 1 votes say the answer was right" in captured.out and "its date 'yesterday'" in captured.err
    assert main(["--corpus", str(tmp_path), "--index", str(tmp_path / "none"), "feedback", "stats"]) == 0
    assert "no votes yet" in capsys.readouterr().out and not (tmp_path / "none").exists()


def test_adding_to_a_full_disk_says_so_and_leaves_nothing_behind(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "cod.txt").write_text("Freedonia calls for a moratorium on cod fisheries in the northern waters.\n")
    fields = ["--title", "Freedonia on cod", "--speaker", "Freedonia", "--venue", "OSCE", "--date", "2025-02-03"]
    with small_disk(tmp_path / "disk", size="64k") as disk:
        corpus = disk / "corpus"
        corpus.mkdir()
        fill(disk)
        code, out, err = run("--corpus", str(corpus), "add", str(tmp_path / "cod.txt"), *fields, "--yes", "--no-index")
        assert code == 1 and "Traceback" not in err and "0 statements added, 1 refused" in out
        assert "cannot write" in err and "the disk is full" in err
        assert list(corpus.iterdir()) == [], "no half-written statement or temporary file"


def test_a_link_that_is_not_a_valid_address_is_refused_and_the_rest_still_added(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "cod.txt").write_text("Freedonia calls for a moratorium on cod fisheries in the northern waters.\n")
    fields = ["--title", "Freedonia on cod", "--speaker", "Freedonia", "--venue", "OSCE", "--date", "2025-02-03"]
    links = ["http://example.org:99999/statement", "http://[::1/statement"]
    code, out, err = run("add", *links, str(tmp_path / "cod.txt"), *fields, "--yes", "--no-index")
    assert code == 1 and "Traceback" not in err and "1 statement added, 2 refused" in out
    assert err.count("is not a valid link") == 2


def test_pipes_and_bad_links_in_the_corpus_are_named_and_the_rest_indexes(corpus_dir: Path, run) -> None:  # type: ignore[no-untyped-def]
    import os

    os.mkfifo(corpus_dir / "pipe.txt")  # reading it would wait for ever
    (corpus_dir / "loop.txt").symlink_to(corpus_dir / "loop.txt")
    (corpus_dir / "gone.txt").symlink_to(corpus_dir / "deleted.txt")
    code, out, err = run("index")
    assert code == 1 and "Traceback" not in err and "indexed 5 documents" in out, "skipped files: status 1"
    assert "pipe.txt" in err and "is not a regular file" in err
    assert "loop.txt" in err and "leads round in a loop" in err
    assert "gone.txt" in err and "a file that does not exist" in err


def test_settings_a_user_can_get_wrong_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from embeddings.errors import VerbatimError
    from embeddings.settings import load_settings

    with pytest.raises(VerbatimError, match="VERBATIM_ALLOW_PRIVATE_LINKS must be 1/true/yes or 0/false/no"):
        load_settings({"VERBATIM_ALLOW_PRIVATE_LINKS": "maybe"})
    assert load_settings({"VERBATIM_ALLOW_PRIVATE_LINKS": "off"}).allow_private_links is False
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"DISCORD_TOKEN=caf\xe9\n")
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    with pytest.raises(VerbatimError, match=r"\.env is not UTF-8 text"):
        load_settings(dotenv=env_file)


def test_eval_refuses_a_binary_file_and_evidence_written_as_one_string(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    binary = tmp_path / "q.jsonl"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    code, _, err = run("eval", str(binary))
    assert code == 2 and "Traceback" not in err and "q.jsonl: not UTF-8 text" in err
    loose = tmp_path / "loose.jsonl"
    loose.write_text(json.dumps({"id": "a", "question": "Hokkaido ICBM launch", "evidence": "Hokkaido"}) + "\n")
    code, _, err = run("eval", str(loose))
    assert code == 2 and "'evidence' must be a list of strings" in err, "a bare string would match letter by letter"


def test_an_empty_file_and_a_dangling_link_are_named_for_what_they_are(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "gone.pdf").symlink_to(tmp_path / "deleted.pdf")
    code, out, err = run("add", str(tmp_path / "empty.pdf"), str(tmp_path / "gone.pdf"), "--yes", "--no-index")
    assert code == 1 and "0 statements added, 2 refused" in out
    assert "empty.pdf is empty (0 bytes)" in err and "gone.pdf is a link to a file that does not exist" in err


def test_a_state_file_of_another_program_is_named_not_misread(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ix").mkdir()
    with sqlite3.connect(tmp_path / "ix" / "verbatim.sqlite3") as other:
        other.execute("CREATE TABLE notes (text)")
    code, _, err = run("feedback", "stats")
    assert code == 2 and "is not a Verbatim state file" in err and "Traceback" not in err


def test_ctrl_c_says_it_stopped(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("embeddings.service.Verbatim.documents", interrupted)
    code, _, err = run("sources")
    assert code == 130 and "interrupted" in err and "Traceback" not in err
