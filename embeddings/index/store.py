"""The on-disk index: build, update incrementally, verify, load.

Layout of the index folder (git-ignored)::

    CURRENT               name of the live build folder, replaced atomically
    build-<time>-<rand>/  manifest.json, chunks.json, chunk_vectors.npy, sentence_vectors.npy
                          (and the FAISS graphs when the corpus is large enough to want them)

A build is written into a fresh folder and only then named in CURRENT, so a crash at any point
leaves the previous index intact and in use. The manifest records the model's fingerprint, the
chunker version, a hash per document and a checksum per file: anything that disagrees at load is
reported, never used silently.

Vectors are keyed by a hash of the exact text embedded, so an update embeds only text it has never
seen; when no document changed the model is not even loaded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, overload

import numpy as np

from embeddings.corpus.chunking import CHUNKER_VERSION, ParagraphSpan, chunk_document
from embeddings.corpus.documents import Corpus, Document
from embeddings.corpus.facts import sentence_facts
from embeddings.errors import IndexStateError, StaleIndexError
from embeddings.index import question_model
from embeddings.index.embedder import Embedder, SentenceTransformerEmbedder
from embeddings.index.keywords import KeywordIndex, Tokenizer
from embeddings.index.vectors import HNSW_THRESHOLD, VectorIndex
from embeddings.progress import bar, over

log = logging.getLogger(__name__)

FORMAT_VERSION = 4
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
CHUNKS = "chunks.npy"
SENTENCES = "sentences.npy"
CHUNK_KEYS = "chunk_keys.npy"
SENTENCE_KEYS = "sentence_keys.npy"
CHUNK_VECTORS = "chunk_vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
SENTENCE_FACTS = "sentence_facts.npy"
CHUNK_FAISS = "chunks.faiss"
CHUNK_GRAPH_ROWS = "chunks.graph.npy"
SENTENCE_GRAPH_ROWS = "sentences.graph.npy"
LOCK_FILE = ".lock"
BUILD_LOCK_TIMEOUT = 3600.0
"""How long a build waits for another one before it gives up (an hour: a large corpus takes long)."""
LOCK_POLL_SECONDS = 0.2
BUILD_NAME = re.compile(r"build-\d{8}T\d{6}-[0-9a-f]{6}")
SENTENCE_FAISS = "sentences.faiss"
KEYWORDS = "keywords"


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ChunkRecord:
    doc_id: str
    start: int
    end: int
    first_paragraph: int
    last_paragraph: int
    sentence_start: int
    sentence_count: int

    @property
    def paragraph(self) -> ParagraphSpan:
        return ParagraphSpan(self.first_paragraph, self.last_paragraph)

    @property
    def sentence_ids(self) -> range:
        return range(self.sentence_start, self.sentence_start + self.sentence_count)


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


@dataclass(frozen=True)
class ModelInfo:
    name: str
    fingerprint: str
    dim: int
    max_tokens: int
    stamp: str = ""
    """Sizes and modification times of the weight files when the fingerprint was taken."""


@dataclass(frozen=True)
class Manifest:
    """What a build was made from, and a checksum of each of its files; parsed and checked in
    `from_json` only, so no other code meets a manifest of the wrong shape."""

    model: ModelInfo
    chunker: str
    built_at: str
    documents: dict[str, str]
    """Document id to content hash."""
    paths: dict[str, str]
    """Document id to its file, relative to the corpus folder."""
    vector_kind: str
    files: dict[str, str]
    """File name to sha256, every file of the build but the manifest (whose own checksum is in CURRENT)."""
    stamps: dict[str, tuple[int, int]] = field(default_factory=dict)
    """File name to (size, modification time in ns) as sealed: while both hold, opening need not
    read the file to trust its checksum."""
    keywords: str = ""
    """Signature of the tokenizer the stored keyword index was built with ("" when none was stored)."""
    question_probes: list[list[float]] | None = None
    """The model's vectors of the question model's probe texts, when the build exported one."""
    format: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "model": {
                "name": self.model.name,
                "fingerprint": self.model.fingerprint,
                "dim": self.model.dim,
                "max_tokens": self.model.max_tokens,
                "stamp": self.model.stamp,
            },
            "chunker": self.chunker,
            "built_at": self.built_at,
            "documents": {d: {"hash": h, "path": self.paths.get(d, "")} for d, h in self.documents.items()},
            "vector_index": {"kind": self.vector_kind},
            "files": self.files,
            "stamps": {f: list(v) for f, v in self.stamps.items()},
            "keywords": self.keywords,
            "question_model": None if self.question_probes is None else {"probes": self.question_probes},
        }

    @classmethod
    def from_json(cls, data: object) -> Manifest:
        if not isinstance(data, dict):
            raise IndexStateError("the index manifest is not a JSON object")
        fmt = data.get("format")
        if fmt != FORMAT_VERSION:
            raise StaleIndexError(f"index format {fmt} is not {FORMAT_VERSION}")
        try:
            model = data["model"]
            documents = data["documents"]
            files = data["files"]
            if not (isinstance(model, dict) and isinstance(documents, dict) and isinstance(files, dict)):
                raise TypeError("model, documents and files must be objects")
            if not files or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
                raise TypeError("files must map each file to its checksum")
            entries = {str(d): (str(e["hash"]), str(e.get("path", ""))) for d, e in documents.items()}
            stamps = {str(f): (int(v[0]), int(v[1])) for f, v in dict(data.get("stamps") or {}).items()}
            question = data.get("question_model")
            probes = None if question is None else [[float(x) for x in row] for row in question["probes"]]
            kind = str(data["vector_index"]["kind"])
            if kind not in ("flat", "hnsw"):
                raise ValueError(f"unknown vector index kind {kind!r}")
            return cls(
                model=ModelInfo(
                    str(model["name"]),
                    str(model["fingerprint"]),
                    int(model["dim"]),
                    int(model["max_tokens"]),
                    str(model.get("stamp", "")),
                ),
                chunker=str(data["chunker"]),
                built_at=str(data["built_at"]),
                documents={d: h for d, (h, _) in entries.items()},
                paths={d: p for d, (_, p) in entries.items()},
                vector_kind=kind,
                files=dict(files),
                stamps=stamps,
                keywords=str(data.get("keywords", "")),
                question_probes=probes,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IndexStateError(f"the index manifest is damaged ({exc.__class__.__name__}: {exc})") from None

    def incompatibility(self, embedder: Embedder) -> str:
        """Why nothing of this build can be reused with this model and chunker ("" if it can): the
        one place that decides it, for loading and for updating alike."""
        same_files = bool(self.model.stamp) and self.model.stamp == embedder.stamp()
        if self.model.dim != embedder.dim or not (same_files or self.model.fingerprint == embedder.fingerprint()):
            return f"it was built with another model ({self.model.name})"
        if self.chunker != CHUNKER_VERSION:
            return f"it was built by chunker {self.chunker}, not {CHUNKER_VERSION}"
        return ""


class ChunkTable(Sequence[ChunkRecord]):
    """Chunk rows as one integer array (memory-mapped from the build), read as ChunkRecords on
    demand: a million chunks open in milliseconds instead of a million objects being made."""

    COLUMNS = 7  # document, start, end, first paragraph, last paragraph, first sentence, sentences

    def __init__(self, table: np.ndarray, doc_ids: Sequence[str]) -> None:
        self.table = table
        self.doc_ids = list(doc_ids)

    @classmethod
    def of(cls, records: Sequence[ChunkRecord], doc_ids: Sequence[str]) -> ChunkTable:
        position = {d: i for i, d in enumerate(doc_ids)}
        table = np.asarray(
            [
                (
                    position[r.doc_id],
                    r.start,
                    r.end,
                    r.first_paragraph,
                    r.last_paragraph,
                    r.sentence_start,
                    r.sentence_count,
                )
                for r in records
            ],
            dtype=np.int64,
        ).reshape(-1, cls.COLUMNS)
        return cls(table, doc_ids)

    def __len__(self) -> int:
        return len(self.table)

    @overload
    def __getitem__(self, i: int) -> ChunkRecord: ...

    @overload
    def __getitem__(self, i: slice) -> list[ChunkRecord]: ...

    def __getitem__(self, i: int | slice) -> ChunkRecord | list[ChunkRecord]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        d, start, end, first, last, s_start, s_count = self.table[i].tolist()
        return ChunkRecord(self.doc_ids[d], start, end, first, last, s_start, s_count)


class Index:
    """A verified, loaded build: chunk records, sentence spans, vectors and their search indexes."""

    def __init__(
        self,
        folder: Path,
        manifest: Manifest,
        chunks: ChunkTable,
        sentences: np.ndarray,
        chunk_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        facts: np.ndarray,
        chunk_index: VectorIndex | None = None,
        sentence_index: VectorIndex | None = None,
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.chunks = chunks
        self.sentences = sentences
        self.sentence_paragraph = facts[:, 0]
        """The paragraph number of each sentence row."""
        self.sentence_flags = facts[:, 1]
        """What each sentence holds (`embeddings.corpus.facts` flags)."""
        self.sentence_canonical = facts[:, 2]
        """The first row with the same document and span: overlapping windows of a long paragraph
        repeat sentences, and a question considers each span once."""
        self.chunk_vectors = chunk_vectors
        self.sentence_vectors = sentence_vectors
        counts = chunks.table[:, 6] if len(chunks) else np.zeros(0, dtype=np.int64)
        self.sentence_chunk = np.repeat(np.arange(len(chunks), dtype=np.int64), counts)
        self.doc_chunks: dict[str, range] = {}
        if len(chunks):
            docs = chunks.table[:, 0]
            edges = np.flatnonzero(np.diff(docs)) + 1
            for lo, hi in zip(np.r_[0, edges], np.r_[edges, len(docs)], strict=True):
                self.doc_chunks[chunks.doc_ids[int(docs[lo])]] = range(int(lo), int(hi))
        self.chunk_index = chunk_index or VectorIndex.exact(chunk_vectors)
        self.sentence_index = sentence_index or VectorIndex.exact(sentence_vectors)

    @cached_property
    def chunk_keys(self) -> list[str]:
        """Text keys of the chunks, read only by a build (to reuse vectors)."""
        return _read_keys(self.folder / CHUNK_KEYS, len(self.chunks))

    @cached_property
    def sentence_keys(self) -> list[str]:
        return _read_keys(self.folder / SENTENCE_KEYS, len(self.sentences))

    def keyword_index(self, tokenizer: Tokenizer) -> KeywordIndex | None:
        """The stored keyword index, when it was built with this tokenizer (the same aliases)."""
        if not self.manifest.keywords or self.manifest.keywords != tokenizer.signature:
            return None
        try:
            return KeywordIndex.load(self.folder / KEYWORDS, tokenizer)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexStateError(f"the keyword index in {self.folder} is unreadable ({exc})") from None

    def question_encoder(self) -> question_model.OnnxEncoder | None:
        """The exported question model, checked against the probe vectors recorded at build time;
        None when the build has none. Raises QuestionModelError when it disagrees."""
        probes = self.manifest.question_probes
        if probes is None:
            return None
        encoder = question_model.OnnxEncoder(
            self.folder / question_model.ONNX_FILE,
            self.folder / question_model.TOKENIZER_FILE,
            self.manifest.model.max_tokens,
        )
        encoder.check(probes)
        return encoder

    def document_hashes(self) -> dict[str, str]:
        return dict(self.manifest.documents)


def _live_build(index_dir: Path) -> tuple[Path, str]:
    """The live build folder and the checksum its manifest must have, from CURRENT."""
    pointer = index_dir / CURRENT
    if not pointer.exists():
        raise IndexStateError(f"no index in {index_dir} yet")
    try:
        lines = pointer.read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexStateError(f"{pointer} is unreadable ({exc})") from None
    name, digest = [*lines, "", ""][:2]
    if len(lines) == 1 and BUILD_NAME.fullmatch(name):
        raise StaleIndexError("the index was built by an earlier version of Verbatim")
    if not BUILD_NAME.fullmatch(name) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise IndexStateError(f"{pointer} is damaged (it should name a build and its manifest's checksum)")
    folder = index_dir / name
    if not folder.is_dir():
        raise IndexStateError(f"{pointer} names {name}, which is missing")
    return folder, digest


def load_index(index_dir: Path, verify: bool = True, *, full: bool = False) -> Index:
    """Load the live build, checking the manifest against CURRENT and every file against the
    manifest; raise IndexStateError naming the first thing that is off.

    A file whose size and modification time are still those recorded when the build was sealed is
    not read again (hashing a million vectors would take seconds at every open); any other file is
    hashed. `full` hashes every file regardless (`verbatim index --verify`)."""
    folder, digest = _live_build(index_dir)
    try:
        raw = (folder / MANIFEST).read_bytes()
    except OSError as exc:
        raise IndexStateError(f"the index manifest in {folder} is unreadable ({exc.strerror or exc})") from None
    if hashlib.sha256(raw).hexdigest() != digest:
        try:
            Manifest.from_json(json.loads(raw))
        except (ValueError, UnicodeDecodeError):
            raise IndexStateError(f"the index manifest in {folder} is not valid JSON") from None
        raise IndexStateError("the index manifest does not match its checksum (damaged or edited)")
    try:
        manifest = Manifest.from_json(json.loads(raw))
    except (ValueError, UnicodeDecodeError):
        raise IndexStateError(f"the index manifest in {folder} is not valid JSON") from None
    if verify:
        for name, expected in manifest.files.items():
            path = folder / name
            if not path.is_file():
                raise IndexStateError(f"index file {name} is missing")
            if not full and manifest.stamps.get(name) == _stamp(path):
                continue
            if _file_sha256(path) != expected:
                raise IndexStateError(f"index file {name} does not match its checksum (damaged)")
    try:
        # Mapped, not read: pages come in as questions touch them. np.asarray drops the memmap
        # subclass, whose per-item Python overhead would dominate a question.
        table, sentences, chunk_vectors, sentence_vectors, facts = (
            np.asarray(np.load(folder / name, mmap_mode="r"))
            for name in (CHUNKS, SENTENCES, CHUNK_VECTORS, SENTENCE_VECTORS, SENTENCE_FACTS)
        )
    except (OSError, ValueError) as exc:
        raise IndexStateError(f"index arrays in {folder} are unreadable ({exc})") from None
    chunks = ChunkTable(table, list(manifest.documents))
    _check_rows(folder, chunks, sentences, chunk_vectors, sentence_vectors, facts, manifest.model.dim)
    chunk_index = sentence_index = None
    if manifest.vector_kind == "hnsw":
        try:
            chunk_index = VectorIndex.load(chunk_vectors, folder / CHUNK_FAISS, np.load(folder / CHUNK_GRAPH_ROWS))
            sentence_index = VectorIndex.load(
                sentence_vectors, folder / SENTENCE_FAISS, np.load(folder / SENTENCE_GRAPH_ROWS)
            )
        except (OSError, ValueError, RuntimeError) as exc:
            raise IndexStateError(f"the vector graphs in {folder} are unreadable ({exc})") from None
    return Index(
        folder, manifest, chunks, sentences, chunk_vectors, sentence_vectors, facts, chunk_index, sentence_index
    )


def _check_rows(
    folder: Path,
    chunks: ChunkTable,
    sentences: np.ndarray,
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    facts: np.ndarray,
    dim: int,
) -> None:
    """Shapes and cross-references, checked with array operations so a million rows cost nothing."""
    problems = []
    table = chunks.table
    if table.ndim != 2 or table.shape[1] != ChunkTable.COLUMNS:
        problems.append(f"chunk rows of shape {table.shape}")
    elif len(table):
        starts, counts = table[:, 5], table[:, 6]
        expected_starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        if (counts < 0).any() or not np.array_equal(starts, expected_starts) or counts.sum() != len(sentences):
            problems.append("chunks do not point at consecutive sentences")
        docs = table[:, 0]
        if docs.min() < 0 or docs.max() >= len(chunks.doc_ids) or (np.diff(docs) < 0).any():
            problems.append("chunks name documents the manifest does not list, or out of order")
    if sentences.ndim != 2 or sentences.shape[1:] != (2,):
        problems.append(f"sentence spans of shape {sentences.shape}")
    if chunk_vectors.shape != (len(table), dim):
        problems.append(f"{len(table)} chunks but chunk vectors of shape {chunk_vectors.shape}")
    if sentence_vectors.shape != (len(sentences), dim):
        problems.append(f"{len(sentences)} sentences but sentence vectors of shape {sentence_vectors.shape}")
    if facts.shape != (len(sentences), 3):
        problems.append(f"{len(sentences)} sentences but sentence facts of shape {facts.shape}")
    elif len(facts) and not ((facts[:, 2] >= 0) & (facts[:, 2] <= np.arange(len(facts)))).all():
        problems.append("sentence facts name rows that do not precede them")
    if problems:
        raise IndexStateError(f"index in {folder} is inconsistent: {'; '.join(problems)}")


def _read_keys(path: Path, count: int) -> list[str]:
    try:
        keys = np.load(path)
    except (OSError, ValueError) as exc:
        raise IndexStateError(f"{path.name} in {path.parent} is unreadable ({exc})") from None
    if len(keys) != count:
        raise IndexStateError(f"{path.name} in {path.parent} is inconsistent: {len(keys)} keys for {count} rows")
    return [k.decode("ascii") for k in keys.tolist()]


def staleness(index: Index, corpus: Corpus, embedder: Embedder) -> list[str]:
    """Reasons the index no longer describes this corpus with this model; empty when it does."""
    reasons = [r for r in [index.manifest.incompatibility(embedder)] if r]
    added, changed, removed = _diff(index.document_hashes(), corpus.documents.values())
    for label, ids in (("added", added), ("changed", changed), ("removed", removed)):
        if ids:
            reasons.append(f"{len(ids)} document(s) {label} ({', '.join(ids[:3])}{'…' if len(ids) > 3 else ''})")
    return reasons


def _diff(old: dict[str, str], documents: Iterable[Document]) -> tuple[list[str], list[str], list[str]]:
    current = {d.doc_id: d.content_hash for d in documents}
    added = sorted(set(current) - set(old))
    removed = sorted(set(old) - set(current))
    changed = sorted(d for d in set(current) & set(old) if current[d] != old[d])
    return added, changed, removed


def ensure_fresh(index: Index, corpus: Corpus, embedder: Embedder) -> None:
    reasons = staleness(index, corpus, embedder)
    if reasons:
        raise StaleIndexError("the index is out of date: " + "; ".join(reasons))


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
    old: Index | None = None
    try:
        old = load_index(index_dir, full=verify)
        if verify:
            old.question_encoder()
    except question_model.QuestionModelError as exc:
        report.rebuilt_from_scratch = str(exc)
        log.info("ignoring the existing index: %s", exc)
        old = None
    except IndexStateError as exc:
        if (index_dir / CURRENT).exists():
            report.rebuilt_from_scratch = exc.reason
            if not isinstance(exc, StaleIndexError):
                # The caller says it (the summary's "full rebuild: ...", or the engine's notice).
                log.info("ignoring the existing index: %s", exc.reason)
    if old is not None:
        why = old.manifest.incompatibility(embedder)
        if why:
            report.rebuilt_from_scratch = why
            old = None
    old_hashes = old.document_hashes() if old else {}
    report.added, report.changed, report.removed = _diff(old_hashes, corpus.documents.values())
    keywords_current = tokenizer is None or (old is not None and old.manifest.keywords == tokenizer.signature)
    if old is not None and keywords_current and not (report.added or report.changed or report.removed):
        report.chunks, report.sentences = len(old.chunks), len(old.sentences)
        report.up_to_date = True
        report.seconds = time.perf_counter() - started
        return report

    chunks: list[ChunkRecord] = []
    spans: list[tuple[int, int]] = []
    facts: list[np.ndarray] = []
    passages: list[Passage] = []
    documents = list(corpus.documents.values())
    for doc in over(documents, len(documents), "chunking", "doc", enabled=progress and len(documents) > 1):
        reusable = old is not None and old_hashes.get(doc.doc_id) == doc.content_hash
        pieces: list[tuple[int, int, int, int, list[tuple[int, int]]]]
        if reusable and old is not None:
            pieces = [
                (
                    rec.start,
                    rec.end,
                    rec.first_paragraph,
                    rec.last_paragraph,
                    [(int(old.sentences[j][0]), int(old.sentences[j][1])) for j in rec.sentence_ids],
                )
                for rec in (old.chunks[i] for i in old.doc_chunks.get(doc.doc_id, []))
            ]
        else:
            limit = max(embedder.max_tokens // 2, embedder.max_tokens - embedder.count_tokens(context_header(doc)))
            pieces = [
                (ch.start, ch.end, ch.first_paragraph, ch.last_paragraph, list(ch.sentences))
                for ch in chunk_document(doc.text, embedder.count_tokens, limit)
            ]
        first_row = len(spans)
        for start, end, first, last, sentences in pieces:
            chunks.append(ChunkRecord(doc.doc_id, start, end, first, last, len(spans), len(sentences)))
            spans.extend(sentences)
            passages.append(Passage.of(doc, start, end, sentences))
        facts.append(_document_facts(doc, spans[first_row:], first_row, old if reusable else None))

    cache: dict[str, np.ndarray] = {}
    if old is not None:
        for key, row in zip(old.chunk_keys, old.chunk_vectors, strict=True):
            cache[key] = row
        for key, row in zip(old.sentence_keys, old.sentence_vectors, strict=True):
            cache[key] = row
    missing = {p.key: p for p in passages if p.key not in cache or any(k not in cache for k in p.sentence_keys)}
    report.embedded = sum(1 + len(p.spans) for p in missing.values())
    report.reused = sum(1 + len(p.spans) for p in passages) - report.embedded
    if missing:
        log.info("embedding %d new passages", len(missing))
        _embed(embedder, list(missing.values()), cache, progress)
    dim = embedder.dim
    chunk_keys = [p.key for p in passages]
    sentence_keys = [k for p in passages for k in p.sentence_keys]
    chunk_vectors = np.stack([cache[k] for k in chunk_keys]) if chunk_keys else np.zeros((0, dim), np.float32)
    sentence_vectors = np.stack([cache[k] for k in sentence_keys]) if sentence_keys else np.zeros((0, dim), np.float32)
    report.chunks, report.sentences = len(chunks), len(spans)

    kind = vector_kind or ("hnsw" if len(spans) >= HNSW_THRESHOLD else "flat")
    manifest = Manifest(
        model=ModelInfo(embedder.name, embedder.fingerprint(), dim, embedder.max_tokens, embedder.stamp()),
        chunker=CHUNKER_VERSION,
        built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        documents={d.doc_id: d.content_hash for d in corpus.documents.values()},
        paths={d.doc_id: d.path for d in corpus.documents.values()},
        vector_kind=kind,
        files={},
        keywords=tokenizer.signature if tokenizer else "",
    )
    keywords = None
    if tokenizer is not None:
        keywords = KeywordIndex.build(
            keyword_texts(corpus, chunks), tokenizer, sentence_texts(corpus, chunks, spans), progress=progress
        )
    chunk_vectors = chunk_vectors.astype(np.float32)
    sentence_vectors = sentence_vectors.astype(np.float32)
    graphs = None
    if kind == "hnsw":
        graphs = (
            _graph(chunk_vectors, chunk_keys, old.chunk_index if old else None, old.chunk_keys if old else None),
            _graph(
                sentence_vectors,
                sentence_keys,
                old.sentence_index if old else None,
                old.sentence_keys if old else None,
            ),
        )
    build = Build(
        ChunkTable.of(chunks, list(manifest.documents)),
        np.asarray(spans, dtype=np.int64).reshape(-1, 2),
        np.concatenate(facts) if facts else np.zeros((0, 3), dtype=np.int64),
        chunk_keys,
        sentence_keys,
        chunk_vectors,
        sentence_vectors,
        graphs,
        keywords,
    )
    _write_build(index_dir, manifest, build, lambda folder: _question_model(folder, embedder, old))
    report.seconds = time.perf_counter() - started
    return report


EMBED_BATCH = 512


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
        key = _text_key(text)
        # A sentence's vector depends on the passage it was read in: it is keyed by both.
        return cls(text, spans, key, tuple(_text_key(f"{key}:{s}:{e}") for s, e in spans))


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


def keyword_texts(corpus: Corpus, chunks: Iterable[ChunkRecord]) -> list[str]:
    """What the keyword index is built from: each chunk's text as the document has it (no title)."""
    return [corpus.documents[c.doc_id].text[c.start : c.end] for c in chunks]


