"""Building and updating the index: only new or changed text is embedded, everything is written
into a fresh build folder, checked, and then named in CURRENT in one rename.

Vectors are keyed by a hash of the exact text embedded, so an update embeds only text it has never
seen; when no document changed the model is not even loaded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.corpus.chunking import CHUNKER_VERSION, chunk_document
from embeddings.corpus.documents import Corpus, Document
from embeddings.corpus.facts import sentence_facts
from embeddings.errors import IndexStateError, StaleIndexError
from embeddings.index import question_model
from embeddings.index.embedder import Embedder, SentenceTransformerEmbedder
from embeddings.index.keywords import KeywordIndex, Tokenizer
from embeddings.index.layout import (
    CHUNK_FAISS,
    CHUNK_GRAPH_ROWS,
    CHUNK_KEYS,
    CHUNK_VECTORS,
    CHUNKS,
    CURRENT,
    KEYWORDS,
    MANIFEST,
    SENTENCE_FACTS,
    SENTENCE_FAISS,
    SENTENCE_GRAPH_ROWS,
    SENTENCE_KEYS,
    SENTENCE_VECTORS,
    SENTENCES,
    ChunkRecord,
    ChunkTable,
    Manifest,
    ModelInfo,
    file_sha256,
    keyword_texts,
    sentence_texts,
    stamp,
    text_key,
)
from embeddings.index.loading import Index, document_changes, load_index
from embeddings.index.lock import build_lock
from embeddings.index.vectors import HNSW_THRESHOLD, GraphVectors, VectorIndex
from embeddings.progress import bar, over

log = logging.getLogger(__name__)

EMBED_BATCH = 512


@dataclass
class UpdateReport:
    """What a build did, for the summary line and for `/reindex`."""

    documents: int = 0
    chunks: int = 0
    sentences: int = 0
    embedded: int = 0
    reused: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    up_to_date: bool = False
    verified: bool = False
    """Every file of the index was read against its checksum (`verbatim index --verify`)."""
    rebuilt_from_scratch: str = ""
    """Why nothing could be reused, when that happened (model or chunker changed, index broken)."""

    def summary(self) -> str:
        if self.up_to_date:
            checked = "; every file matches its checksum" if self.verified else ""
            counts = f"{self.documents} documents, {self.chunks} chunks"
            return f"index is up to date: {counts}{checked} ({self.seconds:.1f} s)"
        parts = [
            f"indexed {self.documents} documents, {self.chunks} chunks, {self.sentences} sentences",
            f"{self.embedded} texts embedded, {self.reused} reused",
        ]
        changes = [
            f"{len(v)} {k}"
            for k, v in (("added", self.added), ("changed", self.changed), ("removed", self.removed))
            if v
        ]
        if changes:
            parts.append(", ".join(changes))
        if self.rebuilt_from_scratch:
            parts.append(f"full rebuild: {self.rebuilt_from_scratch}")
        return "; ".join(parts) + f" ({self.seconds:.1f} s)"


def update_index(
    index_dir: Path,
    corpus: Corpus,
    embedder: Embedder,
    *,
    progress: bool = False,
    vector_kind: str | None = None,
    on_wait: Callable[[str], None] = log.warning,
    tokenizer: Tokenizer | None = None,
    verify: bool = False,
) -> UpdateReport:
    """Bring the index in line with the corpus, embedding only text it has not embedded before.

    One build at a time, across processes: a second build (another terminal, or the command line
    during a `/reindex`) waits for the first, told who holds the index, then updates from its result.

    With a tokenizer the keyword index is built and stored too; `verify` reads every file of the
    existing index (and checks its question model) instead of trusting unchanged sizes and times.
    """
    with build_lock(index_dir, on_wait):
        return _update(
            index_dir, corpus, embedder, progress=progress, vector_kind=vector_kind, tokenizer=tokenizer, verify=verify
        )


def _update(
    index_dir: Path,
    corpus: Corpus,
    embedder: Embedder,
    *,
    progress: bool,
    vector_kind: str | None,
    tokenizer: Tokenizer | None,
    verify: bool,
) -> UpdateReport:
    started = time.perf_counter()
    report = UpdateReport(documents=len(corpus), verified=verify)
    old = _previous_build(index_dir, embedder, verify, report)
    old_hashes = old.document_hashes() if old else {}
    report.added, report.changed, report.removed = document_changes(old_hashes, corpus.documents.values())
    keywords_current = tokenizer is None or (old is not None and old.manifest.keywords == tokenizer.signature)
    if old is not None and keywords_current and not (report.added or report.changed or report.removed):
        report.chunks, report.sentences = len(old.chunks), len(old.sentences)
        report.up_to_date = True
    else:
        rows = _gather_rows(corpus, embedder, old, old_hashes, progress)
        report.chunks, report.sentences = len(rows.chunks), len(rows.spans)
        kind = vector_kind or ("hnsw" if len(rows.spans) >= HNSW_THRESHOLD else "flat")
        manifest = _manifest(corpus, embedder, tokenizer, kind)
        vectors = _vectors(rows.passages, embedder, old, report, progress)
        build = _assemble(corpus, rows, manifest, vectors, tokenizer, old, progress)
        _write_build(index_dir, manifest, build, lambda folder: _question_model(folder, embedder, old))
    report.seconds = time.perf_counter() - started
    return report


def _previous_build(index_dir: Path, embedder: Embedder, verify: bool, report: UpdateReport) -> Index | None:
    """The build to update from, or None (saying in `report` why none could be reused)."""
    try:
        old = load_index(index_dir, full=verify)
        if verify:
            old.question_encoder()
    except question_model.QuestionModelError as exc:
        report.rebuilt_from_scratch = str(exc)
        log.info("ignoring the existing index: %s", exc)
        return None
    except IndexStateError as exc:
        if (index_dir / CURRENT).exists():
            report.rebuilt_from_scratch = exc.reason
            if not isinstance(exc, StaleIndexError):
                # The caller says it (the summary's "full rebuild: ...", or the engine's notice).
                log.info("ignoring the existing index: %s", exc.reason)
        return None
    why = old.manifest.incompatibility(embedder)
    if why:
        report.rebuilt_from_scratch = why
        return None
    return old


@dataclass
class _Rows:
    """A build's rows, gathered document by document: chunks, sentence spans and their facts, and
    the passages the model reads."""

    chunks: list[ChunkRecord] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    facts: list[np.ndarray] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)


def _gather_rows(
    corpus: Corpus, embedder: Embedder, old: Index | None, old_hashes: dict[str, str], progress: bool
) -> _Rows:
    rows = _Rows()
    documents = list(corpus.documents.values())
    for doc in over(documents, len(documents), "chunking", "doc", enabled=progress and len(documents) > 1):
        reused = old if old is not None and old_hashes.get(doc.doc_id) == doc.content_hash else None
        first_row = len(rows.spans)
        for start, end, first, last, sentences in _pieces(doc, embedder, reused):
            rows.chunks.append(ChunkRecord(doc.doc_id, start, end, first, last, len(rows.spans), len(sentences)))
            rows.spans.extend(sentences)
            rows.passages.append(Passage.of(doc, start, end, sentences))
        rows.facts.append(_document_facts(doc, rows.spans[first_row:], first_row, reused))
    return rows


Piece = tuple[int, int, int, int, list[tuple[int, int]]]
"""A chunk as (start, end, first paragraph, last paragraph, sentence spans)."""


def _pieces(doc: Document, embedder: Embedder, old: Index | None) -> list[Piece]:
    """The document's chunks: as the previous build has them when the document is unchanged there,
    else cut afresh to fit the model beside the document's title."""
    if old is not None:
        return [
            (rec.start, rec.end, rec.first_paragraph, rec.last_paragraph, [old.span(j) for j in rec.sentence_ids])
            for rec in (old.chunks[i] for i in old.doc_chunks.get(doc.doc_id, []))
        ]
    limit = max(embedder.max_tokens // 2, embedder.max_tokens - embedder.count_tokens(context_header(doc)))
    return [
        (ch.start, ch.end, ch.first_paragraph, ch.last_paragraph, list(ch.sentences))
        for ch in chunk_document(doc.text, embedder.count_tokens, limit)
    ]


def _vectors(
    passages: list[Passage], embedder: Embedder, old: Index | None, report: UpdateReport, progress: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Chunk and sentence vectors in row order: reused by text key from the previous build, the
    rest embedded (and counted in `report`)."""
    cache: dict[str, np.ndarray] = {}
    if old is not None:
        cache.update(zip(old.chunk_keys, old.chunk_vectors, strict=True))
        cache.update(zip(old.sentence_keys, old.sentence_vectors, strict=True))
    missing = {p.key: p for p in passages if p.key not in cache or any(k not in cache for k in p.sentence_keys)}
    report.embedded = sum(1 + len(p.spans) for p in missing.values())
    report.reused = sum(1 + len(p.spans) for p in passages) - report.embedded
    if missing:
        log.info("embedding %d new passages", len(missing))
        _embed(embedder, list(missing.values()), cache, progress)
    empty = np.zeros((0, embedder.dim), np.float32)
    chunk_rows = [cache[p.key] for p in passages]
    sentence_rows = [cache[k] for p in passages for k in p.sentence_keys]
    return (
        np.stack(chunk_rows).astype(np.float32) if chunk_rows else empty,
        np.stack(sentence_rows).astype(np.float32) if sentence_rows else empty,
    )


def _manifest(corpus: Corpus, embedder: Embedder, tokenizer: Tokenizer | None, kind: str) -> Manifest:
    return Manifest(
        model=ModelInfo(embedder.name, embedder.fingerprint(), embedder.dim, embedder.max_tokens, embedder.stamp()),
        chunker=CHUNKER_VERSION,
        built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        documents={d.doc_id: d.content_hash for d in corpus.documents.values()},
        paths={d.doc_id: d.path for d in corpus.documents.values()},
        vector_kind=kind,
        files={},
        keywords=tokenizer.signature if tokenizer else "",
    )


def _assemble(
    corpus: Corpus,
    rows: _Rows,
    manifest: Manifest,
    vectors: tuple[np.ndarray, np.ndarray],
    tokenizer: Tokenizer | None,
    old: Index | None,
    progress: bool,
) -> Build:
    """Everything the build writes: rows, facts, vectors, their graphs, keywords."""
    chunk_vectors, sentence_vectors = vectors
    chunk_keys = [p.key for p in rows.passages]
    sentence_keys = [k for p in rows.passages for k in p.sentence_keys]
    keywords = None
    if tokenizer is not None:
        keywords = KeywordIndex.build(
            keyword_texts(corpus, rows.chunks),
            tokenizer,
            sentence_texts(corpus, rows.chunks, rows.spans),
            progress=progress,
        )
    graphs = None
    if manifest.vector_kind == "hnsw":
        graphs = (
            _graph(chunk_vectors, chunk_keys, old.chunk_index if old else None, old.chunk_keys if old else None),
            _graph(
                sentence_vectors, sentence_keys, old.sentence_index if old else None, old.sentence_keys if old else None
            ),
        )
    return Build(
        ChunkTable.of(rows.chunks, list(manifest.documents)),
        np.asarray(rows.spans, dtype=np.int64).reshape(-1, 2),
        np.concatenate(rows.facts) if rows.facts else np.zeros((0, 3), dtype=np.int64),
        chunk_keys,
        sentence_keys,
        chunk_vectors,
        sentence_vectors,
        graphs,
        keywords,
    )


@dataclass(frozen=True)
class Passage:
    """A chunk as the model reads it (its document's title, then its text) and where each of its
    sentences lies in that text; the sentences are embedded in the same pass, in context."""

    text: str
    spans: tuple[tuple[int, int], ...]
    key: str
    sentence_keys: tuple[str, ...]

    @classmethod
    def of(cls, doc: Document, start: int, end: int, sentences: list[tuple[int, int]]) -> Passage:
        header = context_header(doc)
        text = header + doc.text[start:end]
        shift = len(header) - start
        spans = tuple((s + shift, e + shift) for s, e in sentences)
        key = text_key(text)
        # A sentence's vector depends on the passage it was read in: it is keyed by both.
        return cls(text, spans, key, tuple(text_key(f"{key}:{s}:{e}") for s, e in spans))


def _embed(embedder: Embedder, passages: list[Passage], cache: dict[str, np.ndarray], progress: bool) -> None:
    """Embedding is nearly all of a build's time: on a terminal, a bar counts the passages."""
    with bar(len(passages), "embedding", "passage", enabled=progress) as shown:
        for at in range(0, len(passages), EMBED_BATCH):
            batch = passages[at : at + EMBED_BATCH]
            vectors, sentence_vectors = embedder.encode_passages([p.text for p in batch], [p.spans for p in batch])
            for passage, row, rows in zip(batch, vectors, sentence_vectors, strict=True):
                cache[passage.key] = row
                for key, sentence_row in zip(passage.sentence_keys, rows, strict=True):
                    cache[key] = sentence_row
            shown.update(len(batch))


def _document_facts(doc: Document, spans: Sequence[tuple[int, int]], first_row: int, old: Index | None) -> np.ndarray:
    """Paragraph, flags and canonical row of one document's sentence rows (which start at
    `first_row`): copied from the previous build when the document is unchanged."""
    if old is not None:
        rows = old.doc_chunks.get(doc.doc_id, range(0))
        if len(rows):
            lo = int(old.chunks.table[rows.start, ChunkTable.FIRST_SENTENCE])
            before = np.stack([old.sentence_paragraph, old.sentence_flags, old.sentence_canonical], axis=1)
            kept = np.array(before[lo : lo + len(spans)], dtype=np.int64)
            if len(kept) == len(spans):
                kept[:, 2] += first_row - lo
                return kept
    numbers, flags = sentence_facts(doc.text, doc.title, spans)
    first_of: dict[tuple[int, int], int] = {}
    canonical = np.asarray([first_of.setdefault(span, first_row + i) for i, span in enumerate(spans)], dtype=np.int64)
    return np.stack([numbers, flags, canonical], axis=1)


def context_header(doc: Document) -> str:
    """Prefixed to a chunk before embedding: a paragraph rarely names its document's subject, and
    without it the heading of the right document outranks the paragraph that answers."""
    return f"{doc.title}\n"


def _question_model(folder: Path, embedder: Embedder, old: Index | None) -> list[list[float]] | None:
    """Put the question model into a new build: linked from the previous build when it was made from
    the same weights, otherwise exported and checked. Without it (another embedder, or an export that
    failed) questions are encoded by the build's own model: slower to start, same vectors."""
    if not isinstance(embedder, SentenceTransformerEmbedder):
        return None
    files = (question_model.ONNX_FILE, question_model.TOKENIZER_FILE)
    if old is not None and old.manifest.question_probes is not None:
        try:
            for name in files:
                os.link(old.folder / name, folder / name)
            return old.manifest.question_probes
        except OSError:
            for name in files:
                (folder / name).unlink(missing_ok=True)
    try:
        return question_model.export(embedder.path, folder, embedder.encode)
    except Exception as exc:  # the index is still right without it
        log.warning("questions will be encoded with sentence-transformers: the ONNX export failed (%s)", exc)
        for name in files:
            (folder / name).unlink(missing_ok=True)
        return None


def _graph(vectors: np.ndarray, keys: list[str], old: VectorIndex | None, old_keys: list[str] | None) -> GraphVectors:
    """The previous build's graph with this build's rows (matched by text key), or a new graph."""
    if not isinstance(old, GraphVectors) or old_keys is None:
        return GraphVectors.build(vectors)
    free: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        free.setdefault(key, []).append(row)
    rows = np.full(len(old.rows), -1, dtype=np.int64)
    for position, old_row in enumerate(old.rows.tolist()):
        bucket = free.get(old_keys[old_row]) if old_row >= 0 else None
        if bucket:
            rows[position] = bucket.pop()
    return old.grown(vectors, rows)


@dataclass
class Build:
    """Everything a build writes besides its manifest."""

    chunks: ChunkTable
    sentences: np.ndarray
    facts: np.ndarray
    chunk_keys: list[str]
    sentence_keys: list[str]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    graphs: tuple[GraphVectors, GraphVectors] | None
    keywords: KeywordIndex | None


def _write_build(
    index_dir: Path,
    manifest: Manifest,
    build: Build,
    add_question_model: Callable[[Path], list[list[float]] | None] = lambda folder: None,
) -> None:
    index_dir.mkdir(parents=True, exist_ok=True)
    when = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    name = f"build-{when}-{secrets.token_hex(3)}"
    tmp = index_dir / f".{name}.tmp"
    tmp.mkdir()
    try:
        arrays = {
            CHUNKS: build.chunks.table,
            SENTENCES: build.sentences,
            SENTENCE_FACTS: build.facts,
            CHUNK_KEYS: np.asarray(build.chunk_keys, dtype="S32"),
            SENTENCE_KEYS: np.asarray(build.sentence_keys, dtype="S32"),
            CHUNK_VECTORS: build.chunk_vectors,
            SENTENCE_VECTORS: build.sentence_vectors,
        }
        if build.graphs is not None:
            arrays[CHUNK_GRAPH_ROWS] = build.graphs[0].save(tmp / CHUNK_FAISS)
            arrays[SENTENCE_GRAPH_ROWS] = build.graphs[1].save(tmp / SENTENCE_FAISS)
        for file, array in arrays.items():
            np.save(tmp / file, array)
        files = list(arrays)
        if build.graphs is not None:
            files += [CHUNK_FAISS, SENTENCE_FAISS]
        if build.keywords is not None:
            files += [f"{KEYWORDS}/{name}" for name in build.keywords.save(tmp / KEYWORDS)]
        probes = add_question_model(tmp)
        if probes is not None:
            files += [question_model.ONNX_FILE, question_model.TOKENIZER_FILE]
        for f in files:
            _fsync(tmp / f)
        sealed = dataclasses.replace(
            manifest,
            files={f: file_sha256(tmp / f) for f in files},
            stamps={f: stamp(tmp / f) for f in files},
            question_probes=probes,
        )
        raw = json.dumps(sealed.to_json(), indent=1).encode("utf-8")
        (tmp / MANIFEST).write_bytes(raw)
        _fsync(tmp / MANIFEST)
        os.replace(tmp, index_dir / name)
        write_pointer(index_dir, name, hashlib.sha256(raw).hexdigest())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    remove_old_builds(index_dir, keep=name)


def write_pointer(index_dir: Path, name: str, digest: str) -> None:
    """Name the live build in CURRENT, with its manifest's checksum (every file is then checked
    against something no other file can change), in one atomic rename."""
    pointer_tmp = index_dir / f".{CURRENT}.{secrets.token_hex(3)}"
    pointer_tmp.write_text(f"{name}\n{digest}\n", encoding="utf-8")
    _fsync(pointer_tmp)
    os.replace(pointer_tmp, index_dir / CURRENT)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_old_builds(index_dir: Path, keep: str) -> None:
    """Old builds and abandoned temporaries; a reader that still holds an old build keeps its data
    because the vectors were read into memory at load."""
    for entry in index_dir.iterdir():
        if entry.name in (keep, CURRENT):
            continue
        if entry.is_dir() and (entry.name.startswith("build-") or entry.name.startswith(".build-")):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(f".{CURRENT}."):
            entry.unlink(missing_ok=True)
