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


def read_html(data: bytes, url: str, label: str = "") -> HtmlText:
    """`url` is the page's own address (for relative links and the site's name), `label` what to
    call the page in a refusal (a file's path, when there is no address)."""
    import trafilatura

    # Their own error lines ("empty HTML tree", "parsed tree length: 0") are not for a user: a page
    # that cannot be read is refused below with one line of ours.
    for library in ("trafilatura", "htmldate", "justext", "courlan"):
        logging.getLogger(library).setLevel(logging.CRITICAL)
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
            f"{label or url or 'the page'} has no main text that reads as a statement (an index page or a login wall?)"
        )
    return HtmlText(
        paragraphs,
        str(getattr(document, "title", "") or ""),
        str(getattr(document, "date", "") or ""),
        str(getattr(document, "sitename", "") or ""),
        str(getattr(document, "author", "") or ""),
    )
