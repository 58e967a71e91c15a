"""Fit the ranking and answerability models on the whole question pool and write them to
`embeddings/data/ranker.json`, the file every answer uses.

    .venv/bin/python scripts/train_ranker.py            # the pool over the seed corpus
    .venv/bin/python scripts/train_ranker.py --both     # and again over the seeds with 300 UN speeches

The shipped file is trained over the seed corpus alone: training over both corpora did worse on
held-back folds of the seed corpus (hit@1 0.72 against 0.78) and no better on our own unseen
questions about the UN speeches (README.md, "Answer quality").
    .venv/bin/python scripts/train_ranker.py --check    # fail if the shipped file differs from a fresh fit

Every inner choice (regularisation, decline threshold) is made by cross-validation inside the pool;
`benchmarks/crossval.py` reports how the same procedure does on questions it did not see.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from crossval import POOL, POOL_STYLES, open_bench_engine  # noqa: E402

from embeddings.answer.ranking import MODEL_FILE  # noqa: E402
from embeddings.quality.evaluation import load_questions, load_styles  # noqa: E402
from embeddings.quality.learning import collect, train  # noqa: E402

TARGET = ROOT / "embeddings" / "data" / MODEL_FILE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing")
    parser.add_argument("--both", action="store_true", help="also train over the seeds with the 300 UN speeches")
    args = parser.parse_args()
    questions = [q for path in POOL for q in load_questions(path)]
    styles = load_styles(POOL_STYLES)
    settings = [False, True] if args.both else [False]
    examples = [e for d in settings for e in collect(open_bench_engine(d), questions, styles)]
    models = train(examples)
    models.info["corpora"] = ["seeds", "seeds + 300 UN speeches"][: len(settings)]
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
