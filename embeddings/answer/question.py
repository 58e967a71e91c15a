"""What a question says besides its topic: dates, whether it wants a number, whether it asks about
the document itself rather than what the document says.

A question such as "What did Japan condemn at the OSCE Permanent Council on 25 July 2024?" names its
document by venue and date. Matched as plain words, those names pull in the heading block that
prints them; read here, they steer which documents are searched (see `embeddings.answer.headers`) while
the topic words choose the passage.

Everything here is general English, not tuned to any question: month names, year patterns, and the
phrasings people use to ask for a quantity or for a document's particulars.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from embeddings.corpus.facts import MONTH_RE, MONTHS

_YEAR_RE = r"(?:19[4-9]\d|20\d\d)"
# "July 2024", "25 July 2024", "July 25, 2024", "in July" (a bare "may" is a verb: only with a year or day).
_MONTH_YEAR = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?({MONTH_RE})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?,?)?\s+({_YEAR_RE})\b",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(rf"\b(?:(\d{{1,2}})(?:st|nd|rd|th)?\s+({MONTH_RE})\b|\b({MONTH_RE})\.?\s+(\d{{1,2}})\b)", re.I)
_MONTH_ALONE = re.compile(rf"\b(?:in|since|until|during|of|last|this)\s+({MONTH_RE})\b", re.IGNORECASE)
_YEAR = re.compile(rf"(?<![\d/.(-])({_YEAR_RE})(?![\d/])")

_NUMBER_QUESTION = re.compile(
    r"\b(how (many|much|far|long|high|often|old|large|big)|what (number|percentage|share|fraction|proportion|"
    r"amount|figure|distance|height|range|altitude|total|quantity)|how many times)\b",
    re.IGNORECASE,
)
_DATE_QUESTION = re.compile(
    r"^\s*when\b|\b(what|which|exact) (date|day|year|month)\b|\bon what (date|day)\b|\bsince when\b", re.IGNORECASE
)
_DOCUMENT_QUESTION = re.compile(
    r"\b(who (delivered|gave|made|signed|issued|released|wrote|authored|spoke|reported|published|read)|"
    r"title|symbol|reference number|document number|circulated|circulation|what language|in which language|"
    r"which (news )?agency|which outlet|which newspaper|headline)\b",
    re.IGNORECASE,
)


_MONEY_QUESTION = re.compile(
    r"\bhow much\b(?!\s+(?:of|more|longer|further|higher|lower|time))|\b(cost|price|budget|dollars?|euros?|"
    r"pounds|francs|funding|money)\b.*\b(how much|what|which)\b|\bhow much\b.*\b(cost|fund|budget|pledge|spend|"
    r"invest|contribut|raise|revenue|aid|loan|debt|grant|financ|pay|dollars?|euros?|money)",
    re.IGNORECASE,
)
_PERCENT_QUESTION = re.compile(
    r"\b(what|which) (percentage|percent|per cent|share|proportion|fraction|rate)\b|\bhow many per ?cent\b|"
    r"\b(percentage|per cent|percent)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateMention:
    """A date named in a question; month and day are None when not given."""

    year: int | None
    month: int | None
    day: int | None = None


@dataclass(frozen=True)
class QuestionInfo:
    text: str
    dates: tuple[DateMention, ...]
    wants_number: bool
    wants_date: bool
    about_document: bool
    counted: str = ""
    """What a "how many" question counts ("soldiers" in "How many North Korean soldiers ..."): a
    figure answers it only beside that word, not any figure in the passage."""
    date_words: str = ""
    """The words of the question that name dates, so that a date the header accounts for is not
    also looked for in the text."""
    wants_money: bool = False
    """An amount of money ("How much did the dam cost?", "How much aid, in euros ...")."""
    wants_percent: bool = False
    """A share ("What percentage ...", "What share of seats ...")."""


def understand(question: str) -> QuestionInfo:
    return QuestionInfo(
        text=question,
        dates=tuple(dates_in(question)),
        wants_number=bool(_NUMBER_QUESTION.search(question)),
        wants_date=bool(_DATE_QUESTION.search(question)),
        about_document=bool(_DOCUMENT_QUESTION.search(question)),
        counted=counted_noun(question),
        date_words=" ".join(m.group(0) for r in (_MONTH_YEAR, _MONTH_DAY, _YEAR) for m in r.finditer(question)),
        wants_money=bool(_MONEY_QUESTION.search(question)),
        wants_percent=bool(_PERCENT_QUESTION.search(question)),
    )


def dates_in(text: str) -> list[DateMention]:
    """Dates named in free text, most specific first; a year already part of a month mention is not
    repeated on its own."""
    found: list[DateMention] = []
    used: list[tuple[int, int]] = []
    for m in _MONTH_YEAR.finditer(text):
        day = re.match(r"\d{1,2}", m.group(0))
        after = re.search(r"\s(\d{1,2})(?:st|nd|rd|th)?,?\s", m.group(0)[m.start(1) - m.start(0) :])
        day_value = int(day.group(0)) if day else (int(after.group(1)) if after else None)
        found.append(DateMention(int(m.group(2)), MONTHS[m.group(1).lower()], _valid_day(day_value)))
        used.append(m.span())
    for m in _MONTH_DAY.finditer(text):
        if any(s <= m.start() < e for s, e in used):
            continue
        day_text, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        found.append(DateMention(None, MONTHS[month.lower()], _valid_day(int(day_text))))
        used.append(m.span())
    for m in _MONTH_ALONE.finditer(text):
        if any(s <= m.start(1) < e for s, e in used) or m.group(1).lower() == "may":
            continue
        found.append(DateMention(None, MONTHS[m.group(1).lower()]))
        used.append(m.span())
    for m in _YEAR.finditer(text):
        if any(s <= m.start() < e for s, e in used) or _ahead(m):
            continue
        found.append(DateMention(int(m.group(1)), None))
    return found


def _ahead(year: re.Match[str]) -> bool:
    """A year still to come names a target or a plan ("the 2030 Agenda", "net zero by 2050"), never
    when a statement was made."""
    return int(year.group(1)) > dt.date.today().year


def date_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` names dates ("November 2024", "25 July", "in November", "2018"), in order, none
    overlapping: the words a follow-up question replaces when it asks about another date."""
    spans: list[tuple[int, int]] = []
    for pattern, group in ((_MONTH_YEAR, 0), (_MONTH_DAY, 0), (_MONTH_ALONE, 1), (_YEAR, 1)):
        for m in pattern.finditer(text):
            start, end = m.span(group)
            if pattern is _MONTH_ALONE and m.group(1).lower() == "may" and not re.match(r"in\s", m.group(0), re.I):
                continue
            if pattern is _YEAR and _ahead(m):
                continue
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
    return sorted(spans)


