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
        assert "cannot write the index" in err and "No space left on device" in err
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
        assert "Read-only file system" in err and "without the 2 statements added or changed since" in err
        assert '"doc_id": "000_4a0e896c0c50d79f"' not in out, "a changed statement is never quoted from old offsets"
        assert '"answered": true' in out
        code, _, err = run("--index", str(index), "index")
        assert code == 2 and "Traceback" not in err and "Read-only file system" in err


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
