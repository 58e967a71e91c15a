"""How far `compare` and `timeline` can be trusted: held-back figures on the labelled items.

    .venv/bin/python benchmarks/positions.py                 # 5 folds grouped by topic, seeds + 300 speeches
    .venv/bin/python benchmarks/positions.py --misses        # and every held-back miss
    .venv/bin/python benchmarks/positions.py --shipped       # also the shipped model (in-sample: an upper bound)
    .venv/bin/python benchmarks/positions.py --signals top_score,best_cover   # another set of signals

The items (`benchmarks/questions/compare_ungd.jsonl`, from the shared eval set: 55 compare items
with 257 speaker judgements, 22 timeline items with 79 statements) are answered with the seeds and
the 300 UN speeches indexed, and over the five seeds alone (`runs`), where most topics have no
statement at all: a comparison must say so there too. Each fold's items are answered by an address
model fitted on the other folds' statements only, its three levels chosen on those folds too;
topics sharing most of their words share a fold. The shipped model, fitted on all items, is printed
apart: an upper bound, never a result. Held-back own items (`heldback_compare.jsonl`, written by
someone who never saw the code) are judged with the shipped model when present.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from crossval import open_bench_engine  # noqa: E402

from embeddings.answer.addressing import SIGNALS, shipped_address_model  # noqa: E402
from embeddings.quality.positions import (  # noqa: E402
    ADDRESS_FEATURES,
    AnalysisReport,
    Run,
    StatementRow,
    collect_statements,
    crossvalidate,
    judge_with,
    load_analysis_items,
    within,
)

ITEMS = ROOT / "benchmarks" / "questions" / "compare_ungd.jsonl"
SEED_SILENCES = ROOT / "benchmarks" / "questions" / "seed_silences.jsonl"
HELDBACK = ROOT / "benchmarks" / "questions" / "heldback_compare.jsonl"


def runs() -> list[Run]:
    """The items over the seeds and the 300 speeches, and over the five seeds alone: there the items'
    seed speakers, and the topics none of the seeds touches (`seed_silences.jsonl`: every topic of
    the items but the eleven on North Korea, Russia or Ukraine, each checked against the five texts)."""
    scale, seeds = open_bench_engine(None), open_bench_engine(0)
    items = load_analysis_items(ITEMS)
    alone = within(seeds, [*items, *load_analysis_items(SEED_SILENCES)])
    return [Run("seeds + 300 speeches", scale, items), Run("seeds alone", seeds, alone)]


def statements(every: list[Run]) -> list[StatementRow]:
    return [row for run in every for row in collect_statements(run.engine, run.items, run.name)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--misses", action="store_true", help="print every held-back miss")
    parser.add_argument("--shipped", action="store_true", help="also the shipped model on the same items")
    parser.add_argument("--signals", default=",".join(ADDRESS_FEATURES), help="comma-separated signals to fit on")
    parser.add_argument("--json", action="store_true", help="figures as one JSON object")
    args = parser.parse_args()
    signals = tuple(s for s in args.signals.split(",") if s)
    unknown = [s for s in signals if s not in SIGNALS]
    if unknown:
        parser.error(f"unknown signal(s) {', '.join(unknown)}; known: {', '.join(SIGNALS)}")
    started = time.perf_counter()
    every = runs()
    held = crossvalidate(every, statements(every), features=signals)
    figures: dict[str, object] = {"signals": list(signals), "heldback": {k: r.metrics() for k, r in held.items()}}
    shipped: dict[str, AnalysisReport] = {}
    if args.shipped:
        shipped = {run.name: judge_with(run.engine, run.items, shipped_address_model()) for run in every}
        figures["shipped_in_sample"] = {k: r.metrics() for k, r in shipped.items()}
    own: AnalysisReport | None = None
    if HELDBACK.exists():
        own = judge_with(every[0].engine, load_analysis_items(HELDBACK), shipped_address_model())
        figures["own_heldback_shipped"] = own.metrics()
    figures["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"signals: {', '.join(signals)}")
    for name, report in held.items():
        print(f"\n== held back, {name} (5 folds grouped by topic)\n" + report.table())
    for name, report in shipped.items():
        print(f"\n== shipped model, {name}, in sample (upper bound, not a result)\n" + report.table())
    if own is not None:
        print(f"\n== shipped model on {HELDBACK.name}, seeds + 300 speeches (items never trained on)\n" + own.table())
    if args.misses:
        for name, report in held.items():
            print(f"\n== held-back misses, {name}\n" + "\n".join(sorted(report.misses)))
        if own is not None:
            print(f"\n== misses on {HELDBACK.name}\n" + "\n".join(sorted(own.misses)))
    print(f"\n{figures['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
