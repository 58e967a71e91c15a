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

import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.corpus.chunking import CHUNKER_VERSION, ParagraphSpan, chunk_document
from embeddings.corpus.documents import Corpus, Document
from embeddings.errors import IndexStateError, StaleIndexError
from embeddings.index.embedder import Embedder
from embeddings.index.vectors import HNSW_THRESHOLD, VectorIndex

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
CHUNKS = "chunks.json"
CHUNK_VECTORS = "chunk_vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
CHUNK_FAISS = "chunks.faiss"
SENTENCE_FAISS = "sentences.faiss"


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


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
    rebuilt_from_scratch: str = ""
    """Why nothing could be reused, when that happened (model or chunker changed, index broken)."""

    def summary(self) -> str:
        if self.up_to_date:
            return f"index is up to date: {self.documents} documents, {self.chunks} chunks ({self.seconds:.1f} s)"
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


class Index:
    """A verified, loaded build: chunk records, sentence spans, vectors and FAISS indexes."""

    def __init__(
        self,
        folder: Path,
        manifest: dict[str, Any],
        chunks: list[ChunkRecord],
        sentences: np.ndarray,
        sentence_keys: list[str],
        chunk_keys: list[str],
        chunk_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.chunks = chunks
        self.sentences = sentences
        self.sentence_keys = sentence_keys
        self.chunk_keys = chunk_keys
        self.chunk_vectors = chunk_vectors
        self.sentence_vectors = sentence_vectors
        self.sentence_chunk = np.zeros(len(sentences), dtype=np.int64)
        self.doc_chunks: dict[str, list[int]] = {}
        for i, rec in enumerate(chunks):
            self.sentence_chunk[rec.sentence_start : rec.sentence_start + rec.sentence_count] = i
            self.doc_chunks.setdefault(rec.doc_id, []).append(i)
        kind = manifest["vector_index"]["kind"]
        if kind == "hnsw":
            self.chunk_index = VectorIndex.load(folder / CHUNK_FAISS, kind)
            self.sentence_index = VectorIndex.load(folder / SENTENCE_FAISS, kind)
        else:
            self.chunk_index = VectorIndex.build(chunk_vectors, kind)
            self.sentence_index = VectorIndex.build(sentence_vectors, kind)

    def document_hashes(self) -> dict[str, str]:
        return {doc_id: info["hash"] for doc_id, info in self.manifest["documents"].items()}


def _live_folder(index_dir: Path) -> Path:
    pointer = index_dir / CURRENT
    if not pointer.exists():
        raise IndexStateError(f"no index in {index_dir} yet: run `verbatim index`")
    name = pointer.read_text(encoding="utf-8").strip()
    if not name or "/" in name or name.startswith("."):
        raise IndexStateError(f"{pointer} is damaged (names {name!r}): run `verbatim index`")
    folder = index_dir / name
    if not folder.is_dir():
        raise IndexStateError(f"{pointer} names {name}, which is missing: run `verbatim index`")
    return folder


def load_index(index_dir: Path, verify: bool = True) -> Index:
    """Load the live build, checking every file against the manifest; raise if anything is off."""
    folder = _live_folder(index_dir)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexStateError(f"index manifest in {folder} is unreadable ({exc}): run `verbatim index`") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise StaleIndexError(f"index format {manifest.get('format')} is not {FORMAT_VERSION}: run `verbatim index`")
    if verify:
        for name, expected in manifest.get("files", {}).items():
            path = folder / name
            if not path.exists():
                raise IndexStateError(f"index file {name} is missing: run `verbatim index`")
            if _file_sha256(path) != expected:
                raise IndexStateError(f"index file {name} does not match its checksum (damaged): run `verbatim index`")
    try:
        data = json.loads((folder / CHUNKS).read_text(encoding="utf-8"))
        chunks = [ChunkRecord(*row) for row in data["chunks"]]
        sentences = np.asarray(data["sentences"], dtype=np.int64).reshape(-1, 2)
        chunk_vectors = np.load(folder / CHUNK_VECTORS, mmap_mode="r")
        sentence_vectors = np.load(folder / SENTENCE_VECTORS, mmap_mode="r")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexStateError(f"index in {folder} is unreadable ({exc}): run `verbatim index`") from exc
    dim = manifest["model"]["dim"]
    problems = []
    if chunk_vectors.shape != (len(chunks), dim):
        problems.append(f"{len(chunks)} chunks but chunk vectors of shape {chunk_vectors.shape}")
    if sentence_vectors.shape != (len(sentences), dim):
        problems.append(f"{len(sentences)} sentences but sentence vectors of shape {sentence_vectors.shape}")
    if len(data["chunk_keys"]) != len(chunks) or len(data["sentence_keys"]) != len(sentences):
        problems.append("text keys do not match the chunks")
    if problems:
        raise IndexStateError(f"index in {folder} is inconsistent: {'; '.join(problems)}: run `verbatim index`")
    return Index(
        folder,
        manifest,
        chunks,
        sentences,
        data["sentence_keys"],
        data["chunk_keys"],
        np.asarray(chunk_vectors),
        np.asarray(sentence_vectors),
    )


def staleness(index: Index, corpus: Corpus, embedder: Embedder) -> list[str]:
    """Reasons the index no longer describes this corpus with this model; empty when it does."""
    reasons = []
    model = index.manifest["model"]
    if model["fingerprint"] != embedder.fingerprint() or model["dim"] != embedder.dim:
        reasons.append(f"it was built with another model ({model['name']})")
    if index.manifest["chunker"] != CHUNKER_VERSION:
        reasons.append(f"it was built by chunker {index.manifest['chunker']}, not {CHUNKER_VERSION}")
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
        raise StaleIndexError("the index is out of date: " + "; ".join(reasons) + ": run `verbatim index`")


def update_index(
    index_dir: Path, corpus: Corpus, embedder: Embedder, *, progress: bool = False, vector_kind: str | None = None
) -> UpdateReport:
    """Bring the index in line with the corpus, embedding only text it has not embedded before."""
    started = time.perf_counter()
    report = UpdateReport(documents=len(corpus))
    old: Index | None = None
    try:
        old = load_index(index_dir)
    except StaleIndexError as exc:
        report.rebuilt_from_scratch = str(exc)
    except IndexStateError as exc:
        if (index_dir / CURRENT).exists():
            report.rebuilt_from_scratch = str(exc)
            log.warning("ignoring the existing index: %s", exc)
    if old is not None:
        model = old.manifest["model"]
        if model["fingerprint"] != embedder.fingerprint() or model["dim"] != embedder.dim:
            report.rebuilt_from_scratch = f"the model changed (was {model['name']})"
            old = None
        elif old.manifest["chunker"] != CHUNKER_VERSION:
            report.rebuilt_from_scratch = f"the chunker changed (was {old.manifest['chunker']})"
            old = None
    old_hashes = old.document_hashes() if old else {}
    report.added, report.changed, report.removed = _diff(old_hashes, corpus.documents.values())
    if old is not None and not (report.added or report.changed or report.removed):
        report.chunks, report.sentences = len(old.chunks), len(old.sentences)
        report.up_to_date = True
        report.seconds = time.perf_counter() - started
        return report

    chunks: list[ChunkRecord] = []
    spans: list[tuple[int, int]] = []
    chunk_texts: list[str] = []
    sentence_texts: list[str] = []
    for doc in corpus.documents.values():
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
        for piece in pieces:
            _append(chunks, spans, chunk_texts, sentence_texts, doc, *piece)

    cache: dict[str, np.ndarray] = {}
    if old is not None:
        for key, row in zip(old.chunk_keys, old.chunk_vectors, strict=True):
            cache[key] = row
        for key, row in zip(old.sentence_keys, old.sentence_vectors, strict=True):
            cache[key] = row
    chunk_keys = [_text_key(t) for t in chunk_texts]
    sentence_keys = [_text_key(t) for t in sentence_texts]
    missing: dict[str, str] = {}
    for key, text in zip(chunk_keys + sentence_keys, chunk_texts + sentence_texts, strict=True):
        if key not in cache:
            missing[key] = text
    report.embedded = len(missing)
    report.reused = len(chunk_keys) + len(sentence_keys) - len(missing)
    if missing:
        log.info("embedding %d new texts", len(missing))
        vectors = embedder.encode(list(missing.values()), progress=progress)
        for key, row in zip(missing, vectors, strict=True):
            cache[key] = row
    dim = embedder.dim
    chunk_vectors = np.stack([cache[k] for k in chunk_keys]) if chunk_keys else np.zeros((0, dim), np.float32)
    sentence_vectors = np.stack([cache[k] for k in sentence_keys]) if sentence_keys else np.zeros((0, dim), np.float32)
    report.chunks, report.sentences = len(chunks), len(spans)

    manifest: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "model": {
            "name": embedder.name,
            "fingerprint": embedder.fingerprint(),
            "dim": dim,
            "max_tokens": embedder.max_tokens,
        },
        "chunker": CHUNKER_VERSION,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "documents": {d.doc_id: {"hash": d.content_hash, "path": d.path} for d in corpus.documents.values()},
        "counts": {"documents": len(corpus), "chunks": len(chunks), "sentences": len(spans)},
        "vector_index": {"kind": vector_kind or ("hnsw" if len(spans) >= HNSW_THRESHOLD else "flat")},
    }
    _write_build(
        index_dir,
        manifest,
        chunks,
        spans,
        chunk_keys,
        sentence_keys,
        chunk_vectors.astype(np.float32),
        sentence_vectors.astype(np.float32),
    )
    report.seconds = time.perf_counter() - started
    return report


