"""Answer quality by cross-validation: the figure every change to ranking or declining is judged by.

    .venv/bin/python benchmarks/crossval.py                   # the whole pool, seeds + 300 UN speeches indexed
    .venv/bin/python benchmarks/crossval.py --sizes           # also at 85 documents (seeds + 80 speeches)
    .venv/bin/python benchmarks/crossval.py --learning-curve  # also trained on a quarter and a half of the pool
    .venv/bin/python benchmarks/crossval.py --heldback        # also the shipped models on our own unseen sets
    .venv/bin/python benchmarks/crossval.py --misses          # and every held-back miss, by class

The pool is the shared eval set's 967 questions (`benchmarks/questions/pool_*.jsonl`: 145 over the
five seed statements, 822 over the 300 UN General Debate speeches), judged with the seeds and the
300 speeches indexed together, as users' corpora grow; the 145 seed questions are judged over the
seeds alone too, by the same models. Held-back figures: 5 folds grouped by document (a fold's
statements are never seen in training) and balanced by style; each fold is answered by models
trained on the other four, and every inner choice (regularisation, decline threshold, vetoes) is
made by a further cross-validation inside those four. In-sample figures (trained and judged on the
same questions) are printed beside them as an upper bound, never as a result.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embeddings.answer.ranking import Models, shipped_models  # noqa: E402
from embeddings.answer.search import SearchEngine  # noqa: E402
from embeddings.index.embedder import SentenceTransformerEmbedder  # noqa: E402
from embeddings.quality.evaluation import Question, Report, load_questions, load_styles, table  # noqa: E402
from embeddings.quality.learning import Example, collect, document_folds, judge, train  # noqa: E402

QUESTIONS = ROOT / "benchmarks" / "questions"
POOL = [QUESTIONS / "pool_dev.jsonl", QUESTIONS / "pool_lab.jsonl", QUESTIONS / "pool_ungd.jsonl"]
POOL_STYLES = [QUESTIONS / "pool_styles.json", QUESTIONS / "pool_ungd_styles.json"]
HELDBACK = {
    "seed": (QUESTIONS / "heldback_seed.jsonl", QUESTIONS / "heldback_seed_styles.json"),
    "ungd": (QUESTIONS / "heldback_ungd.jsonl", QUESTIONS / "heldback_ungd_styles.json"),
}
DISTRACTORS = ROOT.parent / "shared" / "distractors" / "ungd"
CACHE = ROOT / ".bench"
MIDDLE_SPEECHES = 80
"""Speeches beside the seeds in the middle-sized corpus (about 85 documents)."""
FOLDS = 5


def seed_question(q: Question) -> bool:
    return not q.qid.startswith("u")


def bench_corpus(speeches: int | None) -> Path:
    """The seed corpus alone (0), with every distractor speech (None), or with the first `speeches`
    of them in a fixed order, as a folder the engine can index."""
    if speeches == 0:
        return ROOT / "corpus"
    if not DISTRACTORS.is_dir():
        raise SystemExit(f"no distractors at {DISTRACTORS}")
    target = CACHE / ("corpus-ungd" if speeches is None else f"corpus-ungd{speeches}")
    if not target.exists():
        tmp = CACHE / f"{target.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(ROOT / "corpus", tmp)
        (tmp / "ungd").mkdir()
        for path in chosen_speeches(speeches):
            shutil.copyfile(path, tmp / "ungd" / path.name)
        os.replace(tmp, target)
    return target


def chosen_speeches(count: int | None) -> list[Path]:
    """All the speeches, or `count` of them drawn with a fixed seed (every year and region)."""
    every = sorted(DISTRACTORS.glob("*.txt"))
    if count is None:
        return every
    return sorted(random.Random(85).sample(every, count))


def open_bench_engine(speeches: int | None = None) -> SearchEngine:
    from embeddings.engine import open_engine

    corpus = bench_corpus(speeches)
    name = {0: "index-seed", None: "index-ungd"}.get(speeches, f"index-ungd{speeches}")
    return open_engine(
        corpus, CACHE / name, SentenceTransformerEmbedder(), on_notice=lambda m: print(m, file=sys.stderr)
    )


def pool() -> list[Question]:
    return [q for path in POOL for q in load_questions(path)]


def pool_styles() -> dict[str, str]:
    return load_styles(POOL_STYLES)


def in_corpus(q: Question, engine: SearchEngine) -> bool:
    """Whether a question belongs with a corpus: its statements are all in it (off-topic ones always)."""
    return all(d in engine.corpus.documents for d in q.documents)


def training_examples(scale: SearchEngine, seeds: SearchEngine) -> tuple[list[Example], list[Example]]:
    """The whole pool over the seeds and the 300 speeches, and the seed questions over the seeds
    alone: models learn from both, so that they hold for a corpus of five statements as for
    hundreds (a question and its copy always fall in one fold)."""
    questions, styles = pool(), pool_styles()
    return collect(scale, questions, styles), collect(seeds, [q for q in questions if seed_question(q)], styles)


def fold_models(examples: Sequence[Example], folds: Sequence[int], share: float = 1.0) -> dict[int, Models]:
    """Models for each fold, trained on the others (on `share` of their documents' questions)."""
    out = {}
    for f in sorted(set(folds)):
        train_on = [e for e, g in zip(examples, folds, strict=True) if g != f]
        if share < 1.0:
            keep = document_folds(train_on, round(1 / share), seed=f)
            train_on = [e for e, g in zip(train_on, keep, strict=True) if g == 0]
        out[f] = train(train_on)
    return out


def judged(
    engine: SearchEngine, examples: Sequence[Example], models: dict[int, Models], fold_of: dict[str, int]
) -> Report:
    return judge(engine, examples, models.__getitem__, [fold_of[e.question.qid] for e in examples])


def metrics(report: Report) -> dict[str, Any]:
    return {"all": report.metrics(), "by_style": {k: t.metrics() for k, t in report.tallies.items() if k != "all"}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--sizes", action="store_true", help="also judge at about 85 documents")
    parser.add_argument("--learning-curve", action="store_true", help="also train on a quarter and a half")
    parser.add_argument("--heldback", action="store_true", help="also judge the shipped models on our unseen sets")
    parser.add_argument("--misses", action="store_true", help="list held-back misses")
    parser.add_argument("--json", type=Path, help="write every figure to this file as JSON")
    args = parser.parse_args()

    started = time.perf_counter()
    scale, seeds = open_bench_engine(None), open_bench_engine(0)
    examples, seed_examples = training_examples(scale, seeds)
    training = [*examples, *seed_examples]
    print(
        f"pool: {len(examples)} questions over {len(scale.corpus)} documents and {len(seed_examples)} over "
        f"{len(seeds.corpus)}, candidates in {time.perf_counter() - started:.0f} s"
    )
    folds = document_folds(training, args.folds)
    fold_of = {e.question.qid: f for e, f in zip(training, folds, strict=True)}
    models = fold_models(training, folds)
    figures: dict[str, Any] = {}

    def show(key: str, title: str, report: Report) -> None:
        figures[key] = metrics(report)
        print(f"\n{title}\n{table(report.tallies)}")

    show(
        "heldback_305",
        f"held-back, whole pool, {len(scale.corpus)} documents",
        judged(scale, examples, models, fold_of),
    )
    show(
        "heldback_5",
        f"held-back, the {len(seed_examples)} questions about the seeds, {len(seeds.corpus)} documents",
        judged(seeds, seed_examples, models, fold_of),
    )
    if args.sizes:
        middle = open_bench_engine(MIDDLE_SPEECHES)
        subset = [q for q in pool() if in_corpus(q, middle)]
        show(
            "heldback_85",
            f"held-back, the {len(subset)} questions about its statements, {len(middle.corpus)} documents",
            judged(middle, collect(middle, subset, pool_styles()), models, fold_of),
        )
    full = train(training)
    insample = judge(scale, examples, lambda _f: full, [0] * len(examples))
    show("insample_305", "in-sample, whole pool (trained and judged on the same questions: not a result)", insample)
    if args.learning_curve:
        for share in (0.25, 0.5):
            show(
                f"curve_{share}",
                f"held-back, trained on {share:.0%} of each training fold's documents",
                judged(scale, examples, fold_models(training, folds, share), fold_of),
            )
    if args.heldback:
        shipped = shipped_models()
        for name, (path, style_path) in HELDBACK.items():
            for size, engine in (("5", seeds), ("305", scale)):
                if name == "ungd" and size == "5":
                    continue
                held = collect(engine, load_questions(path), load_styles([style_path]))
                show(
                    f"own_{name}_{size}",
                    f"shipped models on our own unseen set '{name}', {len(engine.corpus)} documents",
                    judge(engine, held, lambda _f: shipped, [0] * len(held)),
                )
    if args.misses:
        report = judged(scale, examples, models, fold_of)
        print("\nheld-back misses:")
        for o in report.outcomes:
            if o.miss:
                print(f"  {o.question.qid} [{o.style}] answered={o.answer.answered} rank={o.rank}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
