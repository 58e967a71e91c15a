"""Answers as plain text for a terminal: the same content the bot shows, without Discord."""

from __future__ import annotations

import textwrap

from embeddings.chunking import Paragraph
from embeddings.corpus import Corpus, Document
from embeddings.search import Answer, Result

BOLD, RESET = "\033[1m", "\033[0m"


def marked_quote(result: Result, start_mark: str, end_mark: str) -> str:
    """The quote with the answering sentence wrapped in marks; the words themselves untouched."""
    a, b = result.highlight
    return result.quote[:a] + start_mark + result.quote[a:b] + end_mark + result.quote[b:]


def suggestions(corpus: Corpus, limit: int = 5) -> list[str]:
    docs = sorted(corpus.documents.values(), key=lambda d: d.date, reverse=True)
    return [f"{d.title} ({d.date.isoformat()})" for d in docs[:limit]]


def render_answer(answer: Answer, corpus: Corpus, *, color: bool = False, width: int = 100) -> str:
    if not answer.answered or not answer.results:
        lines = [f"Nothing in the corpus answers this ({answer.note or 'no passage is close enough'})."]
        if answer.note != "no document matches those filters":
            lines.append("The corpus covers, among others:")
            lines += [f"  - {s}" for s in suggestions(corpus)]
        return "\n".join(lines)
    marks = (BOLD, RESET) if color else ("**", "**")
    out: list[str] = []
    for n, result in enumerate(answer.results, 1):
        quote = " ".join(marked_quote(result, *marks).split())
        body = textwrap.fill(f"“{quote}”", width=width, initial_indent=f"[{n}] ", subsequent_indent="    ")
        out.append(body)
        out.append(
            textwrap.fill(
                f"— {result.citation}  [{result.doc_id}]",
                width=width,
                initial_indent="    ",
                subsequent_indent="      ",
            )
        )
        out.append("")
    return "\n".join(out).rstrip()


def render_source(doc: Document, paras: list[Paragraph], paragraph: int | None = None) -> str:
    header = [doc.title, f"{doc.speaker} · {doc.venue} · {doc.date.isoformat()}"]
    if doc.symbol:
        header.append(f"Symbol: {doc.symbol}")
    if doc.source:
        header.append(f"Source: {doc.source}")
    if doc.note:
        header.append(f"Note: {doc.note}")
    selected = [p for p in paras if paragraph is None or p.number == paragraph]
    body = [f"[{p.number}] {doc.text[p.start : p.end]}" for p in selected]
    return "\n".join(header) + "\n\n" + "\n\n".join(body)
