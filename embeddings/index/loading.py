"""Opening a build: the live one named in CURRENT, every file checked against the manifest (by its
recorded size and time, or by hash), the rows and vectors memory-mapped, and whether it still
describes the corpus and the model.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

import numpy as np

from embeddings.corpus.documents import Corpus, Document
from embeddings.errors import IndexStateError, StaleIndexError
from embeddings.index import question_model
from embeddings.index.embedder import Embedder
from embeddings.index.keywords import KeywordIndex, Tokenizer
from embeddings.index.layout import (
    BUILD_NAME,
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
    ChunkTable,
    Manifest,
    file_sha256,
    stamp,
)
from embeddings.index.vectors import ExactVectors, GraphVectors, VectorIndex


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
        counts = chunks.table[:, ChunkTable.SENTENCES] if len(chunks) else np.zeros(0, dtype=np.int64)
        self.sentence_chunk = np.repeat(np.arange(len(chunks), dtype=np.int64), counts)
        self.doc_chunks: dict[str, range] = {}
        if len(chunks):
            docs = chunks.table[:, ChunkTable.DOC]
            edges = np.flatnonzero(np.diff(docs)) + 1
            for lo, hi in zip(np.r_[0, edges], np.r_[edges, len(docs)], strict=True):
                self.doc_chunks[chunks.doc_ids[int(docs[lo])]] = range(int(lo), int(hi))
        self.chunk_index: VectorIndex = chunk_index or ExactVectors(chunk_vectors)
        self.sentence_index: VectorIndex = sentence_index or ExactVectors(sentence_vectors)

    def span(self, row: int) -> tuple[int, int]:
        """Where sentence `row` lies in its document's text: quote it as `text[start:end]`."""
        start, end = self.sentences[row]
        return int(start), int(end)

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


def live_build(index_dir: Path) -> tuple[Path, str]:
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
    folder, digest = live_build(index_dir)
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
            if not full and manifest.stamps.get(name) == stamp(path):
                continue
            if file_sha256(path) != expected:
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
            chunk_index = GraphVectors.load(chunk_vectors, folder / CHUNK_FAISS, np.load(folder / CHUNK_GRAPH_ROWS))
            sentence_index = GraphVectors.load(
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
        starts, counts = table[:, ChunkTable.FIRST_SENTENCE], table[:, ChunkTable.SENTENCES]
        expected_starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        if (counts < 0).any() or not np.array_equal(starts, expected_starts) or counts.sum() != len(sentences):
            problems.append("chunks do not point at consecutive sentences")
        docs = table[:, ChunkTable.DOC]
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
    added, changed, removed = document_changes(index.document_hashes(), corpus.documents.values())
    for label, ids in (("added", added), ("changed", changed), ("removed", removed)):
        if ids:
            reasons.append(f"{len(ids)} document(s) {label} ({', '.join(ids[:3])}{'…' if len(ids) > 3 else ''})")
    return reasons


def document_changes(old: dict[str, str], documents: Iterable[Document]) -> tuple[list[str], list[str], list[str]]:
    current = {d.doc_id: d.content_hash for d in documents}
    added = sorted(set(current) - set(old))
    removed = sorted(set(old) - set(current))
    changed = sorted(d for d in set(current) & set(old) if current[d] != old[d])
    return added, changed, removed


def ensure_fresh(index: Index, corpus: Corpus, embedder: Embedder) -> None:
    reasons = staleness(index, corpus, embedder)
    if reasons:
        raise StaleIndexError("the index is out of date: " + "; ".join(reasons))
