"""The main text of a web page (trafilatura: navigation, share buttons, footers and comments left
out) and what the page says about itself (title, date via htmldate, site name)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from embeddings.ingest.errors import IngestError

MIN_TEXT_CHARS = 200
"""Less main text than this is a page about something else (an index, a login wall), not a statement."""


@dataclass(frozen=True)
class HtmlText:
    paragraphs: list[str]
    title: str
    date: str
    site: str
    author: str


def read_html(data: bytes, url: str) -> HtmlText:
    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)
    document = trafilatura.bare_extraction(
        data,
        url=url or None,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        favor_precision=True,
    )
    text = (getattr(document, "text", None) or "") if document is not None else ""
    paragraphs = [line.strip() for line in text.split("\n") if line.strip()]
    if sum(len(p) for p in paragraphs) < MIN_TEXT_CHARS:
        raise IngestError(
            f"{url or 'the page'} has no main text that reads as a statement (an index page or a login wall?)"
        )
    return HtmlText(
        paragraphs,
        str(getattr(document, "title", "") or ""),
        str(getattr(document, "date", "") or ""),
        str(getattr(document, "sitename", "") or ""),
        str(getattr(document, "author", "") or ""),
    )
