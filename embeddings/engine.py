"""Opening a ready-to-search engine from a corpus folder and an index folder.

The one place that decides what happens when the index is missing, stale or damaged: build or
update it (loudly, through the `on_notice` callback), never search a stale one silently.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from embeddings.answer.search import SearchEngine
from embeddings.corpus.documents import Corpus, load_corpus
from embeddings.errors import CorpusError, IndexStateError, IndexWriteError, os_reason
from embeddings.index.building import UpdateReport, update_index
from embeddings.index.embedder import Embedder, QuestionEncoder, SentenceTransformerEmbedder
from embeddings.index.keywords import Tokenizer, load_aliases
from embeddings.index.loading import Index, ensure_fresh, load_index
from embeddings.index.question_model import QuestionModelError
from embeddings.settings import Settings

log = logging.getLogger(__name__)

ALIASES_FILE = "aliases.toml"


def default_embedder() -> Embedder:
    """The bundled model, loaded only when first used (questions run on its ONNX export)."""
    return SentenceTransformerEmbedder()


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
    corpus: Corpus | None = None,
) -> tuple[Corpus, UpdateReport]:
    """`corpus`, when the caller has just read the folder, is not read a second time."""
    check_index_folder(index_dir)
    corpus = corpus or load_checked_corpus(corpus_dir)
    try:
        report = update_index(
            index_dir,
            corpus,
            embedder or default_embedder(),
            progress=progress,
            on_wait=on_notice,
            tokenizer=corpus_tokenizer(corpus_dir),
            verify=verify,
        )
    except OSError as exc:
        raise IndexWriteError(_cannot_write(index_dir, exc)) from exc
    return corpus, report


def check_index_folder(index_dir: Path) -> None:
    """An index is a folder: naming a file is a mistake worth one clear line before anything runs."""
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexWriteError(f"{index_dir} is a file, not a folder: name the index's folder (--index, VERBATIM_INDEX)")


def _cannot_write(index_dir: Path, exc: OSError) -> str:
    previous = " (the previous index is untouched)" if (index_dir / "CURRENT").exists() else ""
    return f"cannot write the index in {index_dir}: {os_reason(exc)}{previous}"


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
    check_index_folder(index_dir)
    embedder = embedder or default_embedder()
    corpus = load_checked_corpus(corpus_dir)
    tokenizer = corpus_tokenizer(corpus_dir)
    try:
        index = load_index(index_dir)
        ensure_fresh(index, corpus, embedder)
    except IndexStateError as exc:
        if not auto_update:
            raise
        on_notice(f"{exc.reason}; updating the index now")
        try:
            report = update_index(
                index_dir, corpus, embedder, progress=progress, on_wait=on_notice, tokenizer=tokenizer
            )
        except OSError as write_error:
            index, corpus = _previous_build(index_dir, corpus, embedder, write_error, on_notice)
        else:
            on_notice(report.summary())
            index = load_index(index_dir)
            ensure_fresh(index, corpus, embedder)
    return SearchEngine(
        corpus, index, question_encoder(index, embedder), tokenizer, max_question_chars=max_question_chars
    )


def _previous_build(
    index_dir: Path, corpus: Corpus, embedder: Embedder, error: OSError, on_notice: Callable[[str], None]
) -> tuple[Index, Corpus]:
    """When the index cannot be written (a full disk, a read-only folder), the previous build still
    answers for the statements it was made from, said once. Statements added or changed since are
    left out, never quoted from offsets of an older text."""
    try:
        index = load_index(index_dir)
    except IndexStateError:
        raise IndexWriteError(_cannot_write(index_dir, error)) from error
    if index.manifest.incompatibility(embedder):
        raise IndexWriteError(_cannot_write(index_dir, error)) from error
    kept = index.document_hashes()
    same = {d: doc for d, doc in corpus.documents.items() if kept.get(d) == doc.content_hash}
    left_out = sorted(set(corpus.documents) - set(same))
    on_notice(
        f"{_cannot_write(index_dir, error)}; answering from it, without the {len(left_out)} statement"
        f"{'s' if len(left_out) != 1 else ''} added or changed since"
        + (f" ({', '.join(left_out[:3])}{'…' if len(left_out) > 3 else ''})" if left_out else "")
    )
    return index, dataclasses.replace(corpus, documents=same)


def question_encoder(index: Index, embedder: Embedder) -> QuestionEncoder:
    """The index's ONNX export when it has one that still agrees with its probes; otherwise the
    build's own model, which gives the same vectors after seconds of loading torch."""
    try:
        return index.question_encoder() or embedder
    except QuestionModelError as exc:
        log.warning("%s; questions use sentence-transformers instead (`verbatim index --verify` repairs it)", exc)
        return embedder
