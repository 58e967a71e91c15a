"""From a PDF's placed lines to the statement's text, in documented steps that keep the wording.

The saved text is what every quote is sliced from, so only these changes are made, in this order:

1. **Running headers and footers** go. A header is a line among the first three of a later page
   whose text (digits ignored) starts at least half of the later pages and is either printed in
   page 1's first ten lines or starts two later pages; on page 1 it is kept, as a paragraph of its
   own (it is the document's own header block: a symbol, a date). A footer is a line among the last
   three of a page that ends at least half of all pages, and at least two; it goes everywhere.
2. **Page numbers** go: a first or last line that is only a number ("3", "- 3 -", "Page 3 of 5",
   "3/5").
3. **Paragraphs** are the page's lines split where the gap above a line exceeds the document's usual
   gap between lines (its 10th percentile, at most one line height) by more than 0.6 of a line's
   height, after a line that ends a sentence well short of the right margin, and after a line that
   spans less than 60% of the text width (a heading, a symbol, a date, a paragraph's last line)
   unless it stops mid-sentence and the next line goes on in lower case.
4. **Wrapped lines** of a paragraph are joined with one space. A line that ends in a hyphen after a
   letter, followed by a lower-case letter, is joined without the space; the hyphen is dropped only
   when the document spells the joined word unbroken elsewhere ("ballistic"), so that a compound
   ("long-range") is never fused.
5. **A paragraph broken by a page break** is joined when it does not end a sentence and either its
   last line runs to the right margin or the next page starts in lower case.
6. Paragraphs are separated by one blank line. Nothing else changes: no character inside a line is
   replaced, so every word of the original appears in the same order.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from dataclasses import dataclass

from embeddings.ingest.pdf import Line

PARAGRAPH_GAP = 0.6
"""A gap above a line wider than the document's usual gap between lines by more than this many line
heights starts a paragraph: a blank line adds about one line height, whatever the line spacing."""
EDGE_LINES = 3
"""Lines at the top or bottom of a page that may be running headers, footers or page numbers."""
FIRST_PAGE_HEAD = 10
"""Lines of page 1 searched for a header that later pages repeat (the symbol, the date)."""
SHORT_LINE = 0.85
"""A sentence-final line ending before this share of the page's text width ends its paragraph."""
LONE_LINE = 0.6
"""A line spanning less than this share of the text width ends its paragraph whatever its last
character: wrapped lines fill the width, so only a paragraph's last line, a heading, a symbol or a
date is that short."""
_PAGE_NUMBER = re.compile(r"^\W*(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?\W*$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?:;][\"'”’)\]]*\s*$")
_HYPHEN_END = re.compile(r"([^\W\d_]+)-$")
_LOWER_START = re.compile(r"^([a-z][^\W\d_]*)")


@dataclass
class Cleaning:
    """What each step changed, for the summary a user sees."""

    headers_removed: int = 0
    page_numbers_removed: int = 0
    lines_joined: int = 0
    hyphens_dropped: int = 0
    hyphens_kept: int = 0
    page_breaks_joined: int = 0

    def summary(self) -> str:
        return (
            f"{self.headers_removed} running header/footer line(s) and {self.page_numbers_removed} page number(s) "
            f"removed, {self.lines_joined} wrapped line(s) joined, hyphens dropped {self.hyphens_dropped} / kept "
            f"{self.hyphens_kept}, {self.page_breaks_joined} paragraph(s) rejoined across a page break"
        )


def clean_pages(pages: list[list[Line]]) -> tuple[str, Cleaning]:
    """The statement's text from a PDF's pages, and what was done to get it."""
    report = Cleaning()
    pages, standalone = _drop_running_lines(pages, report)
    vocabulary = _unbroken_words(pages)
    threshold = _paragraph_gap(pages)
    paragraphs: list[str] = []
    runs_on = False
    for page in pages:
        page_paragraphs, full_last_line = _paragraphs(page, vocabulary, report, threshold, standalone)
        for i, paragraph in enumerate(page_paragraphs):
            continues = runs_on or _LOWER_START.match(paragraph)
            if i == 0 and paragraphs and not _SENTENCE_END.search(paragraphs[-1]) and continues:
                paragraphs[-1] = _join(paragraphs[-1], paragraph, vocabulary, report)
                report.page_breaks_joined += 1
            else:
                paragraphs.append(paragraph)
        if page_paragraphs:
            runs_on = full_last_line
    return "\n\n".join(p for p in paragraphs if p.strip()) + "\n", report


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.split()).casefold())


