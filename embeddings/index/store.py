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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from embeddings.corpus.chunking import CHUNKER_VERSION, ParagraphSpan, chunk_document
from embeddings.corpus.documents import Corpus, Document
from embeddings.errors import IndexStateError, StaleIndexError
from embeddings.index.embedder import Embedder
from embeddings.index.vectors import HNSW_THRESHOLD, VectorIndex

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
CHUNKS = "chunks.json"
CHUNK_VECTORS = "chunk_vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
CHUNK_FAISS = "chunks.faiss"
LOCK_FILE = ".lock"
BUILD_LOCK_TIMEOUT = 3600.0
"""How long a build waits for another one before it gives up (an hour: a large corpus takes long)."""
LOCK_POLL_SECONDS = 0.2
BUILD_NAME = re.compile(r"build-\d{8}T\d{6}-[0-9a-f]{6}")
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


@dataclass(frozen=True)
class ModelInfo:
    name: str
    fingerprint: str
    dim: int
    max_tokens: int


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
    format: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "model": {
                "name": self.model.name,
                "fingerprint": self.model.fingerprint,
                "dim": self.model.dim,
                "max_tokens": self.model.max_tokens,
            },
            "chunker": self.chunker,
            "built_at": self.built_at,
            "documents": {d: {"hash": h, "path": self.paths.get(d, "")} for d, h in self.documents.items()},
            "vector_index": {"kind": self.vector_kind},
            "files": self.files,
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
            kind = str(data["vector_index"]["kind"])
            if kind not in ("flat", "hnsw"):
                raise ValueError(f"unknown vector index kind {kind!r}")
            return cls(
                model=ModelInfo(
                    str(model["name"]), str(model["fingerprint"]), int(model["dim"]), int(model["max_tokens"])
                ),
                chunker=str(data["chunker"]),
                built_at=str(data["built_at"]),
                documents={d: h for d, (h, _) in entries.items()},
                paths={d: p for d, (_, p) in entries.items()},
                vector_kind=kind,
                files=dict(files),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IndexStateError(f"the index manifest is damaged ({exc.__class__.__name__}: {exc})") from None

    def incompatibility(self, embedder: Embedder) -> str:
        """Why nothing of this build can be reused with this model and chunker ("" if it can): the
        one place that decides it, for loading and for updating alike."""
        if self.model.fingerprint != embedder.fingerprint() or self.model.dim != embedder.dim:
            return f"it was built with another model ({self.model.name})"
        if self.chunker != CHUNKER_VERSION:
            return f"it was built by chunker {self.chunker}, not {CHUNKER_VERSION}"
        return ""


class Index:
    """A verified, loaded build: chunk records, sentence spans, vectors and FAISS indexes."""

    def __init__(
        self,
        folder: Path,
        manifest: Manifest,
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
        kind = manifest.vector_kind
        if kind == "hnsw":
            self.chunk_index = VectorIndex.load(folder / CHUNK_FAISS, kind)
            self.sentence_index = VectorIndex.load(folder / SENTENCE_FAISS, kind)
        else:
            self.chunk_index = VectorIndex.build(chunk_vectors, kind)
            self.sentence_index = VectorIndex.build(sentence_vectors, kind)

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


def load_index(index_dir: Path, verify: bool = True) -> Index:
    """Load the live build, checking the manifest against CURRENT and every file against the
    manifest; raise IndexStateError naming the first thing that is off."""
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
            if _file_sha256(path) != expected:
                raise IndexStateError(f"index file {name} does not match its checksum (damaged)")
    rows = _read_rows(folder / CHUNKS)
    try:
        chunk_vectors = np.load(folder / CHUNK_VECTORS, mmap_mode="r")
        sentence_vectors = np.load(folder / SENTENCE_VECTORS, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise IndexStateError(f"index vectors in {folder} are unreadable ({exc})") from None
    dim = manifest.model.dim
    problems = []
    if chunk_vectors.shape != (len(rows.chunks), dim):
        problems.append(f"{len(rows.chunks)} chunks but chunk vectors of shape {chunk_vectors.shape}")
    if sentence_vectors.shape != (len(rows.sentences), dim):
        problems.append(f"{len(rows.sentences)} sentences but sentence vectors of shape {sentence_vectors.shape}")
    if problems:
        raise IndexStateError(f"index in {folder} is inconsistent: {'; '.join(problems)}")
    return Index(
        folder,
        manifest,
        rows.chunks,
        rows.sentences,
        rows.sentence_keys,
        rows.chunk_keys,
        np.asarray(chunk_vectors),
        np.asarray(sentence_vectors),
    )


@dataclass(frozen=True)
class Rows:
    """The contents of chunks.json, parsed and checked in one place."""

    chunks: list[ChunkRecord]
    sentences: np.ndarray
    chunk_keys: list[str]
    sentence_keys: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "chunks": [
                [c.doc_id, c.start, c.end, c.first_paragraph, c.last_paragraph, c.sentence_start, c.sentence_count]
                for c in self.chunks
            ],
            "sentences": self.sentences.tolist(),
            "chunk_keys": self.chunk_keys,
            "sentence_keys": self.sentence_keys,
        }


def _read_rows(path: Path) -> Rows:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        chunks = [
            ChunkRecord(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]))
            for r in data["chunks"]
        ]
        sentences = np.asarray(data["sentences"], dtype=np.int64).reshape(-1, 2)
        chunk_keys = [str(k) for k in data["chunk_keys"]]
        sentence_keys = [str(k) for k in data["sentence_keys"]]
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise IndexStateError(f"{path.name} in {path.parent} is unreadable ({exc.__class__.__name__}: {exc})") from None
    if len(chunk_keys) != len(chunks) or len(sentence_keys) != len(sentences):
        raise IndexStateError(f"{path.name} in {path.parent} is inconsistent: text keys do not match the rows")
    if any(not 0 <= c.sentence_start <= c.sentence_start + c.sentence_count <= len(sentences) for c in chunks):
        raise IndexStateError(f"{path.name} in {path.parent} is inconsistent: a chunk points past the sentences")
    return Rows(chunks, sentences, chunk_keys, sentence_keys)


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
) -> UpdateReport:
    """Bring the index in line with the corpus, embedding only text it has not embedded before.

    One build at a time, across processes: a second build (another terminal, or the command line
    during a `/reindex`) waits for the first, told who holds the index, then updates from its result.
    """
    with build_lock(index_dir, on_wait):
        return _update(index_dir, corpus, embedder, progress=progress, vector_kind=vector_kind)


