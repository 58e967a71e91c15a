"""Title, date, symbol, speaker and venue, read from what a statement prints about itself.

Everything here is a proposal that the user confirms or overrides (`verbatim add --date ...`, or the
edit form in Discord). A field found printed in the text is taken as printed; a field worked out
from something else (a venue from the symbol's series, a date from the file's metadata) is named in
the statement's `note`, as the corpus format asks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from embeddings.corpus.facts import MONTH_RE, MONTHS

_MONTH = MONTH_RE
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\.?,?\s+(\d{{4}})\b", re.IGNORECASE)
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DOTTED = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
"""28.05.2024: day first, as European ministries print it."""

OSCE_SYMBOL = re.compile(
    r"\b(?:[A-Z]{2,5}-)?[A-Z]{2,5}\.(?:DEL|DEC|JOUR|GAL|IO|FR|VD|INF)/\d+/\d{2}(?:/(?:Corr|Rev)\.\d+)?"
)
UN_SYMBOL = re.compile(
    r"\b(?:S|A|E|HRC)/(?:PV\.\d+|RES/\d+(?:\s\(\d{4}\))?|\d{2,4}/(?:L\.)?\d+(?:/(?:Add|Rev|Corr)\.\d+)?|\d{2}/PV\.\d+)"
)
_SPEAKER_LINE = re.compile(
    r"^(?:joint\s+)?(?:statement|speech|remarks|address|intervention|opening remarks)\s+"
    r"(?:delivered\s+)?by\s+(?:the\s+)?(.+)$",
    re.IGNORECASE,
)
_SPEAKER_STOP = re.compile(r"\s+(?:at|on|to the meeting|before|during|in response)\s+(?:the\s+)?[A-Z0-9\"“]|[,:]?\s*$")
_SHORT_WORDS = frozenset(["from", "into", "over", "upon", "with", "h.e.", "mr", "mrs", "ms", "dr"])
_SMALL_WORDS = frozenset(["a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with"])
OSCE_VENUES = {
    "FSC-PC": "FSC/PC Joint Meeting, OSCE, Vienna",
    "PC": "OSCE Permanent Council, Vienna",
    "FSC": "OSCE Forum for Security Co-operation, Vienna",
    "MC": "OSCE Ministerial Council",
}
_VENUE_PHRASES = (
    ("Security Council", "UN Security Council, New York"),
    ("General Assembly", "UN General Assembly, New York"),
    ("Human Rights Council", "UN Human Rights Council, Geneva"),
    ("Permanent Council", "OSCE Permanent Council, Vienna"),
    ("Forum for Security Co-operation", "OSCE Forum for Security Co-operation, Vienna"),
)
HEAD_LINES = 40
"""How far into a statement its symbol, speaker and date are looked for."""
TITLE_BLOCK = 8
TITLE_LINE_CHARS = 250
"""A venue is read only from the title block: its first short lines, never from a sentence of the
body that mentions the Security Council."""


@dataclass
class Detected:
    """Proposed header fields, and for each inferred one how it was inferred."""

    fields: dict[str, str] = field(default_factory=dict)
    inferred: dict[str, str] = field(default_factory=dict)

    def propose(self, name: str, value: str, how: str = "") -> None:
        if value and name not in self.fields:
            self.fields[name] = value
            if how:
                self.inferred[name] = how


def first_date(text: str) -> tuple[dt.date, str] | None:
    """The first complete date printed in `text`, and how it was printed."""
    found: list[tuple[int, dt.date, str]] = []
    for pattern, order in ((_DAY_MONTH_YEAR, "dmy"), (_MONTH_DAY_YEAR, "mdy"), (_ISO, "iso"), (_DOTTED, "dotted")):
        for m in pattern.finditer(text):
            try:
                if order == "dmy":
                    day, month, year = int(m.group(1)), MONTHS[m.group(2).lower()], int(m.group(3))
                elif order == "mdy":
                    day, month, year = int(m.group(2)), MONTHS[m.group(1).lower()], int(m.group(3))
                elif order == "dotted":
                    day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
                else:
                    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
                found.append((m.start(), dt.date(year, month, day), m.group(0)))
            except ValueError:
                continue
            break
    if not found:
        return None
    _, date, printed = min(found)
    return date, printed


def symbol_in(text: str) -> str:
    for pattern in (OSCE_SYMBOL, UN_SYMBOL):
        m = pattern.search(text)
        if m:
            return m.group(0)
    return ""


def _title_case(text: str) -> str:
    """A speaker printed in capitals, as a citation writes it ("Delegation of Japan"); short words
    that are not English particles stay capitals, being acronyms ("USA", "DPRK", "OSCE")."""
    if text != text.upper():
        return text
    out = []
    for i, word in enumerate(text.split()):
        lower = word.lower()
        if i and lower in _SMALL_WORDS:
            out.append(lower)
        elif len(word.strip(".,()")) <= 4 and lower.strip(".,()") not in _SHORT_WORDS:
            out.append(word)
        else:
            out.append(word[:1] + word[1:].lower())
    return " ".join(out)


def detect(lines: Sequence[str], *, title: str = "", date: str = "") -> Detected:
    """Proposals from a statement's first lines; `title` and `date` are the file's or page's own
    metadata, used when the text prints none."""
    found = Detected()
    head = [line.strip() for line in lines if line.strip()][:HEAD_LINES]
    block = "\n".join(head)
    symbol = symbol_in(block)
    found.propose("symbol", symbol)
    for line in head:
        m = _SPEAKER_LINE.match(line)
        if m:
            speaker = _SPEAKER_STOP.split(_title_case(m.group(1)), maxsplit=1)[0].strip(" ,.:")
            how = "" if speaker in line else f"from the heading {line[:80]!r}, re-cased"
            found.propose("speaker", speaker, how)
            found.propose("title", line.rstrip("."))
            break
    printed = first_date(block)
    if printed:
        found.propose("date", printed[0].isoformat())
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", printed[1]):
            found.inferred.setdefault("date", f"the first date printed at the top ({printed[1]})")
    elif date:
        found.propose("date", date, "from the file's or page's own metadata, not printed in the text")
    # A symbol's series says where it was circulated; a venue merely named in the text may be another.
    if symbol and OSCE_SYMBOL.fullmatch(symbol):
        series = symbol.split(".", 1)[0]
        if series in OSCE_VENUES:
            found.propose("venue", OSCE_VENUES[series], f"from the symbol's series ({series})")
    venue = venue_in([line for line in head[:TITLE_BLOCK] if len(line) <= TITLE_LINE_CHARS])
    if venue:
        found.propose("venue", venue[0], venue[1])
    found.propose("title", title.strip())
    if "speaker" in found.fields:
        found.propose("organisation", _organisation(found.fields["speaker"]), "from the speaker's description")
    return found


def venue_in(lines: Sequence[str]) -> tuple[str, str] | None:
    """The venue named first in the title block, and how it was found. The first named wins, not
    the first in a list: a PDF's second line "OSCE Permanent Council, Vienna" names the venue, and
    "UN Security Council resolution 2231" in a wrapped body line further down does not."""
    hits = [
        (number, line.casefold().find(phrase.casefold()), phrase, venue)
        for number, line in enumerate(lines, 1)
        for phrase, venue in _VENUE_PHRASES
        if phrase.casefold() in line.casefold()
    ]
    if not hits:
        return None
    number, _, phrase, venue = min(hits)
    return venue, f"from the words {phrase!r} in line {number} of the title block"


def _organisation(speaker: str) -> str:
    """ "... Representative of Japan to the United Nations" -> "Government of Japan"; the last place
    named after "of", with a ministry's own name ("Foreign Affairs of ...") passed over."""
    if not re.search(r"\b(?:Delegation|Mission|Representative|Minister|Ministry|Embassy|Spokesperson)\b", speaker):
        return ""
    places = re.findall(r"\bof\s+((?:the\s+)?[A-Z][\w'’.-]*(?:\s+(?:of\s+)?[A-Z][\w'’.-]*)*)", speaker)
    if not places:
        return ""
    place = places[-1]
    first = place.removeprefix("the ").split()[0]
    if first in _MINISTRY_WORDS and " of " in place:
        place = place.rsplit(" of ", 1)[1]
    elif first in _MINISTRY_WORDS:
        return ""
    return f"Government of {place}"


_MINISTRY_WORDS = frozenset(
    ["Ministry", "Department", "Office", "Foreign", "External", "Defence", "Defense", "Affairs", "Justice", "State"]
)


def pdf_date(value: str) -> str:
    """`D:20241108093000+01'00'` (a PDF date) as YYYY-MM-DD, or ""."""
    m = re.match(r"D:(\d{4})(\d{2})(\d{2})", value)
    if not m:
        return ""
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return ""
