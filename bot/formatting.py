"""What the bot says, as plain data: escaped, bolded, cut to Discord's limits. Only discord.py's
text utilities are used, so every rule here is tested without a client.

Limits: message content 2,000 characters; embed title 256, description 4,096, field value 1,024,
footer 2,048, 6,000 in all and 10 embeds per message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from discord.utils import escape_markdown, escape_mentions

from embeddings.presentation import (
    comparison_notes,
    decline_lines,
    draft_rows,
    position_heading,
    quote_lines,
    short_citation,
    silence_line,
)
from embeddings.types import Answer, Comparison, Corpus, Document, Draft, Paragraph, Position, Result

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
PAGE_CHARS = 3500
"""Text per `/source` page: under the description limit with room for paragraph labels."""

_BLOCK_MARKUP = re.compile(r"^(\s*(?:\d+)?)([#>\-+]|(?<=\d)[.)])(?=\s)", re.MULTILINE)
"""Headings, quotes and list items at the start of a line, which escape_markdown leaves alone."""


def escape(text: str) -> str:
    """Statement text is shown as text: markdown is escaped (discord.py's escape_markdown for inline
    markup, links included, and the line-start markers it leaves: "# ", "- ", "1. ") and mentions are
    defused (with allowed_mentions empty they would not ping, but they must not render as pings)."""
    text = escape_markdown(text, ignore_links=False)
    return escape_mentions(_BLOCK_MARKUP.sub(r"\1\\\2", text))


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class EmbedData:
    title: str
    description: str
    footer: str = ""
    url_doc: str = ""
    """The document this embed quotes, for its "Full text" button."""
    paragraph: int = 1

    def size(self) -> int:
        return len(self.title) + len(self.description) + len(self.footer)


def quote_markdown(result: Result, limit: int = DESCRIPTION_LIMIT - 10) -> str:
    """The quote, escaped, one `> ` line per source line (never re-flowed), the answering sentence
    in bold piece by piece; cut at a line end when over the limit."""
    out: list[str] = []
    used = 0
    for pieces in quote_lines(result):
        line = "> " + "".join(f"**{escape(t)}**" if marked else escape(t) for t, marked in pieces)
        if used + len(line) + 1 > limit:
            room = limit - used - 1
            if room > 3:
                out.append(clip(line, room))
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


FOOTER_CITATION = 400
"""Footer space for a citation: more would crowd three answers into Discord's 6,000 characters."""
QUOTE_BUDGET = 1500
MAX_EMBEDS = 10


