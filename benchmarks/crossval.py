"""Answer quality by cross-validation: the figure every change to ranking or declining is judged by.

    .venv/bin/python benchmarks/crossval.py                      # the 145-question pool, seed corpus
    .venv/bin/python benchmarks/crossval.py --distractors        # also judged with 300 real speeches added
    .venv/bin/python benchmarks/crossval.py --train-both         # trained over both corpora (not shipped)
    .venv/bin/python benchmarks/crossval.py --heldback           # also: models trained on the whole
                                                                 # pool, judged on our own unseen sets

Prints, per question style, the held-back figures (each fold answered by models trained on the
other folds, every inner choice made inside the training folds) next to the in-sample ones (trained
and judged on the same questions: an upper bound, not a result).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embeddings.answer.ranking import shipped_models  # noqa: E402
from embeddings.index.embedder import SentenceTransformerEmbedder  # noqa: E402
from embeddings.quality.evaluation import Report, load_questions, load_styles, table  # noqa: E402
from embeddings.quality.learning import collect, judge, stratified_folds, train  # noqa: E402

QUESTIONS = ROOT / "benchmarks" / "questions"
POOL = [QUESTIONS / "pool_dev.jsonl", QUESTIONS / "pool_lab.jsonl"]
POOL_STYLES = [QUESTIONS / "pool_styles.json"]
HELDBACK = {
    "seed": (QUESTIONS / "heldback_seed.jsonl", QUESTIONS / "heldback_seed_styles.json"),
    "ungd": (QUESTIONS / "heldback_ungd.jsonl", QUESTIONS / "heldback_ungd_styles.json"),
}
DISTRACTORS = ROOT.parent / "shared" / "distractors" / "ungd"
CACHE = ROOT / ".bench"


def bench_corpus(with_distractors: bool) -> Path:
    """The seed corpus, alone or with the distractor speeches, as a folder the engine can index."""
    if not with_distractors:
        return ROOT / "corpus"
    if not DISTRACTORS.is_dir():
        raise SystemExit(f"no distractors at {DISTRACTORS}")
    target = CACHE / "corpus-ungd"
    if not target.exists():
        tmp = CACHE / "corpus-ungd.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(ROOT / "corpus", tmp)
        shutil.copytree(DISTRACTORS, tmp / "ungd")
        os.replace(tmp, target)
    return target


def open_bench_engine(with_distractors: bool):  # type: ignore[no-untyped-def]
    from embeddings.engine import open_engine

    corpus = bench_corpus(with_distractors)
    index = CACHE / ("index-ungd" if with_distractors else "index-seed")
    return open_engine(corpus, index, SentenceTransformerEmbedder(), on_notice=lambda m: print(m, file=sys.stderr))


def show(title: str, report: Report) -> str:
    return f"{title}\n{table(report.tallies)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--distractors", action="store_true", help="also judge with 300 UN speeches beside the seeds")
    parser.add_argument("--train-both", action="store_true", help="train on the pool over both corpora")
    parser.add_argument("--decline-both", action="store_true", help="learn declining over both corpora")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--heldback", action="store_true", help="also judge the shipped models on our unseen sets")
    parser.add_argument("--misses", action="store_true", help="list held-back misses")
    args = parser.parse_args()

    started = time.perf_counter()
    settings = [False, True] if args.distractors or args.train_both or args.decline_both else [False]
    trained_on = settings if args.train_both else [False]
    engines = {d: open_bench_engine(d) for d in settings}
    questions = [q for path in POOL for q in load_questions(path)]
    styles = load_styles(POOL_STYLES)
    examples = {d: collect(engines[d], questions, styles) for d in settings}
    every = [e for d in trained_on for e in examples[d]]
    decline_on = [e for d in settings for e in examples[d]] if args.decline_both else every
    print(f"pool: {len(questions)} questions, candidates computed in {time.perf_counter() - started:.1f} s")

    folds = stratified_folds(every, args.folds)
    decline_folds = stratified_folds(decline_on, args.folds)
    fold_models = {
        f: train(
            [e for e, g in zip(every, folds, strict=True) if g != f],
            [e for e, g in zip(decline_on, decline_folds, strict=True) if g != f],
        )
        for f in range(args.folds)
    }
    full = train(every, decline_on)
    for d in settings:
        name = "seeds + 300 UN speeches" if d else "seed corpus"
        cv = judge(engines[d], examples[d], fold_models.__getitem__, stratified_folds(examples[d], args.folds))
        print(show(f"\n{name}: held-back ({args.folds}-fold cross-validation)", cv))
        insample = judge(engines[d], examples[d], lambda _f: full, [0] * len(examples[d]))
        print(show(f"\n{name}: in-sample (trained and judged on the same pool: not a result)", insample))
        if args.misses:
            print("\nheld-back misses:")
            for o in cv.outcomes:
                if o.miss:
                    print(f"  {o.question.qid} [{o.style}] answered={o.answer.answered} rank={o.rank}")
    if args.heldback:
        models = shipped_models()
        for d in settings:
            for name, (path, style_path) in HELDBACK.items():
                if name == "ungd" and not d:
                    continue
                held = collect(engines[d], load_questions(path), load_styles([style_path]))
                report = judge(engines[d], held, lambda _f: models, [0] * len(held))
                where = "seeds + 300 UN speeches" if d else "seed corpus"
                print(show(f"\nshipped models on our own unseen set '{name}', {where}", report))
    print(f"\n{time.perf_counter() - started:.1f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