def sentence_texts(
    corpus: Corpus, chunks: Iterable[ChunkRecord], spans: Sequence[tuple[int, int]] | np.ndarray
) -> list[str]:
    """Each sentence row's text, in row order: what the keyword index's sentence tokens are made of."""
    return [
        corpus.documents[c.doc_id].text[int(spans[row][0]) : int(spans[row][1])]
        for c in chunks
        for row in c.sentence_ids
    ]


def _document_facts(doc: Document, spans: Sequence[tuple[int, int]], first_row: int, old: Index | None) -> np.ndarray:
    """Paragraph, flags and canonical row of one document's sentence rows (which start at
    `first_row`): copied from the previous build when the document is unchanged."""
    if old is not None:
        rows = old.doc_chunks.get(doc.doc_id, range(0))
        if len(rows):
            lo = int(old.chunks.table[rows.start, 5])
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


def _graph(vectors: np.ndarray, keys: list[str], old: VectorIndex | None, old_keys: list[str] | None) -> VectorIndex:
    """The previous build's graph with this build's rows (matched by text key), or a new graph."""
    if old is None or old.graph is None or old_keys is None:
        return VectorIndex.with_graph(vectors)
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
    graphs: tuple[VectorIndex, VectorIndex] | None
    keywords: KeywordIndex | None


