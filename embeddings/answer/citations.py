"""How a source is named to a reader: the same citation in the terminal, in JSON and in Discord."""

from __future__ import annotations

import datetime as dt

from embeddings.corpus.chunking import ParagraphSpan
from embeddings.corpus.documents import Document


def format_date(date: dt.date) -> str:
    return f"{date.day} {date.strftime('%B')} {date.year}"


def citation(doc: Document, paragraph: ParagraphSpan) -> str:
    """Title, speaker, venue, date, symbol and paragraph: enough to find the words in the original.

    A press report names its publisher as the speaker field, so a reader can weigh the source.
    """
    parts = [doc.title, doc.speaker, doc.venue, format_date(doc.date)]
    if doc.symbol:
        parts.append(doc.symbol)
    parts.append(paragraph.label())
    return ", ".join(parts)
