"""What Verbatim says, in one place: the wording, field order and sort order every front end uses,
and the terminal's skin of it (plain text, optionally bold on a terminal). Discord's skin
(`bot/formatting.py`) escapes the same words and cuts them to Discord's limits; neither invents
wording of its own, so the terminal and the bot say the same thing in the same words."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

from embeddings.answer.analysis import MAX_GROUPS, Comparison, Position, Timeline, Verdict
from embeddings.answer.citations import citation
from embeddings.answer.search import Answer, Decline, Result, join_words
from embeddings.corpus.chunking import Paragraph, ParagraphSpan
from embeddings.corpus.documents import Corpus, Document
from embeddings.ingest.add import Draft
from embeddings.progress import bar

BOLD, RESET = "\033[1m", "\033[0m"


def quote_lines(result: Result) -> list[list[tuple[str, bool]]]:
    """The quote as its source lines, each a list of (text, highlighted) pieces.

    Every front end shows a quote line for line as the source has it (never re-flowed, so a reader
    can hold it against the original), with the answering sentence marked. Highlighted pieces carry
    no surrounding white space, since markdown bold does not open or close next to a space; the
    spaces stay in the plain pieces beside them.
    """
    a, b = result.highlight
    lines: list[list[tuple[str, bool]]] = []
    pos = 0
    for raw in result.quote.split("\n"):
        start, end = pos, pos + len(raw)
        pos = end + 1
        line = raw.rstrip("\r")
        pieces: list[tuple[str, bool]] = []
        cuts = sorted({0, len(line), *(min(max(x - start, 0), len(line)) for x in (a, b))})
        for lo, hi in itertools.pairwise(cuts):
            text = line[lo:hi]
            marked = a <= start + lo and start + hi <= b
            if marked and text.strip():
                lead, core = len(text) - len(text.lstrip()), text.strip()
                if lead:
                    pieces.append((text[:lead], False))
                pieces.append((core, True))
                tail = len(text) - len(text.rstrip())
                if tail:
                    pieces.append((text[len(text) - tail :], False))
            elif text:
                pieces.append((text, False))
        lines.append(pieces)
    return lines


def marked_quote(result: Result, start_mark: str, end_mark: str) -> str:
    """The quote line for line, the answering sentence wrapped in marks; the words untouched, but
    for asterisks when the marks are markdown's: a source that prints its own `**bold**` would
    otherwise run into the highlight's (`****...****`), so its asterisks are shown escaped."""
    plain = "*" in start_mark

    def shown(text: str) -> str:
        return text.replace("*", "\\*") if plain else text

    return "\n".join(
        "".join(f"{start_mark}{shown(text)}{end_mark}" if marked else shown(text) for text, marked in line)
        for line in quote_lines(result)
    )


def suggestions(corpus: Corpus, answer: Answer | None = None, limit: int = 5) -> list[str]:
    """What to offer when nothing answers: the passages nearest the question (by document and
    paragraph, never quoted, since they do not answer it), else the newest documents."""
    if answer is not None and answer.nearest:
        return [
            f"{r.title} ({corpus.documents[r.doc_id].date.isoformat()}), {r.paragraph.label()}"
            for r in answer.nearest[:limit]
        ]
    return [f"{d.title} ({d.date.isoformat()})" for d in newest_first(corpus.documents.values())[:limit]]


def decline_lines(answer: Answer, corpus: Corpus) -> list[str]:
    """Why nothing is quoted, and where the corpus comes nearest: the same words in every front end."""
    if answer.reason is Decline.NO_MATCHING_DOCUMENTS:
        return ["No document matches those filters."]
    if answer.reason is Decline.NOTHING_TO_FOLLOW:
        return ["Nothing to follow up here: ask a whole question first, such as “What did Japan say about sanctions?”"]
    if answer.reason is Decline.NO_MORE:
        return ["No further passage answers this: ask about another speaker, date or topic."]
    lines = [
        f"Nothing in the corpus answers this: {answer.scope}."
        if answer.scope
        else "Nothing in the corpus answers this."
    ]
    if answer.nearest:
        lines.append("The nearest the corpus comes is on a related point in:")
    else:
        lines.append("The corpus covers, among others:")
    return lines + suggestions(corpus, answer)