def _drop_running_lines(pages: list[list[Line]], report: Cleaning) -> tuple[list[list[Line]], set[int]]:
    """The pages without running lines and page numbers, and the ids of page 1's lines that recur as
    running headers later (kept, each as a paragraph of its own: the document's header block)."""
    heads = [{_key(line.text) for line in page[: _foot_start(page)][:EDGE_LINES]} for page in pages]
    feet = [{_key(line.text) for line in page[_foot_start(page) :]} for page in pages]
    first_head = {_key(line.text) for line in pages[0][:FIRST_PAGE_HEAD]} if pages else set()
    top = Counter(k for head in heads[1:] for k in head)
    bottom = Counter(k for foot in feet for k in foot)
    later = max(len(pages) - 1, 1)
    standalone: set[int] = set()
    out = []
    for number, page in enumerate(pages):
        kept = []
        for i, line in enumerate(page):
            at_bottom = i >= _foot_start(page)
            at_top = i < EDGE_LINES and not at_bottom
            key = _key(line.text)
            header = 2 * top[key] >= later and (key in first_head or top[key] >= 2)
            footer = at_bottom and bottom[key] >= max(2, (len(pages) + 1) // 2)
            if len(pages) > 1 and (footer or (at_top and header and number > 0)):
                report.headers_removed += 1
                continue
            if (at_top or at_bottom) and _PAGE_NUMBER.match(line.text.strip()):
                report.page_numbers_removed += 1
                continue
            if number == 0 and header and len(pages) > 1:
                standalone.add(id(line))
            kept.append(line)
        out.append(kept)
    return out, standalone


def _foot_start(page: list[Line]) -> int:
    """Where a page's bottom lines begin: its last three, but never its first half (a short page's
    header is not also its footer)."""
    return max(len(page) - EDGE_LINES, (len(page) + 1) // 2)


def _unbroken_words(pages: list[list[Line]]) -> frozenset[str]:
    """Words the document spells in one piece somewhere (not at a line's hyphenated end)."""
    words: set[str] = set()
    for page in pages:
        for line in page:
            text = line.text.rstrip()
            if _HYPHEN_END.search(text):
                text = text[: text.rfind(" ") + 1] if " " in text else ""
            words.update(w.casefold() for w in re.findall(r"[^\W\d_]+", text))
    return frozenset(words)


def _paragraph_gap(pages: list[list[Line]]) -> float:
    """The gap above a line beyond which a paragraph starts, from the document's own line spacing."""
    heights = [line.height for page in pages for line in page]
    if not heights:
        return 0.0
    height = statistics.median(heights) or 1.0
    gaps = sorted(
        gap for page in pages for prev, line in itertools.pairwise(page) if -height < (gap := prev.bottom - line.top)
    )
    usual = min(gaps[len(gaps) // 10], height) if gaps else 0.3 * height
    return usual + PARAGRAPH_GAP * height


def _paragraphs(
    page: list[Line], vocabulary: frozenset[str], report: Cleaning, threshold: float, standalone: set[int]
) -> tuple[list[str], bool]:
    """The page's paragraphs, and whether its last line runs to the right margin (a paragraph that
    the page break cuts)."""
    if not page:
        return [], False
    height = statistics.median(line.height for line in page) or 1.0
    left = min(line.left for line in page)
    width = max(line.right for line in page) - left or 1.0
    paragraphs = [page[0].text.strip()]
    for prev, line in itertools.pairwise(page):
        gap = prev.bottom - line.top
        extent = prev.right - prev.left
        ends = bool(_SENTENCE_END.search(prev.text))
        wraps = not ends and bool(_LOWER_START.match(line.text.strip()))  # "... the mid-" / "term review"
        short = (extent < LONE_LINE * width and not wraps) or (ends and prev.right - left < SHORT_LINE * width)
        alone = id(prev) in standalone or id(line) in standalone
        if gap > threshold or gap < -height or short or alone:
            paragraphs.append(line.text.strip())
        else:
            paragraphs[-1] = _join(paragraphs[-1], line.text.strip(), vocabulary, report)
            report.lines_joined += 1
    return paragraphs, (page[-1].right - left) >= SHORT_LINE * width


def _join(first: str, second: str, vocabulary: frozenset[str], report: Cleaning) -> str:
    head = _HYPHEN_END.search(first)
    tail = _LOWER_START.match(second)
    if head and tail:
        if (head.group(1) + tail.group(1)).casefold() in vocabulary:
            report.hyphens_dropped += 1
            return first[:-1] + second
        report.hyphens_kept += 1
        return first + second
    return first.rstrip() + " " + second.lstrip()
