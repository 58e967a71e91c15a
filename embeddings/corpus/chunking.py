"""Paragraphs, sentences and chunks, all as character offsets into a document's exact text.

Nothing here copies or rewrites text: every span is a pair of offsets, so a quote sliced from the
document with them is verbatim by construction.

A reader cites paragraphs, so chunks follow paragraphs:
- blocks are runs of non-blank lines; a block that ends without closing punctuation and is followed
  by one starting in lower case is the same paragraph broken by a stray blank line;
- ceremony ("Thank you, Madam Chair.") is numbered like any paragraph but is never a chunk of its own;
- headings and very short paragraphs (a document symbol, a dateline) ride along with the next real
  paragraph, whose context they are;
- a paragraph longer than the model's input is split into overlapping windows of whole sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

CHUNKER_VERSION = "paragraph-sentences-v3"

MIN_CORE_WORDS = 8
"""Paragraphs with fewer words (numbers aside) are headings, datelines or symbols: context, not answers."""

MAX_HEADING_WORDS = 40
"""Longer unpunctuated paragraphs are taken as prose whose full stop is missing, not headings."""

TokenCounter = Callable[[str], int]

_TERMINAL_RE = re.compile(r"[.!?:;][\"'”’)\]*]*$")
_WORD_RE = re.compile(r"\w+")
_LETTER_WORD_RE = re.compile(r"\w*[^\W\d_]\w*")


@dataclass(frozen=True)
class Paragraph:
    number: int
    start: int
    end: int
    formulaic: bool


@dataclass(frozen=True)
class ParagraphSpan:
    """Paragraph numbers a passage covers, as a reader cites them: one paragraph, or a range."""

    first: int
    last: int

    @classmethod
    def of(cls, numbers: Sequence[int]) -> ParagraphSpan:
        return cls(min(numbers), max(numbers))

    def label(self) -> str:
        return f"para. {self.first}" if self.first == self.last else f"paras. {self.first}–{self.last}"

    def to_json(self) -> int | list[int]:
        """A number for one paragraph, ``[first, last]`` for a range (the JSON format of results)."""
        return self.first if self.first == self.last else [self.first, self.last]

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


@dataclass(frozen=True)
class Chunk:
    """A retrievable unit: a span of whole sentences from one to a few consecutive paragraphs."""

    start: int
    end: int
    first_paragraph: int
    last_paragraph: int
    sentences: tuple[tuple[int, int], ...]
    """Quotable sentences (absolute offsets), ceremony excluded."""

    @property
    def paragraph(self) -> ParagraphSpan:
        return ParagraphSpan(self.first_paragraph, self.last_paragraph)


@cache
def formulaic_patterns() -> tuple[re.Pattern[str], ...]:
    text = resources.files("embeddings.data").joinpath("formulaic.txt").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    return tuple(re.compile(rf"(?:{line})", re.IGNORECASE) for line in lines if line and not line.startswith("#"))


def is_formulaic(text: str) -> bool:
    folded = " ".join(text.split()).strip("*_ ")
    return any(p.fullmatch(folded) for p in formulaic_patterns())


def is_minor(text: str) -> bool:
    """Headings, datelines, symbols and ledes: context for the paragraph that follows, not answers.

    A paragraph is minor when it is very short, or when it is a heading: no closing punctuation
    and short enough to be a title rather than a paragraph that lost its full stop.
    """
    words = len(_LETTER_WORD_RE.findall(text))
    if words < MIN_CORE_WORDS:
        return True
    return words <= MAX_HEADING_WORDS and not _TERMINAL_RE.search(text.rstrip())


_TITLE_WORD_RE = re.compile(r"[^\W\d_][\w'’/-]{3,}")
TITLE_CASE_SHARE = 0.6
"""Share of the longer words that start with a capital, above which an unpunctuated line is a title."""


def is_heading(text: str, title: str = "") -> bool:
    """Title blocks, symbols and datelines: a document's particulars, not something it says.

    Stricter than `is_minor`: an unpunctuated line counts only when it is short, written like a
    title (most longer words capitalised), or is the document's own title. A news lede that lost
    its full stop ("Japanese Chief Cabinet Secretary Yoshimasa Hayashi refrained from ...") is
    content and may answer a question; the title block above it may not.
    """
    if is_formulaic(text):
        return True
    words = len(_LETTER_WORD_RE.findall(text))
    if words < MIN_CORE_WORDS:
        return True
    if words > MAX_HEADING_WORDS or _TERMINAL_RE.search(text.rstrip()):
        return False
    if title and " ".join(text.split()).strip("*_ ").casefold() == " ".join(title.split()).casefold():
        return True
    long_words = _TITLE_WORD_RE.findall(text)
    capitals = sum(1 for w in long_words if w[0].isupper())
    return bool(long_words) and capitals / len(long_words) >= TITLE_CASE_SHARE


def blocks(text: str) -> list[tuple[int, int]]:
    """Runs of non-blank lines, trimmed of surrounding white space."""
    spans: list[tuple[int, int]] = []
    pos = 0
    start: int | None = None
    end = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            if start is None:
                start = pos + lead
            end = pos + len(line.rstrip())
        elif start is not None:
            spans.append((start, end))
            start = None
        pos += len(line)
    if start is not None:
        spans.append((start, end))
    return spans


def paragraphs(text: str) -> list[Paragraph]:
    """Logical paragraphs, numbered from 1 as a reader counts them."""
    merged: list[tuple[int, int]] = []
    for start, end in blocks(text):
        if merged and _continues(text[merged[-1][0] : merged[-1][1]], text[start:end]):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return [
        Paragraph(number=i, start=s, end=e, formulaic=is_formulaic(text[s:e])) for i, (s, e) in enumerate(merged, 1)
    ]


def _continues(previous: str, following: str) -> bool:
    """A sentence broken across a blank line: no closing punctuation, then a lower-case start."""
    return not _TERMINAL_RE.search(previous.rstrip()) and following[:1].islower()


@cache
def _segmenter() -> object:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=False)


def sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside text[start:end], trimmed, in absolute offsets.

    Blank lines inside the span (a paragraph broken by mistake) are shown to the segmenter as
    spaces of the same length, so that offsets stay valid and the sentence is not cut there.
    """
    piece = re.sub(r"\n[ \t\u00a0\r]*\n\s*", lambda m: " " * len(m.group(0)), text[start:end])
    spans: list[tuple[int, int]] = []
    for s, e in _segment(piece):
        chunk = piece[s:e]
        lead = len(chunk) - len(chunk.lstrip())
        trail = len(chunk.rstrip())
        if trail <= lead:
            continue
        spans.append((start + s + lead, start + s + trail))
    if not spans:
        spans.append((start, end))
    return _join_broken_lines(_fill_gaps(spans, text), text)


