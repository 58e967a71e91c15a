"""Nearest vectors by inner product: exact while that is cheap, an HNSW graph past that.

Vectors are unit length, so inner product is cosine similarity and scores compare across indexes.

The full-precision vectors are the index's own `.npy` files, memory-mapped: exact search reads them
directly (no second copy in FAISS), and the graph stores only 8-bit codes to walk on, then every
hit is rescored exactly from the mapped vectors. Scores are therefore always exact; only which
rows are found is approximate.

The graph grows with the corpus: a graph position maps to a row of the current build (`rows`), new
rows are added to the graph, removed ones are left as tombstones (-1) and skipped, and the graph is
rebuilt only when tombstones reach a quarter of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

HNSW_THRESHOLD = 200_000
"""From this many vectors on, the graph is used: below it exact search costs under about 20 ms a
question on two cores (benchmarks/speed.py --scale), and exact recall is worth that."""
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
"""Candidates kept while walking the graph; never fewer than twice the neighbours asked for."""
MAX_TOMBSTONES = 0.25


class VectorIndex(Protocol):
    """Row vectors searchable by inner product: what a question's nearest rows come from."""

    vectors: np.ndarray
    kind: str

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact scores and row ids of the k nearest rows, best first."""
        ...


class ExactVectors:
    """Every row scored (the rows are memory-mapped, not copied): exact, and fast while small."""

    kind = "flat"

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self.vectors))
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        query = np.ascontiguousarray(query.reshape(-1), dtype=np.float32)
        scores = self.vectors @ query
        ids = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        ids = ids[np.argsort(-scores[ids], kind="stable")]
        return scores[ids].astype(np.float32), ids.astype(np.int64)


class GraphVectors:
    """An HNSW graph of 8-bit codes walked to find candidates, each rescored exactly from the rows.
    Graph positions map to rows (`rows`, -1 for a removed row, a tombstone that search skips)."""

    kind = "hnsw"

    def __init__(self, vectors: np.ndarray, graph: Any, rows: np.ndarray) -> None:
        self.vectors = vectors
        self.graph = graph
        self.rows = rows

    @classmethod
    def build(cls, vectors: np.ndarray) -> GraphVectors:
        import faiss

        make: Any = faiss.IndexHNSWSQ  # the stubs miss the (dim, quantizer type, M, metric) overload
        graph = make(vectors.shape[1], faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        sample = np.asarray(vectors[:: max(1, len(vectors) // 50_000)], dtype=np.float32)
        graph.train(sample)
        index = cls(vectors, graph, np.zeros(0, dtype=np.int64))
        index._add_rows(np.arange(len(vectors), dtype=np.int64))
        return index

    def grown(self, vectors: np.ndarray, rows: np.ndarray) -> GraphVectors:
        """This graph carried over to a new build: `rows` maps each graph position to its row in
        the new build (-1 for removed); rows of the new build not in the graph are added to it.
        Rebuilt from scratch when too much of it would be tombstones."""
        present = np.zeros(len(vectors), dtype=bool)
        present[rows[rows >= 0]] = True
        missing = np.flatnonzero(~present)
        dead = int((rows < 0).sum())
        if dead > MAX_TOMBSTONES * (len(rows) + len(missing)):
            return GraphVectors.build(vectors)
        index = GraphVectors(vectors, self.graph, rows.astype(np.int64))
        index._add_rows(missing)
        return index

    def _add_rows(self, rows: np.ndarray) -> None:
        for at in range(0, len(rows), 100_000):
            part = rows[at : at + 100_000]
            self.graph.add(np.ascontiguousarray(self.vectors[part], dtype=np.float32))
        self.rows = np.concatenate([self.rows, rows]).astype(np.int64)

    @classmethod
    def load(cls, vectors: np.ndarray, graph_path: Path, rows: np.ndarray) -> GraphVectors:
        import faiss

        graph = faiss.read_index(str(graph_path))
        if graph.ntotal != len(rows):
            raise ValueError(f"the graph has {graph.ntotal} vectors but {len(rows)} positions")
        return cls(vectors, graph, rows)

    def save(self, graph_path: Path) -> np.ndarray:
        """Write the graph; return the position-to-row map, which the caller stores beside it."""
        import faiss

        faiss.write_index(self.graph, str(graph_path))
        return self.rows

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self.vectors))
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        import faiss

        query = np.ascontiguousarray(query.reshape(-1), dtype=np.float32)
        hnsw_params: Any = faiss.SearchParametersHNSW  # type: ignore[attr-defined]  # not in the stubs
        want = k + int((self.rows < 0).sum() > 0) * k  # room for tombstones among the hits
        params = hnsw_params(efSearch=max(HNSW_EF_SEARCH, 2 * want))
        _, found = self.graph.search(query.reshape(1, -1), want, params=params)
        positions = found[0][found[0] >= 0]
        ids = self.rows[positions]
        ids = np.unique(ids[ids >= 0])
        scores = self.vectors[ids] @ query
        keep = np.argsort(-scores, kind="stable")[:k]
        return scores[keep].astype(np.float32), ids[keep]
