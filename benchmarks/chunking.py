"""Chunking time against document size: it must grow linearly, also for one very long paragraph.

    .venv/bin/python benchmarks/chunking.py

Prints seconds and seconds per MB for documents of ordinary paragraphs and for a single paragraph
of growing length, side by side in one run, counting tokens with the real model's tokenizer.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from embeddings.corpus.chunking import chunk_document
from embeddings.index.embedder import SentenceTransformerEmbedder

WORDS = [
    "the",
    "delegation",
    "condemns",
    "launch",
    "ballistic",
    "missile",
    "sanctions",
    "council",
    "resolution",
    "Japan",
    "Russia",
    "North",
    "Korea",
    "cooperation",
    "transfers",
    "violation",
    "international",
    "law",
    "community",
    "peace",
    "security",
]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30))).capitalize() + "."


def main() -> int:
    rng = random.Random(0)
    count = SentenceTransformerEmbedder().count_tokens
    cases = []
    for paragraphs in (350, 700, 1400):
        cases.append(
            (
                "paragraphs of 5 sentences",
                "\n\n".join(" ".join(sentence(rng) for _ in range(5)) for _ in range(paragraphs)),
            )
        )
    for sentences in (300, 600, 1200):
        cases.append(("one paragraph", " ".join(sentence(rng) for _ in range(sentences))))
    print(f"{'document':<28}{'MB':>8}{'chunks':>8}{'seconds':>9}{'s per MB':>10}")
    for label, text in cases:
        started = time.perf_counter()
        chunks = chunk_document(text, count, 230)
        took = time.perf_counter() - started
        mb = len(text.encode()) / 1e6
        print(f"{label:<28}{mb:>8.2f}{len(chunks):>8}{took:>9.2f}{took / mb:>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