SEGMENT_CHARS = 4000
"""pysbd takes time quadratic in the length of what it is given (a 200 KB paragraph: 34 s), so a
long paragraph is given to it in pieces of about this size, cut where a sentence plainly ends."""
_PLAIN_END = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[A-Z“\"(\[])")


def _segment(text: str) -> list[tuple[int, int]]:
    """pysbd's sentence spans over text of any length, in time linear in its length."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while pos < len(text):
        end = len(text)
        if end - pos > SEGMENT_CHARS:
            window = text[pos + SEGMENT_CHARS // 2 : pos + SEGMENT_CHARS]
            cuts = [m.end() for m in _PLAIN_END.finditer(window)]
            if not cuts:
                cuts = [m.end() for m in re.finditer(r"\s+", window)]
            end = pos + SEGMENT_CHARS // 2 + cuts[-1] if cuts else pos + SEGMENT_CHARS
        block = text[pos:end]
        # pysbd's `segment` would locate each sentence by compiling a regular expression for it
        # (half its time, and the reason char_span is slow); its processor gives the sentences
        # and `_locate` finds them by a forward search.
        found = _segmenter().processor(block).process()  # type: ignore[attr-defined]
        spans += [(pos + s, pos + e) for s, e in _locate(block, found)]
        pos = end
    return spans


def _locate(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Offsets of pysbd's sentences, in order; a piece it altered (it should not, with clean=False)
    is skipped, and `_fill_gaps` then keeps its characters inside a neighbouring sentence."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for piece in pieces:
        core = piece.strip()
        if not core:
            continue
        at = text.find(core, pos)
        if at < 0:
            continue
        spans.append((at, at + len(core)))
        pos = at + len(core)
    return spans


def _join_broken_lines(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """A line break after a piece with no closing punctuation is layout (a heading, a hard-wrapped
    line), not the end of a sentence: join the pieces the segmenter split there."""
    joined: list[tuple[int, int]] = []
    for s, e in spans:
        if joined and "\n" in text[joined[-1][1] : s] and not _TERMINAL_RE.search(text[joined[-1][0] : joined[-1][1]]):
            joined[-1] = (joined[-1][0], e)
        else:
            joined.append((s, e))
    return joined


def _fill_gaps(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Guard against a segmenter that skips characters: every non-blank character is in a sentence."""
    fixed: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if fixed and s < fixed[-1][1]:
            fixed[-1] = (fixed[-1][0], max(e, fixed[-1][1]))
            continue
        if fixed and text[fixed[-1][1] : s].strip():
            fixed[-1] = (fixed[-1][0], e)
            continue
        fixed.append((s, e))
    return fixed


