"""Shared fixtures: a copy of the corpus to mutate, a fast fake embedder, and the real model once."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import cli
from embeddings.answer.search import SearchEngine
from embeddings.engine import open_engine
from embeddings.index.embedder import HashingEmbedder, SentenceTransformerEmbedder

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
SEED = SHARED / "seed-corpus"
QUESTIONS = ROOT / "benchmarks" / "questions"
DEV_QUESTIONS = QUESTIONS / "pool_dev.jsonl"
POOL = [DEV_QUESTIONS, QUESTIONS / "pool_lab.jsonl"]
"""The question pool (copied from the shared eval set, so a fresh clone can test and train)."""


SEED_FILES = (
    "000_4a0e896c0c50d79f.txt",
    "001_9a301a089a780dac.txt",
    "002_78125fb04298b027.txt",
    "003_98d10b9dfbac6c7a.txt",
    "004_98d5f114bee79a04.txt",
)
"""The five seed statements: tests use these, never whatever else a user has added to corpus/."""


def copy_seeds(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in (*SEED_FILES, "aliases.toml"):
        shutil.copyfile(CORPUS / name, target / name)
    return target


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A private copy of the seed statements that a test may add to or break."""
    return copy_seeds(tmp_path / "corpus")


@pytest.fixture(scope="session")
def seed_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed statements, read-only, for the whole session."""
    return copy_seeds(tmp_path_factory.mktemp("seeds") / "corpus")


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def fake_engine(corpus_dir: Path, tmp_path: Path, fake_embedder: HashingEmbedder) -> SearchEngine:
    return open_engine(corpus_dir, tmp_path / "index", fake_embedder)


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def real_engine(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: SentenceTransformerEmbedder, seed_corpus: Path
) -> Iterator[SearchEngine]:
    """The real model over the seed statements, indexed once for the whole session."""
    index_dir = tmp_path_factory.mktemp("real-index")
    yield open_engine(seed_corpus, index_dir, real_embedder)


@pytest.fixture
def run(corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """``verbatim ARGS`` in-process over the private corpus and ``tmp_path/ix`` (the index the bot
    tests use too), with the hashing embedder; returns (exit status, stdout, stderr)."""
    monkeypatch.setattr("embeddings.engine.SentenceTransformerEmbedder", HashingEmbedder)
    monkeypatch.chdir(tmp_path)

    def _run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli.main(["--corpus", str(corpus_dir), "--index", str(tmp_path / "ix"), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return _run