def render_answer(answer: Answer, corpus: Corpus, *, color: bool = False, width: int = 100) -> str:
    if not answer.answered or not answer.results:
        first, *rest = decline_lines(answer, corpus)
        return "\n".join([first, *rest[:1], *(f"  - {s}" for s in rest[1:])])
    out: list[str] = []
    for n, result in enumerate(answer.results, 1):
        out += [*_passage(result, color, width, f"[{n}]"), ""]
    return "\n".join(out).rstrip()


def _passage(result: Result, color: bool, width: int, label: str) -> list[str]:
    marks = (BOLD, RESET) if color else ("**", "**")
    lines = marked_quote(result, *marks).split("\n")
    out = [f"{label} “{lines[0]}" + ("”" if len(lines) == 1 else "")]
    out += [f"    {line}" for line in lines[1:-1]]
    if len(lines) > 1:
        out.append(f"    {lines[-1]}”")
    out.append(_citation_line(result, width))
    return out


def _citation_line(result: Result, width: int) -> str:
    """The citation wrapped to the terminal, never inside a word: an id or a symbol broken at its
    hyphens could not be copied back into `verbatim source`."""
    return textwrap.fill(
        f"— {result.citation}  [{result.doc_id}]",
        width=width,
        initial_indent="    ",
        subsequent_indent="      ",
        break_on_hyphens=False,
        break_long_words=False,
    )


# -- shared wording --------------------------------------------------------------------------------

HEADER_FIELDS = ("title", "speaker", "organisation", "venue", "date", "symbol", "kind", "source")
"""A statement's header as a reader is shown it, in this order (previews of `add`, `/add`)."""
NOTHING_ADDRESSES = "No statement in the corpus addresses this."


def short_citation(doc: Document, paragraph: ParagraphSpan, limit: int) -> str:
    """The citation within `limit` characters (a Discord footer): title, speaker and venue are
    shortened, never the date, symbol or paragraph that lead to the text."""
    return citation(doc, paragraph, limit)


def positions_title(topic: str) -> str:
    return f"Positions on: {topic}"


def timeline_title(topic: str) -> str:
    return f"Timeline of: {topic}, oldest first"


def no_statement_by(speaker: str) -> str:
    return f"No statement by {speaker} (within the dates asked, if any)."


def checked_scope(documents: Sequence[Document]) -> str:
    """What was searched, in a few words: "2 checked, 2022 and 2024" (days when two share a year,
    the first and last year when there are many)."""
    dates = sorted(d.date for d in documents)
    if not dates:
        return "none checked"
    years = [str(d.year) for d in dates]
    if len(dates) > 5:
        span = f"{years[0]} to {years[-1]}" if years[0] != years[-1] else years[0]
    elif len(set(years)) == len(years):
        span = join_words(years)
    else:
        span = join_words([d.isoformat() for d in dates])
    return f"{len(dates)} checked, {span}"


def silence_line(position: Position) -> str:
    """A silence with its scope, so that a reader sees what was searched before repeating it."""
    return f"No statement by {position.speaker} in the corpus addresses this: {checked_scope(position.checked)}."


POSSIBLE_NOTE = "may touch on this without stating a position; the closest passage"


def position_heading(position: Position) -> str:
    return position.speaker if position.verdict is Verdict.POSITION else f"{position.speaker}: {POSSIBLE_NOTE}"


def comparison_notes(comparison: Comparison) -> list[tuple[str, list[str]]]:
    """The lines under a comparison, each a label and the names it lists: who has no statement
    within the dates, who none at all, who was not compared (silences have lines of their own)."""
    notes = [
        ("No statement within the dates asked by", comparison.out_of_range),
        ("No statement by", comparison.unknown),
        (f"Not compared (at most {MAX_GROUPS} at once)", comparison.left_out),
    ]
    return [(label, names) for label, names in notes if names]


def timeline_scope(line: Timeline) -> str:
    return f"{len(line.entries)} of the {line.checked} statements weighed address it."


