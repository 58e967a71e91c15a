"""FAISS behind a small interface: exact inner-product search while the corpus is small, HNSW past a
size where exact search would cost more than a few milliseconds a question.

Vectors are unit length, so inner product is cosine similarity and scores compare across indexes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

HNSW_THRESHOLD = 1_000_000
"""Below this many vectors the flat index is exact and answers in well under 200 ms on two cores
(about 18 ms at 100,000 vectors, benchmarks/scale.py); HNSW trades recall for speed, so it is
only worth it past that."""
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


class VectorIndex:
    """Unit vectors searchable by inner product; kind 'flat' (exact) or 'hnsw' (approximate)."""

    def __init__(self, index: Any, kind: str) -> None:
        self._index = index
        self.kind = kind

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str | None = None) -> VectorIndex:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        kind = kind or ("hnsw" if len(vectors) >= HNSW_THRESHOLD else "flat")
        index: Any
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            raise ValueError(f"unknown index kind {kind!r}")
        if len(vectors):
            index.add(vectors)
        return cls(index, kind)

    @classmethod
    def load(cls, path: Path, kind: str) -> VectorIndex:
        import faiss

        index: Any = faiss.read_index(str(path))
        if kind == "hnsw":
            index.hnsw.efSearch = HNSW_EF_SEARCH
        return cls(index, kind)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and ids of the k nearest rows (ids -1 where fewer exist)."""
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        scores, ids = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]
