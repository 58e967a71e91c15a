"""What each sentence holds that a question may ask for, found once when the index is built.

A "how many" question is answered by a sentence with a figure, a "when" question by one with a
date; a heading or a dateline answers only questions about the document itself. Finding these with
regular expressions for every candidate of every question cost more than the rest of ranking, and
the answer never changes between questions, so the build records it per sentence as bit flags
(`sentence_flags`) beside the sentence's paragraph number.

Everything here is general English (figures, number words, month names, currency and percentage
words), not tuned to any question.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

import numpy as np

from embeddings.corpus.chunking import is_heading, paragraphs

HEADING = 1
"""The sentence's paragraph is a title block, symbol or dateline."""
FRAGMENT = 2
"""Fewer than `MIN_ANSWER_WORDS` words: a dateline or salutation, never the answer to a content question."""
QUANTITY = 4
"""A figure or number word that could answer "how many" (`has_quantity`)."""
DATE = 8
"""A date or time reference that could answer "when" (`has_date`)."""
MONEY = 16
"""An amount of money: a currency sign or word beside a figure ("$300 million", "30 euros")."""
PERCENT = 32
"""A share: "per cent", "percent", "%"."""

MIN_ANSWER_WORDS = 4
"""Fewer words than this make a fragment (a dateline, a salutation), not a sentence that answers."""
_WORD = re.compile(r"[^\W\d_]{2,}")

MONTH_NAMES = (
    ("january", "jan"),
    ("february", "feb"),
    ("march", "mar"),
    ("april", "apr"),
    ("may",),
    ("june", "jun"),
    ("july", "jul"),
    ("august", "aug"),
    ("september", "sep", "sept"),
    ("october", "oct"),
    ("november", "nov"),
    ("december", "dec"),
)
MONTHS = {name: number for number, names in enumerate(MONTH_NAMES, start=1) for name in names}
MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))

_QUANTITY_RE = re.compile(
    r"(?<![\w(])(?!(?:19|20)\d\d\b)\d[\d,.]*|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"twenty|thirty|forty|fifty|hundreds?|thousands?|millions?|billions?|half|quarters?|thirds?|eighths?|dozens?|"
    r"once|twice|several|couple|dozen)\b",
    re.IGNORECASE,
)
_CITED_NUMBER_RE = re.compile(r"\b(resolutions?|paragraphs?|articles?|no\.|number)\s*$", re.IGNORECASE)
_DATE_EXPRESSION_RE = re.compile(
    rf"\b({MONTH_RE})\b|(?<!\d)(?:19|20)\d\d(?!\d)|\b\d{{1,2}}(st|nd|rd|th)\b|\bago\b|\b(last|this|next) "
    r"(week|month|year|spring|summer|autumn|fall|winter)\b|\b(yesterday|today|tomorrow)\b",
    re.IGNORECASE,
)
_MONEY_RE = re.compile(
    r"[$€£¥₹]\s?\d|\d[\d,.]*\s?(?:[$€£¥₹]|(?:million|billion|trillion)\s+)?(?:dollars?|euros?|pounds?|yen|francs?|"
    r"rupees?|yuan|USD|EUR|GBP|US\$)\b|\b(?:USD|EUR|GBP|US\$)\s?\d",
    re.IGNORECASE,
)
_PERCENT_RE = re.compile(r"\d\s?%|\bper\s?cent\b|\bpercent(?:age)?\b", re.IGNORECASE)


def has_quantity(text: str) -> bool:
    """A figure or number word that could answer "how many": not a year, not the number of a
    resolution or paragraph being cited ("resolution 2397")."""
    for m in _QUANTITY_RE.finditer(text):
        if m.group(0)[0].isdigit() and _CITED_NUMBER_RE.search(text[max(0, m.start() - 14) : m.start()]):
            continue
        return True
    return False


def has_date(text: str) -> bool:
    """A date or a time reference that could answer "when"."""
    return bool(_DATE_EXPRESSION_RE.search(text))


def has_money(text: str) -> bool:
    return bool(_MONEY_RE.search(text))


def has_percent(text: str) -> bool:
    return bool(_PERCENT_RE.search(text))


def is_fragment(sentence: str) -> bool:
    return len(_WORD.findall(sentence)) < MIN_ANSWER_WORDS


def flags_of(sentence: str) -> int:
    """The content flags of one sentence (everything but HEADING, which needs its paragraph)."""
    flags = 0
    if is_fragment(sentence):
        flags |= FRAGMENT
    if has_quantity(sentence):
        flags |= QUANTITY
    if has_date(sentence):
        flags |= DATE
    if has_money(sentence):
        flags |= MONEY
    if has_percent(sentence):
        flags |= PERCENT
    return flags


def sentence_facts(text: str, title: str, spans: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Paragraph number and flags of each sentence span of one document, in the spans' order."""
    paras = paragraphs(text)
    starts = [p.start for p in paras]
    heading = [is_heading(text[p.start : p.end], title) for p in paras]
    numbers = np.zeros(len(spans), dtype=np.int64)
    flags = np.zeros(len(spans), dtype=np.int64)
    for row, (s, e) in enumerate(spans):
        i = max(0, bisect.bisect_right(starts, s) - 1)
        numbers[row] = paras[i].number if paras else 0
        flags[row] = flags_of(text[s:e]) | (HEADING if paras and heading[i] else 0)
    return numbers, flags
