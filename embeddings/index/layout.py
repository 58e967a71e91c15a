"""The index folder's layout and what describes a build: file names, the manifest, chunk rows.

Layout of the index folder (git-ignored)::

    CURRENT               the live build folder's name and its manifest's checksum, replaced atomically
    build-<time>-<rand>/  manifest.json, chunks.npy, sentences.npy, sentence_facts.npy, the vectors,
                          keywords/ (BM25 and each sentence's tokens), the question model's export,
                          and the FAISS graphs when the corpus is large enough to want them
    .lock                 held by the one build running

A build is written into a fresh folder and only then named in CURRENT, so a crash at any point
leaves the previous index intact and in use (`embeddings.index.building`). The manifest records the
model's fingerprint, the chunker version, a hash per document and a checksum per file: anything that
disagrees at open is reported, never used silently (`embeddings.index.loading`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np

from embeddings.corpus.chunking import CHUNKER_VERSION, ParagraphSpan
from embeddings.corpus.documents import Corpus
from embeddings.errors import IndexStateError, StaleIndexError
from embeddings.index.embedder import Embedder

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
SENTENCE_FAISS = "sentences.faiss"
KEYWORDS = "keywords"
BUILD_NAME = re.compile(r"build-\d{8}T\d{6}-[0-9a-f]{6}")


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def file_sha256(path: Path) -> str:
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

    COLUMNS = 7
    DOC, START, END, FIRST_PARAGRAPH, LAST_PARAGRAPH, FIRST_SENTENCE, SENTENCES = range(COLUMNS)
    """The columns, by name: a chunk's document (its position in the manifest), its span of the
    text, the paragraphs it covers, and its sentence rows (first, and how many)."""

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