def context_header(doc: Document) -> str:
    """Prefixed to a chunk before embedding: a paragraph rarely names its document's subject, and
    without it the heading of the right document outranks the paragraph that answers."""
    return f"{doc.title}\n"


def _append(
    chunks: list[ChunkRecord],
    spans: list[tuple[int, int]],
    chunk_texts: list[str],
    sentence_texts: list[str],
    doc: Document,
    start: int,
    end: int,
    first: int,
    last: int,
    sentences: list[tuple[int, int]],
) -> None:
    chunks.append(ChunkRecord(doc.doc_id, start, end, first, last, len(spans), len(sentences)))
    chunk_texts.append(context_header(doc) + doc.text[start:end])
    for s, e in sentences:
        spans.append((s, e))
        sentence_texts.append(doc.text[s:e])


def _write_build(
    index_dir: Path,
    manifest: dict[str, Any],
    chunks: list[ChunkRecord],
    spans: list[tuple[int, int]],
    chunk_keys: list[str],
    sentence_keys: list[str],
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
) -> None:
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    name = f"build-{stamp}-{secrets.token_hex(3)}"
    tmp = index_dir / f".{name}.tmp"
    tmp.mkdir()
    try:
        payload = {
            "chunks": [
                [c.doc_id, c.start, c.end, c.first_paragraph, c.last_paragraph, c.sentence_start, c.sentence_count]
                for c in chunks
            ],
            "sentences": [list(s) for s in spans],
            "chunk_keys": chunk_keys,
            "sentence_keys": sentence_keys,
        }
        (tmp / CHUNKS).write_text(json.dumps(payload, separators=(",", ":")), encoding="utf-8")
        np.save(tmp / CHUNK_VECTORS, chunk_vectors)
        np.save(tmp / SENTENCE_VECTORS, sentence_vectors)
        files = [CHUNKS, CHUNK_VECTORS, SENTENCE_VECTORS]
        if manifest["vector_index"]["kind"] == "hnsw":
            VectorIndex.build(chunk_vectors, "hnsw").save(tmp / CHUNK_FAISS)
            VectorIndex.build(sentence_vectors, "hnsw").save(tmp / SENTENCE_FAISS)
            files += [CHUNK_FAISS, SENTENCE_FAISS]
        manifest["files"] = {f: _file_sha256(tmp / f) for f in files}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        for f in [*files, MANIFEST]:
            _fsync(tmp / f)
        os.replace(tmp, index_dir / name)
        pointer_tmp = index_dir / f".{CURRENT}.{secrets.token_hex(3)}"
        pointer_tmp.write_text(name + "\n", encoding="utf-8")
        _fsync(pointer_tmp)
        os.replace(pointer_tmp, index_dir / CURRENT)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove_old_builds(index_dir, keep=name)


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
