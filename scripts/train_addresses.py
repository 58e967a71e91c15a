"""Fit the address model (does a statement address a topic?) on the labelled compare and timeline
items and write it to `embeddings/data/addresses.json`, the file `compare` and `timeline` use.

    .venv/bin/python scripts/train_addresses.py            # the items over the seeds + 300 speeches, and the seeds
    .venv/bin/python scripts/train_addresses.py --check    # fail if the shipped file differs from a fresh fit

`benchmarks/positions.py` gives the held-back figures of exactly this procedure (folds grouped by topic).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from positions import ITEMS, SEED_SILENCES, runs, statements  # noqa: E402

from embeddings.answer.addressing import ADDRESS_FILE  # noqa: E402
from embeddings.quality.positions import fit_address_model  # noqa: E402

TARGET = ROOT / "embeddings" / "data" / ADDRESS_FILE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing")
    args = parser.parse_args()
    every = runs()
    model = fit_address_model(statements(every))
    model.info["corpora"] = [f"{run.name} ({len(run.engine.corpus)} documents)" for run in every]
    model.info["items"] = [ITEMS.name, SEED_SILENCES.name]
    text = model.dumps()
    if args.check:
        same = TARGET.exists() and TARGET.read_text(encoding="utf-8") == text
        print("shipped address model matches a fresh fit" if same else "shipped address model differs from a fresh fit")
        return 0 if same else 1
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}: {json.dumps(model.info)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