def comparison_json(comparison: Comparison) -> dict[str, object]:
    """Per speaker its verdict, and its passages with citations and offsets or the silence with
    what was checked: what `compare --json` prints."""
    speakers = []
    for p in comparison.positions:
        row: dict[str, object] = {
            "speaker": p.speaker,
            "verdict": p.verdict.value,
            "passages": [r.to_json() for r in p.passages],
            "checked": [{"doc_id": d.doc_id, "date": d.date.isoformat(), "title": d.title} for d in p.checked],
        }
        if p.verdict is Verdict.SILENT:
            row["silence"] = silence_line(p)
        speakers.append(row)
    return {
        "topic": comparison.topic,
        "speakers": speakers,
        "unknown": comparison.unknown,
        "out_of_range": comparison.out_of_range,
        "left_out": comparison.left_out,
    }


def timeline_json(line: Timeline) -> dict[str, object]:
    return {
        "topic": line.topic,
        "unknown_speaker": line.unknown_speaker or None,
        "checked": line.checked,
        "entries": [
            {
                "doc_id": doc.doc_id,
                "date": doc.date.isoformat(),
                "speaker": doc.speaker,
                "venue": doc.venue,
                "passage": result.to_json(),
            }
            for doc, result in line.entries
        ],
    }


def newest_first(documents: Iterable[Document]) -> list[Document]:
    """The order a reader scanning the corpus wants: newest first, ties by id."""
    return sorted(documents, key=lambda d: (d.date, d.doc_id), reverse=True)


def draft_rows(draft: Draft) -> list[tuple[str, str, str]]:
    """(field, value, how it was inferred) for each header field of a statement about to be added."""
    return [(name, draft.fields.get(name, ""), draft.inferred.get(name, "")) for name in HEADER_FIELDS]


# -- the terminal's skin -------------------------------------------------------------------------


def render_comparison(comparison: Comparison, *, color: bool = False, width: int = 100) -> str:
    if not comparison.positions and not comparison_notes(comparison):
        return NOTHING_ADDRESSES
    out = [positions_title(comparison.topic), ""]
    for position in comparison.positions:
        if position.passages:
            out.append(f"## {position_heading(position)}")
            for n, result in enumerate(position.passages, 1):
                out += _passage(result, color, width, f"  [{n}]")
            out.append("")
    out += [silence_line(p) for p in comparison.silent]
    out += [f"{label}: " + "; ".join(names) for label, names in comparison_notes(comparison)]
    return "\n".join(out).rstrip()


def render_timeline(line: Timeline, *, color: bool = False, width: int = 100) -> str:
    if line.unknown_speaker:
        return no_statement_by(line.unknown_speaker)
    if not line.entries:
        weighed = (
            f" ({line.checked} statements weighed.)"
            if line.checked
            else " (No statement falls within the dates asked.)"
        )
        return NOTHING_ADDRESSES + weighed
    out = [timeline_title(line.topic), ""]
    for doc, result in line.entries:
        out += [f"{doc.date.isoformat()}  {doc.speaker} · {doc.venue}", *_passage(result, color, width, "  "), ""]
    out.append(timeline_scope(line))
    return "\n".join(out).rstrip()


def progress_bar(total: int, desc: str, unit: str, *, enabled: bool) -> Any:
    """A bar on a terminal for a front end's own long work, drawn as the core's are."""
    return bar(total, desc, unit, enabled=enabled)


def render_sources(documents: Iterable[Document]) -> str:
    lines = []
    for doc in newest_first(documents):
        lines.append(f"{doc.doc_id}  {doc.date.isoformat()}  {doc.title}")
        lines.append(f"    {doc.speaker} · {doc.venue}" + (f" · {doc.symbol}" if doc.symbol else ""))
    return "\n".join(lines)


def render_draft(draft: Draft) -> str:
    """A statement about to be added: its header (and how each inferred field was found), what
    cleaning did, and its first paragraphs."""
    rows = [f"{draft.origin}:"]
    for name, value, how in draft_rows(draft):
        if name != "source":
            rows.append(f"  {name:<12} {value or '(not found)'}" + (f"  [{how}]" if how and value else ""))
    if draft.cleaning is not None:
        rows.append(f"  cleaned      {draft.cleaning.summary()}")
    rows += [f"  | {p}" for p in draft.preview(2, 160)]
    return "\n".join(rows)


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
