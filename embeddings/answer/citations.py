"""How a source is named to a reader: the same citation in the terminal, in JSON and in Discord."""

from __future__ import annotations

import datetime as dt

from embeddings.corpus.chunking import ParagraphSpan
from embeddings.corpus.documents import Document


def format_date(date: dt.date) -> str:
    return f"{date.day} {date.strftime('%B')} {date.year}"


def citation(doc: Document, paragraph: ParagraphSpan, limit: int | None = None) -> str:
    """Title, speaker, venue, date, symbol and paragraph: enough to find the words in the original.

    A press report names its publisher as the speaker field, so a reader can weigh the source.
    Within a length limit (a Discord footer) the title, speaker and venue are shortened, never the
    locators (date, symbol, paragraph) that lead to the text.
    """
    locators = [format_date(doc.date), *([doc.symbol] if doc.symbol else []), paragraph.label()]
    names = [doc.title, doc.speaker, doc.venue]
    full = ", ".join(names + locators)
    if limit is None or len(full) <= limit:
        return full
    budget = max(limit - len(", ".join(locators)) - 2 * len(names), len(names))
    shares = [0] * len(names)
    left = budget
    for rank, i in enumerate(sorted(range(len(names)), key=lambda i: len(names[i]))):
        shares[i] = min(len(names[i]), left // (len(names) - rank))
        left -= shares[i]
    short = [n if len(n) <= w else n[: max(w - 1, 0)].rstrip() + "…" for n, w in zip(names, shares, strict=True)]
    return ", ".join(short + locators)
