"""Speed and memory, each comparison measured side by side in one run (these machines are noisy:
read the ratios, and the absolute times as upper bounds).

    .venv/bin/python benchmarks/speed.py                 # everything below (about 15 minutes)
    .venv/bin/python benchmarks/speed.py questions cold  # only some sections

Sections:
  questions  question p50/p95 against a bare encode (ONNX, and torch at one and two threads),
             alone and with two asking at once; over the seed corpus
  cold       a fresh `verbatim ask` against `verbatim sources` and a no-op `verbatim index`
  build      texts/s and tokens/s: chunks and sentences encoded separately (before) against one
             pass (now), on the same passages of real UN speeches
  rebuild    question p95 while a rebuild runs in the same process (as `/reindex` does) against idle
  scale      100k and 1M rows of realistic vectors (real sentence vectors, perturbed): build,
             open, memory, question p50 and recall@10 against exact search; keyword top-k at 1M
  bot        20 and 50 simultaneous /ask through the local fake Discord, with the real model
  sizes      whole questions (the pool's, one after another in one process) at 5, 305, 582 and
             30,000 statements: the seeds, the seeds with the 300 UN speeches, and those with
             statements made from theirs (their paragraphs recombined under varied headers)

Questions are asked as every front end asks them, through `embeddings.service.Verbatim`; the
sections that measure a part on its own (a bare encode, build throughput, vector graphs at a
million rows) reach that part directly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embeddings.corpus.documents import load_corpus  # noqa: E402
from embeddings.engine import open_engine, rebuild  # noqa: E402
from embeddings.index.building import Passage, context_header  # noqa: E402
from embeddings.index.embedder import SentenceTransformerEmbedder  # noqa: E402
from embeddings.index.vectors import ExactVectors, GraphVectors  # noqa: E402
from embeddings.service import Verbatim  # noqa: E402
from embeddings.settings import Settings  # noqa: E402

CACHE = ROOT / ".bench"
SEEDS = ROOT / "corpus"
DISTRACTORS = ROOT.parent / "shared" / "distractors" / "ungd"
POOL = [ROOT / "benchmarks" / "questions" / name for name in ("pool_dev.jsonl", "pool_lab.jsonl")]
VERBATIM = ROOT / ".venv" / "bin" / "verbatim"


def pool_questions() -> list[str]:
    return [json.loads(row)["question"] for path in POOL for row in path.read_text().splitlines() if row.strip()]


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000.0, q))


def line(label: str, values: Sequence[float]) -> str:
    return f"  {label:<44} p50 {pct(values, 50):7.1f} ms   p95 {pct(values, 95):7.1f} ms   (n={len(values)})"


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for row in fh:
            if row.startswith("VmRSS:"):
                return int(row.split()[1]) / 1024
    return float("nan")


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def seed_service() -> Verbatim:
    """The seeds behind the service, as every front end asks them."""
    settings = Settings(corpus_dir=SEEDS, index_dir=CACHE / "speed-seed-index")
    return Verbatim(settings, on_notice=lambda m: print(f"  ({m})", file=sys.stderr)).open()


# ---- questions ----------------------------------------------------------------------------------


def section_questions() -> None:
    print("\n## Questions over the seed corpus (one thread each)")
    service = seed_service()
    encoder = service._searcher().embedder  # the bare encode, for the ratio: an internal measurement
    questions = pool_questions()
    st = SentenceTransformerEmbedder()
    import torch

    for q in questions[:3]:
        service.ask(q)
        st.encode([q])
    onnx, search, torch1, torch2 = [], [], [], []
    for q in questions:
        onnx.append(timed(lambda q=q: encoder.encode([q])))
        search.append(timed(lambda q=q: service.ask(q)))
        torch.set_num_threads(1)
        torch1.append(timed(lambda q=q: st.encode([q])))
        torch.set_num_threads(2)
        torch2.append(timed(lambda q=q: st.encode([q])))
    print(line("bare encode, ONNX Runtime, 1 thread", onnx))
    print(line("bare encode, torch, 1 thread", torch1))
    print(line("bare encode, torch, 2 threads", torch2))
    print(line("whole question (encode + search + rank)", search))
    print(f"  whole question / bare ONNX encode: {pct(search, 50) / pct(onnx, 50):.2f}x at p50")

    pair: list[float] = []

    def ask_all(items: list[str]) -> None:
        for q in items:
            pair.append(timed(lambda q=q: service.ask(q)))

    threads = [threading.Thread(target=ask_all, args=(questions[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(line("whole question, two asking at once", pair))


# ---- cold start ---------------------------------------------------------------------------------


def section_cold() -> None:
    print("\n## Cold commands (a new process each, median of 5)")
    seed_service()  # the index exists and is current
    env = {**os.environ, "VERBATIM_CORPUS": str(SEEDS), "VERBATIM_INDEX": str(CACHE / "speed-seed-index")}
    runs = {
        "verbatim sources": [str(VERBATIM), "sources"],
        "verbatim index (nothing changed)": [str(VERBATIM), "index"],
        "verbatim ask": [str(VERBATIM), "ask", "What did Japan say about the ICBM launch in November 2024?"],
    }
    times: dict[str, float] = {}
    for label, cmd in runs.items():
        samples = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            samples.append(time.perf_counter() - t)
        times[label] = statistics.median(samples)
        print(f"  {label:<36} {times[label]:6.2f} s")
    print(f"  ask / sources: {times['verbatim ask'] / times['verbatim sources']:.2f}x")
    ungd_index, ungd_corpus = CACHE / "index-ungd", CACHE / "corpus-ungd"
    if ungd_index.is_dir():
        env = {**os.environ, "VERBATIM_CORPUS": str(ungd_corpus), "VERBATIM_INDEX": str(ungd_index)}
        samples = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run(runs["verbatim ask"], env=env, check=True, capture_output=True)
            samples.append(time.perf_counter() - t)
        print(f"  verbatim ask, seeds + 300 UN speeches    {statistics.median(samples):6.2f} s")
    else:
        print("  (run benchmarks/crossval.py --distractors once to also time the 305-statement corpus)")
    probe = "import sys; from embeddings.engine import open_engine; from pathlib import Path; "
    probe += f"e = open_engine(Path({str(SEEDS)!r}), Path({str(CACHE / 'speed-seed-index')!r})); "
    probe += "e.search('ICBM launch'); "
    probe += "print(sum(m in sys.modules for m in ('torch', 'sentence_transformers', 'transformers')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    print(f"  torch, sentence-transformers or transformers imported to answer: {out.stdout.strip()} of 3")


# ---- build --------------------------------------------------------------------------------------


def ungd_passages(embedder: SentenceTransformerEmbedder, docs: int) -> list[Passage]:
    from embeddings.corpus.chunking import chunk_document

    corpus = load_corpus(DISTRACTORS)
    passages = []
    for doc in list(corpus.documents.values())[:docs]:
        limit = embedder.max_tokens - embedder.count_tokens(context_header(doc))
        for ch in chunk_document(doc.text, embedder.count_tokens, limit):
            passages.append(Passage.of(doc, ch.start, ch.end, list(ch.sentences)))
    return passages


def section_build(docs: int = 20) -> None:
    print(f"\n## Build throughput ({docs} UN speeches, the same passages every way)")
    emb = SentenceTransformerEmbedder()
    passages = ungd_passages(emb, docs)
    texts = [p.text for p in passages]
    sentences = [p.text[s:e] for p in passages for s, e in p.spans]
    spans = [p.spans for p in passages]
    tokens = sum(emb.count_tokens(t) for t in texts)
    emb.encode(["warm up"])
    runs: dict[str, float] = {}
    for label, batch, one_pass in (
        ("before: chunks, then sentences, batches of 64", 64, False),
        ("chunks, then sentences, batches of 16", 16, False),
        ("one pass, batches of 64", 64, True),
        ("now: one pass, batches of 16", 16, True),
    ):
        emb._batch_size = batch
        work = (
            (lambda: emb.encode_passages(texts, spans))
            if one_pass
            else (lambda: (emb.encode(texts), emb.encode(sentences)))
        )
        runs[label] = timed(work)
    n = len(texts) + len(sentences)
    print(f"  {len(texts)} chunks + {len(sentences)} sentences, {tokens} chunk tokens")
    for label, seconds in runs.items():
        print(f"  {label:<48} {seconds:6.1f} s  {n / seconds:6.1f} texts/s  {tokens / seconds:7.0f} tokens/s")
    seconds_each = list(runs.values())
    first, last = seconds_each[0], seconds_each[-1]
    print(f"  speed-up, now against before: {first / last:.2f}x")


# ---- questions during a rebuild -----------------------------------------------------------------


def section_rebuild(docs: int = 12) -> None:
    print(f"\n## Questions while a rebuild of {docs} UN speeches runs in the same process (as /reindex)")
    service = seed_service()
    questions = pool_questions()
    for q in questions[:3]:
        service.ask(q)
    idle = [timed(lambda q=q: service.ask(q)) for q in questions]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for path in sorted(DISTRACTORS.glob("*.txt"))[:docs]:
            shutil.copy(path, corpus / path.name)
        done = threading.Event()
        builder = SentenceTransformerEmbedder(threads=1)

        def build() -> None:
            try:
                rebuild(corpus, Path(tmp) / "ix", builder)
            finally:
                done.set()

        worker = threading.Thread(target=build)
        worker.start()
        busy: list[float] = []
        while not done.is_set():
            for q in questions:
                if done.is_set():
                    break
                busy.append(timed(lambda q=q: service.ask(q)))
        worker.join()
    print(line("idle", idle))
    print(line("during the rebuild", busy))
    print(f"  p95 during / idle: {pct(busy, 95) / pct(idle, 95):.2f}x")


# ---- scale --------------------------------------------------------------------------------------


def realistic_vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    """Real sentence vectors of UN speeches, each copy perturbed (noise of about the spread between
    paraphrases), so that neighbourhoods look like a real corpus's, not like uniform noise."""
    base_path = CACHE / "speed-ungd-vectors.npy"
    if not base_path.exists():
        emb = SentenceTransformerEmbedder()
        passages = ungd_passages(emb, 60)
        _, rows = emb.encode_passages([p.text for p in passages], [p.spans for p in passages])
        np.save(base_path, np.concatenate(rows))
    base = np.load(base_path)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for at in range(0, n, 100_000):
        m = min(100_000, n - at)
        block = base[rng.integers(0, len(base), m)] + rng.normal(0, 0.035, (m, base.shape[1])).astype(np.float32)
        out[at : at + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def section_scale(sizes: Sequence[int] = (100_000, 1_000_000)) -> None:
    import faiss

    print("\n## Scale: realistic vectors (exact rescoring from memory-mapped float32 rows)")
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        largest = None
        for n in sizes:
            vectors = realistic_vectors(n, rng)
            npy = Path(tmp) / f"v{n}.npy"
            np.save(npy, vectors)
            del vectors
            t = time.perf_counter()
            graph = GraphVectors.build(np.asarray(np.load(npy, mmap_mode="r")))
            built = time.perf_counter() - t
            rows = graph.save(Path(tmp) / f"g{n}.faiss")
            np.save(Path(tmp) / f"r{n}.npy", rows)
            del graph
            fresh = opened_in_fresh_process(npy, Path(tmp) / f"g{n}.faiss", Path(tmp) / f"r{n}.npy")
            before = rss_mb()
            t = time.perf_counter()
            loaded = GraphVectors.load(np.asarray(np.load(npy, mmap_mode="r")), Path(tmp) / f"g{n}.faiss", rows)
            opened = time.perf_counter() - t
            queries = loaded.vectors[rng.integers(0, n, 200)] + rng.normal(0, 0.05, (200, loaded.vectors.shape[1]))
            queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
            for q in queries[:5]:
                loaded.search(q, 150)
            g_times, found = [], []
            for q in queries:
                t = time.perf_counter()
                found.append(loaded.search(q, 150)[1])
                g_times.append(time.perf_counter() - t)
            graph_rss = rss_mb() - before
            exact = ExactVectors(loaded.vectors)
            e_times, recall = [], []
            for q, g_ids in zip(queries, found, strict=True):
                t = time.perf_counter()
                _, e_ids = exact.search(q, 150)
                e_times.append(time.perf_counter() - t)
                recall.append(len(set(g_ids[:10].tolist()) & set(e_ids[:10].tolist())) / 10)
            print(f"  {n:>9,} rows: graph built in {built:6.1f} s, opened in {opened:5.2f} s")
            print(f"    a fresh process opening it and asking 200 questions: {fresh}")
            print(
                f"    this process: +{graph_rss:.0f} MB resident after the graph questions, "
                f"+{rss_mb() - before:.0f} MB after exact search too (float32 rows: {n * 1.536 / 1000:.0f} MB, mapped)"
            )
            print(line("    graph search, k=150 (efSearch 300)", g_times))
            print(line("    exact search, k=150", e_times))
            print(
                f"    recall@10 against exact: {np.mean(recall):.3f}   graph p50 / exact p50: "
                f"{pct(g_times, 50) / pct(e_times, 50):.2f}x"
            )
            del exact
            largest = loaded
        print(f"  (faiss {faiss.__version__}, {faiss.omp_get_max_threads()} OpenMP threads)")
        keywords = keyword_scale(max(sizes))
        assert largest is not None
        retrieval_at_scale(largest, keywords)


def opened_in_fresh_process(vectors: Path, graph: Path, rows: Path) -> str:
    """Open time and memory, private (the graph) and file-backed (mapped rows, reclaimable page cache),
    of a process that only opens the index and asks."""
    script = f"""
import time, numpy as np
from pathlib import Path
from embeddings.index.vectors import GraphVectors
def status():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {{k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "RssAnon", "RssFile")}}
base = status()
t = time.perf_counter()
mapped = np.asarray(np.load({str(vectors)!r}, mmap_mode="r"))
index = GraphVectors.load(mapped, Path({str(graph)!r}), np.load({str(rows)!r}))
opened = time.perf_counter() - t
rng = np.random.default_rng(5)
for q in index.vectors[rng.integers(0, index.size, 200)]:
    index.search(q + rng.normal(0, 0.05, q.shape).astype(np.float32), 150)
now = status()
print(f"opened in {{opened:.2f}} s; +{{now['RssAnon'] - base['RssAnon']:.0f}} MB private, "
      f"+{{now['RssFile'] - base['RssFile']:.0f}} MB of mapped rows resident")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    return out.stdout.strip()


def retrieval_at_scale(vectors: GraphVectors, keywords: Any) -> None:
    """What a question does that grows with the corpus, at the largest size: encode, nearest
    sentences and chunks, keyword scores and their top 40 (ranking the ~300 candidates does not grow)."""
    from embeddings.answer.search import top_keyword_chunks

    encoder = seed_service()._searcher().embedder
    times = []
    for q in pool_questions():
        t = time.perf_counter()
        qvec = encoder.encode([q])[0]
        vectors.search(qvec, 150)
        vectors.search(qvec, 40)
        top_keyword_chunks(keywords.scores(q), 40)
        times.append(time.perf_counter() - t)
    print(line(f"    a question's retrieval at {vectors.size:,} rows (encode included)", times))


def keyword_scale(n: int) -> Any:
    from embeddings.answer.search import top_keyword_chunks
    from embeddings.engine import corpus_tokenizer
    from embeddings.index.keywords import KeywordIndex

    corpus = load_corpus(DISTRACTORS)
    tokenizer = corpus_tokenizer(SEEDS)
    paragraphs = [p for d in corpus.documents.values() for p in d.text.split("\n\n") if len(p) > 80]
    rng = np.random.default_rng(2)
    texts = [paragraphs[i] for i in rng.integers(0, len(paragraphs), n)]
    t = time.perf_counter()
    built_index = KeywordIndex.build(texts, tokenizer)
    built = time.perf_counter() - t
    folder = CACHE / "speed-keywords"
    shutil.rmtree(folder, ignore_errors=True)
    built_index.save(folder)
    del built_index
    t = time.perf_counter()
    index = KeywordIndex.load(folder, tokenizer)
    opened = time.perf_counter() - t
    questions = pool_questions()
    sort_times, part_times = [], []
    for q in questions:
        scores = index.scores(q)
        sort_times.append(timed(lambda scores=scores: np.argsort(-scores)[:40]))
        part_times.append(timed(lambda scores=scores: top_keyword_chunks(scores, 40)))
    score_times = [timed(lambda q=q: index.scores(q)) for q in questions]
    print(f"\n  keywords at {n:,} chunks: built in {built:.0f} s, opened (memory-mapped) in {opened:.2f} s")
    print(line("    BM25 scores of every chunk", score_times))
    print(line("    top 40 by full sort (before)", sort_times))
    print(line("    top 40 among the chunks that score (now)", part_times))
    return index


# ---- bot ----------------------------------------------------------------------------------------


def section_bot(counts: Sequence[int] = (20, 50)) -> None:
    print("\n## The bot through the local fake Discord (real model, seed corpus)")
    asyncio.run(_bot(counts))


async def _bot(counts: Sequence[int]) -> None:
    import discord
    import yarl

    from bot.client import create_bot
    from bot.settings import BotSettings
    from embeddings.settings import Settings
    from tests.fake_discord import APP_ID, GUILD_ID, FakeDiscord

    seed_service()
    fake = FakeDiscord()
    await fake.start()
    discord.http.Route.BASE = f"http://127.0.0.1:{fake.port}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws://127.0.0.1:{fake.port}/gateway")
    settings = BotSettings(
        core=Settings(corpus_dir=SEEDS, index_dir=CACHE / "speed-seed-index"),
        guild_id=int(GUILD_ID),
        cooldown_seconds=0.0,
    )
    started = time.perf_counter()
    bot = create_bot(settings, guild_ready_timeout=0.05, chunk_guilds_at_startup=False)
    task = asyncio.create_task(bot.start("bench-token"))
    await asyncio.wait_for(bot.wait_until_ready(), 120)
    ready = time.perf_counter() - started
    questions = pool_questions()
    try:
        first = await _ask_many(fake, APP_ID, questions[:1])
        print(f"  start-up to ready {ready:.2f} s (the encoder is warmed first); first answer {first[0]:.2f} s later")
        for n in counts:
            times = await _ask_many(fake, APP_ID, [questions[i % len(questions)] for i in range(n)])
            print(line(f"{n} simultaneous /ask, slash to answer", times))
    finally:
        await bot.close()
        await asyncio.wait_for(task, 30)
        await fake.stop()


async def _ask_many(fake: Any, app_id: str, questions: Sequence[str]) -> list[float]:
    async def one(i: int, q: str) -> float:
        t = time.perf_counter()
        option = {"name": "question", "type": 3, "value": q}
        iid = await fake.slash("ask", [option], uid=str(10_000 + i))
        await fake.wait_for(
            lambda r: r.path.startswith(f"/webhooks/{app_id}/tok{iid}") and r.method == "POST" and r.status < 300,
            60,
        )
        return time.perf_counter() - t

    return list(await asyncio.gather(*(one(i, q) for i, q in enumerate(questions))))


# ---- questions by corpus size ------------------------------------------------------------------

SYNTHETIC_SEED = 30_000


class RecombinedEmbedder(SentenceTransformerEmbedder):
    """The real model, except that a passage already embedded in the real corpus (under another
    title) takes its vectors from there: statements recombined from real paragraphs are indexed
    in minutes instead of hours, with realistic vectors."""

    def __init__(self, source: Any) -> None:
        super().__init__()
        self.known: dict[str, tuple[np.ndarray, dict[tuple[int, int], np.ndarray]]] = {}
        idx = source.index
        for c, rec in enumerate(idx.chunks):
            text = source.corpus.documents[rec.doc_id].text
            body = text[rec.start : rec.end]
            spans = {
                (int(idx.sentences[j][0]) - rec.start, int(idx.sentences[j][1]) - rec.start): idx.sentence_vectors[j]
                for j in rec.sentence_ids
            }
            self.known[body] = (idx.chunk_vectors[c], spans)
        self.missed = 0

    def encode_passages(self, texts: Sequence[str], spans: Any, *, progress: bool = False) -> Any:
        vectors, sentence_rows, missing = [], [], []
        for i, (text, own) in enumerate(zip(texts, spans, strict=True)):
            shift = text.index("\n") + 1
            found = self.known.get(text[shift:])
            rows = [found[1].get((s - shift, e - shift)) for s, e in own] if found else [None]
            if found is None or any(r is None for r in rows):
                missing.append(i)
                vectors.append(None)
                sentence_rows.append(None)
                continue
            vectors.append(found[0])
            sentence_rows.append(np.stack(rows))
        if missing:
            self.missed += len(missing)
            fresh, fresh_rows = super().encode_passages([texts[i] for i in missing], [spans[i] for i in missing])
            for i, row, rows in zip(missing, fresh, fresh_rows, strict=True):
                vectors[i], sentence_rows[i] = row, rows
        return np.stack(vectors).astype(np.float32), sentence_rows


def synthetic_corpus(statements: int, source: Any) -> Path:
    """The seeds and the 300 speeches, and as many more statements as it takes to reach
    `statements`, each made of 6 to 14 real chunks (whole paragraphs, as their speech has them)
    under the header of a random real speaker, venue and date."""
    target = CACHE / f"corpus-synthetic{statements}"
    if target.exists():
        return target
    rng = np.random.default_rng(SYNTHETIC_SEED)
    tmp = CACHE / f"{target.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(CACHE / "corpus-ungd", tmp)
    docs = list(source.corpus.documents.values())
    chunks = [(rec.doc_id, rec.start, rec.end) for rec in source.index.chunks]
    venues = sorted({d.venue for d in docs})
    (tmp / "synthetic").mkdir()
    for n in range(statements - len(docs)):
        speaker = docs[int(rng.integers(len(docs)))]
        date = np.datetime64("2015-01-01") + int(rng.integers(0, 4200))
        picked = [chunks[int(i)] for i in rng.integers(0, len(chunks), int(rng.integers(6, 15)))]
        body = "\n\n".join(source.corpus.documents[d].text[a:b] for d, a, b in picked)
        venue = venues[int(rng.integers(len(venues)))]
        header = (
            f"---\ntitle: Statement by {speaker.speaker}, {venue} ({str(date)[:4]})\nspeaker: {speaker.speaker}\n"
            f"organisation: {speaker.organisation}\nvenue: {venue}\ndate: {date}\n---\n"
        )
        (tmp / "synthetic" / f"synthetic{n:05d}.txt").write_text(header + body + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return target


def section_sizes(sizes: Sequence[int] = (582, 30_000), questions: int = 300) -> None:
    print(f"\n## Whole questions by corpus size ({questions} of the pool's, one after another, one process)")
    from embeddings.quality.evaluation import load_questions

    pool = [
        q.question
        for name in ("pool_dev.jsonl", "pool_lab.jsonl", "pool_ungd.jsonl")
        for q in load_questions(ROOT / "benchmarks" / "questions" / name)
    ]
    asked = [pool[i] for i in np.random.default_rng(1).permutation(len(pool))[:questions]]
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from crossval import open_bench_engine

    scale = open_bench_engine(None)
    engines: list[tuple[str, Callable[[], Any]]] = [("5", lambda: open_bench_engine(0)), ("305", lambda: scale)]
    for size in sizes:

        def opened(size: int = size) -> Any:
            corpus = synthetic_corpus(size, scale)
            embedder = RecombinedEmbedder(scale)
            started = time.perf_counter()
            engine = open_engine(
                corpus,
                CACHE / f"index-synthetic{size}",
                embedder,
                progress=True,
                on_notice=lambda m: print(f"  ({m})", file=sys.stderr),
            )
            print(
                f"  {size} statements: ready in {time.perf_counter() - started:.0f} s "
                f"({embedder.missed} passages embedded afresh)"
            )
            return engine

        engines.append((f"{size:,}", opened))
    for label, make in engines:
        engine = make()
        for q in asked[:20]:
            engine.search(q)
        times = [timed(lambda q=q, engine=engine: engine.search(q)) for q in asked]
        print(
            line(
                f"{label} statements ({len(engine.index.chunks):,} chunks, {len(engine.index.sentences):,} sentences)",
                times,
            )
        )
        print(f"  {'':<44} process resident memory {rss_mb():.0f} MB")


SECTIONS = {
    "questions": section_questions,
    "cold": section_cold,
    "build": section_build,
    "rebuild": section_rebuild,
    "scale": section_scale,
    "bot": section_bot,
    "sizes": section_sizes,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("sections", nargs="*", metavar="SECTION", help=f"any of {', '.join(SECTIONS)} (default: all)")
    args = parser.parse_args()
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    CACHE.mkdir(exist_ok=True)
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start")
    for name in args.sections or list(SECTIONS):
        SECTIONS[name]()
    print(f"\npeak resident memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
