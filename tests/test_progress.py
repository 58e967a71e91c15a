"""Long work shows progress on a terminal, whatever size the terminal reports."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from embeddings.engine import rebuild
from embeddings.index.embedder import HashingEmbedder

SCRIPT = "from embeddings.progress import over\nfor _ in over(range(40), 40, 'chunking', 'doc', enabled=True): pass\n"


def test_a_bar_is_drawn_on_a_terminal_that_reports_no_size() -> None:
    """A pseudo-terminal of 0 x 0 (as `script` or a starting multiplexer gives) made tqdm draw nothing."""
    leader, follower = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=Path(__file__).parent.parent,
    )
    os.close(follower)
    out = b""
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    assert child.wait(timeout=60) == 0
    os.close(leader)
    assert b"chunking:" in out and b"0/40" in out, out[:300]


@pytest.mark.parametrize("phase", ["chunking", "keywords", "sentence words"])
def test_every_long_phase_of_a_build_has_a_bar(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, phase: str
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    rebuild(corpus_dir, tmp_path / "ix", HashingEmbedder(), progress=True)
    assert f"{phase}:" in capsys.readouterr().err


def test_long_work_in_a_log_prints_a_few_plain_lines(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Standard error not a terminal (a log, CI): no bar redrawn with carriage returns, but a line
    at the start of each long phase and at each quarter, so minutes of work are not silent."""
    monkeypatch.setattr("embeddings.progress.PLAIN_FROM", 40)
    rebuild(corpus_dir, tmp_path / "ix", HashingEmbedder(), progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err
    assert "verbatim: keywords: 42 chunks" in err and "verbatim: keywords: 75%" in err
    assert "verbatim: sentence words: 94 sentences" in err
    assert "chunking" not in err, "five statements are quick: no lines for them"