def _write_build(
    index_dir: Path,
    manifest: Manifest,
    build: Build,
    add_question_model: Callable[[Path], list[list[float]] | None] = lambda folder: None,
) -> None:
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    name = f"build-{stamp}-{secrets.token_hex(3)}"
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
            files={f: _file_sha256(tmp / f) for f in files},
            stamps={f: _stamp(tmp / f) for f in files},
            question_probes=probes,
        )
        raw = json.dumps(sealed.to_json(), indent=1).encode("utf-8")
        (tmp / MANIFEST).write_bytes(raw)
        _fsync(tmp / MANIFEST)
        os.replace(tmp, index_dir / name)
        # CURRENT names the build and carries its manifest's checksum: every file is then
        # checked against something no other file can change.
        pointer_tmp = index_dir / f".{CURRENT}.{secrets.token_hex(3)}"
        pointer_tmp.write_text(f"{name}\n{hashlib.sha256(raw).hexdigest()}\n", encoding="utf-8")
        _fsync(pointer_tmp)
        os.replace(pointer_tmp, index_dir / CURRENT)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove_old_builds(index_dir, keep=name)


@contextmanager
def build_lock(index_dir: Path, on_wait: Callable[[str], None], timeout: float = BUILD_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the index folder's lock file for one build; wait (saying who holds it) while another
    process or thread builds. The lock goes with the process: a crashed build never leaves it held."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another build"
            on_wait(f"{holder} is building the index in {index_dir}; waiting for it to finish")
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise IndexStateError(
                            f"{holder} has held the index in {index_dir} for over {timeout:.0f} s; "
                            "if that build is stuck, stop it"
                        ) from None
                    time.sleep(LOCK_POLL_SECONDS)
        os.ftruncate(fd, 0)
        stamp = dt.datetime.now().isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} (since {stamp})".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_old_builds(index_dir: Path, keep: str) -> None:
    """Old builds and abandoned temporaries; a reader that still holds an old build keeps its data
    because the vectors were read into memory at load."""
    for entry in index_dir.iterdir():
        if entry.name in (keep, CURRENT):
            continue
        if entry.is_dir() and (entry.name.startswith("build-") or entry.name.startswith(".build-")):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(f".{CURRENT}."):
            entry.unlink(missing_ok=True)
