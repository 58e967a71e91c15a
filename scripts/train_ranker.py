"""Fit the ranking and answerability models on the whole question pool and write them to
`embeddings/data/ranker.json`, the file every answer uses.

    .venv/bin/python scripts/train_ranker.py            # the pool over the seeds + 300 UN speeches
    .venv/bin/python scripts/train_ranker.py --check    # fail if the shipped file differs from a fresh fit

The pool is learnt where people use it: with the seeds and the 300 UN speeches indexed together,
and its seed questions over the five seeds alone too (`benchmarks/crossval.py` gives the held-back
figures of exactly this procedure). Every inner
choice (regularisation, decline threshold, vetoes) is made by cross-validation inside the pool.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from crossval import POOL, open_bench_engine, training_examples  # noqa: E402

from embeddings.answer.ranking import MODEL_FILE  # noqa: E402
from embeddings.quality.learning import train  # noqa: E402

TARGET = ROOT / "embeddings" / "data" / MODEL_FILE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing")
    args = parser.parse_args()
    scale, seeds = open_bench_engine(None), open_bench_engine(0)
    examples, seed_examples = training_examples(scale, seeds)
    models = train([*examples, *seed_examples])
    models.info["corpora"] = [f"seeds + 300 UN speeches ({len(scale.corpus)} documents)", "seeds alone (5)"]
    models.info["pool"] = [p.name for p in POOL]
    text = models.dumps()
    if args.check:
        same = TARGET.exists() and TARGET.read_text(encoding="utf-8") == text
        print("shipped models match a fresh fit" if same else "shipped models differ from a fresh fit")
        return 0 if same else 1
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}: {json.dumps(models.info)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
