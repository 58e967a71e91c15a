"""How Verbatim behaves as the corpus grows: build, no-op rebuild, question latency (idle, and while
a rebuild runs with a shared or a separate model instance), and exact vs approximate vector search,
each comparison measured side by side in one run.

    .venv/bin/python benchmarks/scale.py --docs 500 --vectors 200000

The synthetic corpus recombines the seed statements' paragraphs (each document gets one unique
sentence, so nothing is a pure duplicate); the FAISS comparison uses random unit vectors.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embeddings.corpus.chunking import paragraphs
from embeddings.corpus.documents import Corpus, load_corpus
from embeddings.engine import open_engine
from embeddings.index.embedder import Embedder, SentenceTransformerEmbedder
from embeddings.index.store import update_index
from embeddings.index.vectors import VectorIndex

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "What did Japan say about the ICBM launch in November 2024?",
    "Should sanctions on North Korea be relaxed?",
    "Who released the joint statement on DPRK-Russia arms transfers?",
    "What did Russia and North Korea sign?",
    "How far is Vienna from Tokyo?",
    "What is a good recipe for miso soup?",
]


def synth_corpus(target: Path, n_docs: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    seed_docs = list(load_corpus(ROOT / "corpus").documents.values())
    pool = [d.text[p.start : p.end] for d in seed_docs for p in paragraphs(d.text) if not p.formulaic]
    target.mkdir(parents=True)
    for i in range(n_docs):
        paras = rng.sample(pool, k=min(len(pool), rng.randint(6, 14)))
        paras.insert(rng.randrange(len(paras)), f"Document {i} was recorded under reference SYN-{i:05d}.")
        date = f"20{rng.randint(10, 25):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        header = f"---\ntitle: Synthetic statement {i}\nspeaker: Delegation {i % 40}\nvenue: Venue {i % 7}\n"
        (target / f"syn{i:05d}.txt").write_text(header + f"date: {date}\n---\n" + "\n\n".join(paras) + "\n")


def percentiles(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=20, method="inclusive")  # never beyond the largest sample
    return f"p50 {statistics.median(samples) * 1000:.1f} ms, p95 {q[18] * 1000:.1f} ms"


def bench_engine(n_docs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        corpus_dir, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        synth_corpus(corpus_dir, n_docs)
        corpus = load_corpus(corpus_dir)
        emb = SentenceTransformerEmbedder()
        t = time.perf_counter()
        report = update_index(index_dir, corpus, emb, progress=True)
        build = time.perf_counter() - t
        print(f"corpus: {n_docs} documents, {report.chunks} chunks, {report.sentences} sentences")
        print(f"full build: {build:.1f} s ({report.embedded} texts embedded, {report.embedded / build:.0f} texts/s)")
        fresh = SentenceTransformerEmbedder()
        t = time.perf_counter()
        noop = update_index(index_dir, load_corpus(corpus_dir), fresh)
        print(
            f"no-op rebuild: {time.perf_counter() - t:.2f} s, up to date: {noop.up_to_date}, "
            f"model loaded: {fresh.loaded}"
        )
        t = time.perf_counter()
        engine = open_engine(corpus_dir, index_dir, emb)
        print(f"engine open (verify checksums, BM25 build): {time.perf_counter() - t:.2f} s")
        engine.search(QUESTIONS[0])
        samples = []
        for _ in range(5):
            for q in QUESTIONS:
                t = time.perf_counter()
                engine.search(q)
                samples.append(time.perf_counter() - t)
        print(f"question latency (end to end, {len(samples)} questions): {percentiles(samples)}")
        bench_during_rebuild(Path(tmp), engine.search, emb, min(n_docs, 60))


def _rebuild(target: Path, corpus: Corpus, model: Embedder, done: threading.Event) -> None:
    update_index(target, corpus, model)
    done.set()


def bench_during_rebuild(tmp: Path, search: Callable[[str], object], emb: Embedder, n_docs: int) -> None:
    """What /reindex costs the people asking meanwhile: the rebuild on the questions' own model
    instance (encodes serialised) against a clone of it (what the bot does)."""
    corpus_dir = tmp / "rebuild-corpus"
    synth_corpus(corpus_dir, n_docs, seed=11)
    corpus = load_corpus(corpus_dir)
    for label, rebuild_with in (("shared model", emb), ("separate model", emb.clone())):
        rebuild_with.encode(["warm up"])
        done = threading.Event()
        target = tmp / f"ix-{label.replace(' ', '-')}"
        worker = threading.Thread(target=_rebuild, args=(target, corpus, rebuild_with, done))
        samples: list[float] = []
        t0 = time.perf_counter()
        worker.start()
        while not done.is_set():
            for q in QUESTIONS:
                t = time.perf_counter()
                search(q)
                samples.append(time.perf_counter() - t)
        worker.join()
        print(
            f"question latency during a rebuild of {n_docs} documents ({time.perf_counter() - t0:.1f} s), "
            f"{label}: {len(samples)} questions, {percentiles(samples)}, max {max(samples) * 1000:.0f} ms"
        )


def bench_faiss(n_vectors: int, dim: int = 384, n_queries: int = 200) -> None:
    rng = np.random.default_rng(3)
    data = rng.standard_normal((n_vectors, dim)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    queries = data[rng.choice(n_vectors, n_queries, replace=False)] + 0.3 * rng.standard_normal(
        (n_queries, dim)
    ).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    results = {}
    for kind in ("flat", "hnsw"):
        t = time.perf_counter()
        index = VectorIndex.build(data, kind)
        built = time.perf_counter() - t
        times, ids = [], []
        for q in queries:
            t = time.perf_counter()
            _, found = index.search(q, 10)
            times.append(time.perf_counter() - t)
            ids.append(found)
        results[kind] = ids
        print(f"faiss {kind:>4}: {n_vectors} vectors, build {built:.1f} s, search {percentiles(times)}")
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(results["flat"], results["hnsw"], strict=True)])
    print(f"hnsw recall@10 against exact search: {recall:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--vectors", type=int, default=200_000)
    args = parser.parse_args()
    bench_engine(args.docs)
    bench_faiss(args.vectors)


if __name__ == "__main__":
    main()