def _update(
    index_dir: Path, corpus: Corpus, embedder: Embedder, *, progress: bool, vector_kind: str | None
) -> UpdateReport:
    started = time.perf_counter()
    report = UpdateReport(documents=len(corpus))
    old: Index | None = None
    try:
        old = load_index(index_dir)
    except IndexStateError as exc:
        if (index_dir / CURRENT).exists():
            report.rebuilt_from_scratch = exc.reason
            if not isinstance(exc, StaleIndexError):
                log.warning("ignoring the existing index: %s", exc.reason)
    if old is not None:
        why = old.manifest.incompatibility(embedder)
        if why:
            report.rebuilt_from_scratch = why
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
    documents = list(corpus.documents.values())
    for doc in tqdm(documents, desc="chunking", unit="doc", disable=not progress or len(documents) < 2, leave=False):
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
        vectors = _embed(embedder, list(missing.values()), progress)
        for key, row in zip(missing, vectors, strict=True):
            cache[key] = row
    dim = embedder.dim
    chunk_vectors = np.stack([cache[k] for k in chunk_keys]) if chunk_keys else np.zeros((0, dim), np.float32)
    sentence_vectors = np.stack([cache[k] for k in sentence_keys]) if sentence_keys else np.zeros((0, dim), np.float32)
    report.chunks, report.sentences = len(chunks), len(spans)

    kind = vector_kind or ("hnsw" if len(spans) >= HNSW_THRESHOLD else "flat")
    manifest = Manifest(
        model=ModelInfo(embedder.name, embedder.fingerprint(), dim, embedder.max_tokens),
        chunker=CHUNKER_VERSION,
        built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        documents={d.doc_id: d.content_hash for d in corpus.documents.values()},
        paths={d.doc_id: d.path for d in corpus.documents.values()},
        vector_kind=kind,
        files={},
    )
    rows = Rows(chunks, np.asarray(spans, dtype=np.int64).reshape(-1, 2), chunk_keys, sentence_keys)
    _write_build(index_dir, manifest, rows, chunk_vectors.astype(np.float32), sentence_vectors.astype(np.float32))
    report.seconds = time.perf_counter() - started
    return report


EMBED_BATCH = 512


def _embed(embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
    """Embedding is nearly all of a build's time: on a terminal, a bar counts the texts."""
    if not progress or len(texts) <= EMBED_BATCH:
        return embedder.encode(texts)
    parts = []
    with tqdm(total=len(texts), desc="embedding", unit="text") as bar:
        for at in range(0, len(texts), EMBED_BATCH):
            parts.append(embedder.encode(texts[at : at + EMBED_BATCH]))
            bar.update(len(parts[-1]))
    return np.concatenate(parts)


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
    index_dir: Path, manifest: Manifest, rows: Rows, chunk_vectors: np.ndarray, sentence_vectors: np.ndarray
) -> None:
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    name = f"build-{stamp}-{secrets.token_hex(3)}"
    tmp = index_dir / f".{name}.tmp"
    tmp.mkdir()
    try:
        (tmp / CHUNKS).write_text(json.dumps(rows.to_json(), separators=(",", ":")), encoding="utf-8")
        np.save(tmp / CHUNK_VECTORS, chunk_vectors)
        np.save(tmp / SENTENCE_VECTORS, sentence_vectors)
        files = [CHUNKS, CHUNK_VECTORS, SENTENCE_VECTORS]
        if manifest.vector_kind == "hnsw":
            VectorIndex.build(chunk_vectors, "hnsw").save(tmp / CHUNK_FAISS)
            VectorIndex.build(sentence_vectors, "hnsw").save(tmp / SENTENCE_FAISS)
            files += [CHUNK_FAISS, SENTENCE_FAISS]
        sealed = dataclasses.replace(manifest, files={f: _file_sha256(tmp / f) for f in files})
        raw = json.dumps(sealed.to_json(), indent=1).encode("utf-8")
        (tmp / MANIFEST).write_bytes(raw)
        for f in [*files, MANIFEST]:
            _fsync(tmp / f)
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