def _split_long_sentence(text: str, span: tuple[int, int], count: TokenCounter, limit: int) -> list[tuple[int, int]]:
    """Cut a sentence too long for the model at white space into pieces that fit."""
    s, e = span
    if count(text[s:e]) <= limit:
        return [span]
    words = [(m.start() + s, m.end() + s) for m in re.finditer(r"\S+", text[s:e])]
    pieces: list[tuple[int, int]] = []
    first = 0
    while first < len(words):
        last = first
        while last + 1 < len(words) and count(text[words[first][0] : words[last + 1][1]]) <= limit:
            last += 1
        pieces.append((words[first][0], words[last][1]))
        first = last + 1
    return pieces


def windows(
    text: str, spans: Sequence[tuple[int, int]], count: TokenCounter, limit: int, overlap: int = 1
) -> list[list[tuple[int, int]]]:
    """Group consecutive sentences into windows that fit the model, overlapping by whole sentences."""
    if count(text[spans[0][0] : spans[-1][1]]) <= limit:
        return [list(spans)]
    out: list[list[tuple[int, int]]] = []
    first = 0
    while True:
        last = first
        while last + 1 < len(spans) and count(text[spans[first][0] : spans[last + 1][1]]) <= limit:
            last += 1
        out.append(list(spans[first : last + 1]))
        if last + 1 >= len(spans):
            return out
        first = max(first + 1, last + 1 - overlap)


def chunk_document(text: str, count: TokenCounter, max_tokens: int) -> list[Chunk]:
    """Split a document into chunks; see the module docstring for the rules and why."""
    paras = paragraphs(text)
    groups: list[list[Paragraph]] = []
    pending: list[Paragraph] = []
    for para in paras:
        if para.formulaic:
            if pending:
                pending.append(para)
            continue
        pending.append(para)
        if not is_minor(text[para.start : para.end]):
            groups.append(_trim_formulaic(pending))
            pending = []
    tail = _trim_formulaic(pending)
    if tail:
        if groups:
            groups[-1].extend(p for p in paras if groups[-1][-1].number < p.number <= tail[-1].number)
        else:
            groups.append(tail)
    chunks: list[Chunk] = []
    for group in groups:
        chunks.extend(_chunks_for_group(text, group, count, max_tokens))
    return chunks


def _trim_formulaic(group: list[Paragraph]) -> list[Paragraph]:
    while group and group[0].formulaic:
        group = group[1:]
    while group and group[-1].formulaic:
        group = group[:-1]
    return group


def _chunks_for_group(text: str, group: list[Paragraph], count: TokenCounter, limit: int) -> list[Chunk]:
    spans: list[tuple[int, int]] = []
    for para in group:
        if para.formulaic:
            continue
        for span in sentences(text, para.start, para.end):
            spans.extend(_split_long_sentence(text, span, count, limit))
    out: list[Chunk] = []
    for win in windows(text, spans, count, limit):
        first = _paragraph_of(group, win[0][0])
        last = _paragraph_of(group, win[-1][1] - 1)
        out.append(Chunk(win[0][0], win[-1][1], first, last, tuple(win)))
    return out


def _paragraph_of(group: list[Paragraph], offset: int) -> int:
    for para in group:
        if para.start <= offset < para.end:
            return para.number
    raise ValueError(f"offset {offset} is in no paragraph of the group")


def word_count_tokens(text: str) -> int:
    """A deterministic stand-in for a word-piece tokenizer: about 1.3 pieces per word."""
    return (len(_WORD_RE.findall(text)) * 13 + 9) // 10 + len(re.findall(r"[^\w\s]", text)) // 2
