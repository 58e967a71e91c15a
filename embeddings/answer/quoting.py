"""Choosing what to quote from a chunk: one to three consecutive sentences around the best one.

The quote is always ``document.text[start:end]``; this module only picks the offsets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

QUOTE_CHARS = 500
"""About what a reader takes in at a glance, and what fits three results in one Discord message."""
MAX_SENTENCES = 3


@dataclass(frozen=True)
class Quote:
    start: int
    end: int
    highlight_start: int
    highlight_end: int
    """The best sentence, in document offsets."""


def choose_quote(
    spans: Sequence[tuple[int, int]],
    scores: Sequence[float],
    *,
    max_chars: int = QUOTE_CHARS,
    max_sentences: int = MAX_SENTENCES,
    best: int | None = None,
) -> Quote:
    """Best sentence (or the one given), then its better neighbour while the quote stays within the
    budget; a neighbour scored minus infinity is never joined.

    A neighbour is added even when it scores lower: a sentence read alone often loses its subject
    ("This, again, constitutes...") and the budget keeps the quote short anyway.
    """
    if not spans or len(spans) != len(scores):
        raise ValueError("need one score per sentence")
    if best is None:
        best = max(range(len(spans)), key=lambda i: (scores[i], -i))
    first = last = best
    while last - first + 1 < max_sentences:
        options = []
        if first > 0 and scores[first - 1] > -math.inf and spans[last][1] - spans[first - 1][0] <= max_chars:
            options.append((scores[first - 1], first - 1))
        if last + 1 < len(spans) and scores[last + 1] > -math.inf and spans[last + 1][1] - spans[first][0] <= max_chars:
            options.append((scores[last + 1], last + 1))
        if not options:
            break
        _, pick = max(options)
        if pick < first:
            first = pick
        else:
            last = pick
    return Quote(spans[first][0], spans[last][1], spans[best][0], spans[best][1])