def _valid_day(day: int | None) -> int | None:
    return day if day is not None and 1 <= day <= 31 else None


_NAME_PHRASE_RE = re.compile(r"(?<![\w.])[A-Z][\w'’.-]*[A-Za-z](?:\s+(?:of\s+)?[A-Z][\w'’.-]*[A-Za-z])*")


def _not_a_name(word: str) -> bool:
    """Question words, function words and months are capitalised in questions without naming anything."""
    from embeddings.index.keywords import stopwords

    return word in MONTHS or word in stopwords()


def name_phrases(question: str) -> list[str]:
    """Runs of capitalised words after the first word: the names a question turns on ("South Korean
    President Yoon", "Kursk"). A near miss often names someone the statements never mention."""
    found = []
    for m in _NAME_PHRASE_RE.finditer(question):
        words = [w for w in m.group(0).split() if not _not_a_name(w.casefold().strip(".'’"))]
        if m.start() == 0 and words and words[0] == m.group(0).split()[0]:
            words = words[1:]  # the first word of a question is capitalised anyway
        if words:
            found.append(" ".join(words))
    return found


_HOW_MANY = re.compile(
    r"\bhow many\s+((?:[\w'’-]+\s+){0,4}?[\w'’-]+?)(?=\s+(?:of|have|has|had|did|does|do|is|are|was|"
    r"were|will|would|could|can|in|on|at|from|to|per|does)\b|[?.,]|$)",
    re.IGNORECASE,
)


def counted_noun(question: str) -> str:
    """The noun a "how many" question counts: the first plural in the phrase after "how many"
    ("launches" in "how many launches using missile tech"), else its last word."""
    m = _HOW_MANY.search(question)
    if not m:
        return ""
    words = m.group(1).split()
    return next((w for w in words if len(w) > 3 and w.lower().endswith("s")), words[-1])


_SLASHED = re.compile(r"[^\W\d_][\w'’-]*(?:\s?/\s?[^\W\d_][\w'’-]*)+")


def slashed(question: str) -> list[list[str]]:
    """Words the question joins with a slash ("Malvinas/Falklands", "Kyiv/Kiev"), each group's parts
    in order: a slash offers alternatives, so a passage that uses one of them uses the topic's word.
    Figures ("2023/24") are not alternatives but a span, and are left alone."""
    return [re.split(r"\s?/\s?", m.group()) for m in _SLASHED.finditer(question)]