def answer_embeds(answer: Answer, corpus: Corpus) -> list[EmbedData]:
    """Up to three embeds, within every Discord limit: when titles, citations and quotes together
    would pass the 6,000 characters of one message, the quotes are cut shorter (at a line end)."""
    results = answer.results[:3]
    heads = []
    for n, r in enumerate(results, 1):
        doc = corpus.documents[r.doc_id]
        heads.append((clip(f"{n}. {r.title}", TITLE_LIMIT), short_citation(doc, r.paragraph, FOOTER_CITATION)))
    fixed = sum(len(t) + len(f) for t, f in heads)
    budget = min(QUOTE_BUDGET, (EMBED_TOTAL_LIMIT - fixed) // max(len(results), 1))
    return [
        EmbedData(
            title=title,
            description=quote_markdown(r, limit=budget),
            footer=footer,
            url_doc=r.doc_id,
            paragraph=r.paragraph.first,
        )
        for r, (title, footer) in zip(results, heads, strict=True)
    ]


def passage_embeds(items: list[tuple[str, Result]], corpus: Corpus, reserved: int = 0) -> list[EmbedData]:
    """One embed per (heading, passage), up to Discord's ten a message, all within its 6,000
    characters (less `reserved` for the message's own text): the quotes share what is left."""
    items = items[:MAX_EMBEDS]
    heads = [
        (clip(heading, TITLE_LIMIT), short_citation(corpus.documents[r.doc_id], r.paragraph, FOOTER_CITATION))
        for heading, r in items
    ]
    fixed = sum(len(t) + len(f) for t, f in heads)
    budget = min(QUOTE_BUDGET, (EMBED_TOTAL_LIMIT - reserved - fixed) // max(len(items), 1))
    return [
        EmbedData(
            title=title,
            description=quote_markdown(r, limit=max(budget, 80)),
            footer=footer,
            url_doc=r.doc_id,
            paragraph=r.paragraph.first,
        )
        for (_, r), (title, footer) in zip(items, heads, strict=True)
    ]


PASSAGE_MIN = 300
"""Characters below which a quote says too little to check: a speaker's further passages are left
out before any passage is cut shorter than this."""


def position_embeds(positions: list[Position], corpus: Corpus, reserved: int = 0) -> list[EmbedData]:
    """One embed per speaker quoted (ten at most), its passages one after another, each followed by
    its citation, all within one message's 6,000 characters (less `reserved`)."""
    quoted = [p for p in positions if p.passages][:MAX_EMBEDS]
    titles = [clip(escape(position_heading(p)), TITLE_LIMIT) for p in quoted]
    room = min(DESCRIPTION_LIMIT, (EMBED_TOTAL_LIMIT - reserved - sum(map(len, titles))) // max(len(quoted), 1))
    embeds = []
    for position, title in zip(quoted, titles, strict=True):
        count = max(1, min(len(position.passages), room // PASSAGE_MIN))
        shown = position.passages[:count]
        cites = ["— " + escape(short_citation(corpus.documents[r.doc_id], r.paragraph, FOOTER_CITATION)) for r in shown]
        each = (room - sum(len(c) + 3 for c in cites)) // count
        parts = [f"{quote_markdown(r, limit=max(each, 80))}\n{c}" for r, c in zip(shown, cites, strict=True)]
        first = shown[0]
        embeds.append(
            EmbedData(
                title=title, description="\n\n".join(parts), url_doc=first.doc_id, paragraph=first.paragraph.first
            )
        )
    return embeds


def comparison_text(comparison: Comparison, heading: str, nothing: str, named: bool) -> str:
    """A comparison's message text: its heading, then each silence with what was checked, then who
    has no statement at all; `nothing` when no speaker was named and none is quoted."""
    lines = [escape(heading)]
    if not named and not any(p.passages for p in comparison.positions):
        lines.append(nothing)
    lines += [escape(silence_line(p)) for p in comparison.silent]
    lines += comparison_lines(comparison)
    return clip("\n".join(lines), CONTENT_LIMIT)


def answer_header(question: str, reading: str = "") -> str:
    """The question as the member typed it and, for a follow-up, how it was read ("Read as: what
    did Russia say about ...?"), so a wrong reading is seen at once; both escaped, since both echo
    what a member typed."""
    read = f"\n*{escape(reading)}*" if reading else ""
    return clip(f"**Q:** {escape(question)}{read}", CONTENT_LIMIT)


def decline_text(question: str, answer: Answer, corpus: Corpus, reading: str = "") -> str:
    first, *rest = decline_lines(answer, corpus)
    lines = [answer_header(question, reading), "", escape(first)]  # it may name words of the question
    if rest:
        lines.append(rest[0])
        lines += [f"• {escape(s)}" for s in rest[1:]]
        lines.append("Try `/sources` for the full list.")
    return clip("\n".join(lines), CONTENT_LIMIT)


def source_pages(doc: Document, paras: list[Paragraph]) -> list[str]:
    """The document's paragraphs, numbered and escaped, packed into pages; a paragraph longer than
    a page is split across pages rather than cut."""
    pages: list[str] = []
    current = ""
    for p in paras:
        block = f"**[{p.number}]** {escape(doc.text[p.start : p.end])}"
        while len(block) > PAGE_CHARS:
            if current:
                pages.append(current)
                current = ""
            cut = block.rfind(" ", 0, PAGE_CHARS)
            cut = cut if cut > PAGE_CHARS // 2 else PAGE_CHARS
            pages.append(block[:cut])
            block = f"**[{p.number}, cont.]** " + block[cut:].lstrip()
        if current and len(current) + 2 + len(block) > PAGE_CHARS:
            pages.append(current)
            current = ""
        current = f"{current}\n\n{block}" if current else block
    if current:
        pages.append(current)
    return pages or ["(empty)"]


def page_of_paragraph(pages: list[str], number: int) -> int:
    for i, page in enumerate(pages):
        if f"**[{number}]**" in page or f"**[{number}, cont.]**" in page:
            return i
    return 0


def source_header(doc: Document) -> str:
    bits = [doc.speaker, doc.venue, doc.date.isoformat()]
    if doc.symbol:
        bits.append(doc.symbol)
    return clip(escape(" · ".join(bits)), FOOTER_LIMIT)


def sources_lines(documents: list[Document]) -> list[str]:
    """One entry per document, in the order given (the service lists them newest first)."""
    return [
        f"**{escape(d.title)}**\n{escape(d.speaker)} · {escape(d.venue)} · {d.date.isoformat()} · `{d.doc_id}`"
        for d in documents
    ]


def comparison_lines(comparison: Comparison) -> list[str]:
    """The shared notes under a comparison (who is out of range, unknown, not compared), escaped."""
    return [f"{label}: " + ", ".join(escape(n) for n in names) for label, names in comparison_notes(comparison)]


def draft_fields(draft: Draft) -> list[tuple[str, str]]:
    """(name, shown value) for each header field of a statement about to be added, escaped, with
    how an inferred one was found."""
    rows = []
    for name, value, how in draft_rows(draft):
        shown = escape(value) if value else "*not found: use Edit*"
        if how and value:
            shown += f"\n-# inferred {escape(how)}"
        rows.append((name, shown))
    return rows


def pack(lines: list[str], limit: int = DESCRIPTION_LIMIT) -> list[str]:
    pages, current = [], ""
    for line in lines:
        line = clip(line, limit)
        if current and len(current) + 2 + len(line) > limit:
            pages.append(current)
            current = ""
        current = f"{current}\n\n{line}" if current else line
    return [*pages, current] if current else pages


HELP_TEXT = """**Verbatim** answers questions about the statements in its corpus with exact quotes.

• `/ask question` — up to three passages, quoted word for word, the answering sentence in **bold**,
  each with its citation and a *Full text* button.
  Optional: `document`, `speaker`, `venue`, `since`, `until` (YYYY, YYYY-MM or YYYY-MM-DD).
• Mention me with a question — the same answer, as a reply.
• `/source document [paragraph]` — a document's full text, paged, with paragraph numbers and a download button.
• `/sources` — the documents in the corpus.
• `/add file` or `/add link` — add a statement from a PDF, web page or text file, or a link: you see
  what was detected, privately, and Save, Edit or Cancel (Manage Server or the admin role).
• `/reindex` — rebuild the index after statements are added (Manage Server or the admin role).

When nothing in the corpus answers, I say so rather than quote something unrelated."""
