"""Opening a ready-to-search engine from a corpus folder and an index folder.

The one place that decides what happens when the index is missing, stale or damaged: build or
update it (loudly, through the `on_notice` callback), never search a stale one silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from embeddings.answer.search import SearchEngine
from embeddings.corpus.documents import Corpus, load_corpus
from embeddings.errors import CorpusError, IndexStateError
from embeddings.index.embedder import Embedder, QuestionEncoder, SentenceTransformerEmbedder
from embeddings.index.keywords import Tokenizer, load_aliases
from embeddings.index.question_model import QuestionModelError
from embeddings.index.store import Index, UpdateReport, ensure_fresh, load_index, update_index
from embeddings.settings import Settings

log = logging.getLogger(__name__)

ALIASES_FILE = "aliases.toml"


def load_checked_corpus(corpus_dir: Path) -> Corpus:
    corpus = load_corpus(corpus_dir)
    if not len(corpus):
        raise CorpusError(f"no usable statements in {corpus_dir} (see corpus/README.md for the format)")
    return corpus


def rebuild(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder | None = None,
    *,
    progress: bool = False,
    on_notice: Callable[[str], None] = log.warning,
    verify: bool = False,
) -> tuple[Corpus, UpdateReport]:
    corpus = load_checked_corpus(corpus_dir)
    report = update_index(
        index_dir,
        corpus,
        embedder or SentenceTransformerEmbedder(),
        progress=progress,
        on_wait=on_notice,
        tokenizer=corpus_tokenizer(corpus_dir),
        verify=verify,
    )
    return corpus, report


def corpus_tokenizer(corpus_dir: Path) -> Tokenizer:
    """The keyword tokenizer with the built-in aliases and the corpus's own `aliases.toml`."""
    return Tokenizer(load_aliases(corpus_dir / ALIASES_FILE))


def open_engine(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder | None = None,
    *,
    auto_update: bool = True,
    on_notice: Callable[[str], None] = log.warning,
    progress: bool = False,
    max_question_chars: int = Settings.max_question_chars,
) -> SearchEngine:
    """An engine over a fresh index; builds or updates the index first when allowed to."""
    embedder = embedder or SentenceTransformerEmbedder()
    corpus = load_checked_corpus(corpus_dir)
    tokenizer = corpus_tokenizer(corpus_dir)
    try:
        index = load_index(index_dir)
        ensure_fresh(index, corpus, embedder)
    except IndexStateError as exc:
        if not auto_update:
            raise
        on_notice(f"{exc.reason}; updating the index now")
        report = update_index(index_dir, corpus, embedder, progress=progress, on_wait=on_notice, tokenizer=tokenizer)
        on_notice(report.summary())
        index = load_index(index_dir)
        ensure_fresh(index, corpus, embedder)
    return SearchEngine(
        corpus, index, question_encoder(index, embedder), tokenizer, max_question_chars=max_question_chars
    )


def question_encoder(index: Index, embedder: Embedder) -> QuestionEncoder:
    """The index's ONNX export when it has one that still agrees with its probes; otherwise the
    build's own model, which gives the same vectors after seconds of loading torch."""
    try:
        return index.question_encoder() or embedder
    except QuestionModelError as exc:
        log.warning("%s; questions use sentence-transformers instead (`verbatim index --verify` repairs it)", exc)
        return embedder
