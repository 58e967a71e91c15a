"""Finding the document a member means, from autocomplete or typed words. Never a path: only
corpus entries."""

from __future__ import annotations

from discord import app_commands

from bot.formatting import clip, escape
from bot.replies import Refusal
from embeddings.service import Verbatim
from embeddings.types import Corpus, Document

MAX_CHOICES = 25
"""Discord shows at most 25 autocomplete choices."""


def resolve_document(corpus: Corpus, typed: str) -> Document:
    """The document a member meant: an id picked from autocomplete, or words typed without picking
    (title, speaker, date) that match exactly one document."""
    doc = corpus.get(typed.strip())
    if doc is not None:
        return doc
    found = corpus.matching(typed)
    shown = escape(clip(typed.strip(), 100))
    if len(found) == 1:
        return found[0]
    if not found:
        raise Refusal(f"No document matches “{shown}”. Pick one from the list as you type, or see `/sources`.")
    names = "; ".join(escape(clip(d.title, 80)) for d in found[:3])
    raise Refusal(f"“{shown}” matches {len(found)} documents ({names}…). Pick one from the list as you type.")


def document_choices(service: Verbatim, current: str) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=clip(f"{d.title} ({d.date.isoformat()})", 100), value=d.doc_id)
        for d in service.matching(current)[:MAX_CHOICES]
    ]
