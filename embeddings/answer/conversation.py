"""Follow-up questions: "and Russia?" read against the question before it.

In a channel people do not ask one self-contained question and leave. After "What did Japan say
about the ICBM launch in November 2024?" they type "and Russia?", "what about 2023?", "did they say
anything about sanctions?", "show me more". Verbatim has no language model and needs none: a
follow-up changes one part of the question before it (the speaker, the dates, the topic, the
statement meant) and keeps the rest, so it is read by replacing that part in the previous question
as written. The result is a whole question, searched as if it had been typed in full, and shown to
the member ("Read as: what did Russia say about the ICBM launch in November 2024?") so that a wrong
reading is visible at once.

A question that carries its own topic and no word pointing back ("and", "what about", "they",
"that statement") starts afresh: a conversation must never bend a new question to an old one.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from embeddings.answer.casing import TITLES
from embeddings.answer.headers import states_named
from embeddings.answer.question import date_spans, name_phrases
from embeddings.corpus.facts import MONTH_RE

MAX_SHOWN = 10
"""Passages one question can show across "more" turns, as `k` allows for one."""
_THE_DATE = re.compile(r"\s*the\s+", re.IGNORECASE)
"""Between the topic's start and a date: the date opens the topic ("about the 31 May statement")."""
_TITLE = re.compile(
    r"(?:['’]s?)?\s+(?i:(?:transitional|former|new|then|current|deputy|vice|permanent|chief|foreign)\s+)?"
    r"(?i:president|prime minister|foreign minister|minister for foreign affairs|minister|king|emir|chancellor|premier|"
    r"leader|delegation|representative|ambassador|government|cabinet secretary|secretary of state|foreign secretary|"
    r"secretary|spokes(?:person|man|woman)|ministry|foreign ministry|mission|envoy|head of state|crown prince)\b"
    r"(?:\s+[A-Z][\w'’-]*)*"
)
"""What may follow a country as part of its speaker: "Chile's president Boric", "Haiti's
transitional president"; a follow-up naming another speaker replaces all of it."""


@dataclass(frozen=True)
class Turn:
    """What one question of a conversation asked and what its answer showed."""

    question: str
    """The question as searched: a follow-up written out in full."""
    speaker: str = ""
    """The words of `question` that name its speaker ("Japan"), if any."""
    dates: str = ""
    """The words of `question` that name its dates ("November 2024"), if any."""
    topic: str = ""
    """The words of `question` that name its topic ("the ICBM launch"), if found."""
    documents: tuple[str, ...] = ()
    """Statements the answer quoted, best first: what "that statement" points at."""
    shown: int = 0
    """Passages shown for this question so far: "more" shows the ones after them."""
    venue: str = ""
    """The words of `question` that name its venue ("OSCE" in "at the OSCE"), if any."""
    base: str = ""
    """The question the next follow-up rewrites, when this one had a shape of its own ("did he say
    Iran wants nuclear weapons?"): "and in 2024?" after it asks the conversation's question again."""

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "speaker": self.speaker,
            "dates": self.dates,
            "topic": self.topic,
            "documents": list(self.documents),
            "shown": self.shown,
            "venue": self.venue,
            "base": self.base,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Turn:
        return cls(
            str(data["question"]),
            str(data.get("speaker", "")),
            str(data.get("dates", "")),
            str(data.get("topic", "")),
            tuple(str(d) for d in data.get("documents", [])),
            int(data.get("shown", 0)),
            str(data.get("venue", "")),
            str(data.get("base", "")),
        )


class Reading(enum.Enum):
    """How a message was read against the question before it."""

    FRESH = "a new question"
    SPEAKER = "another speaker"
    DATES = "other dates"
    VENUE = "another venue"
    TOPIC = "another topic"
    REFERENCE = "the statement or speaker just quoted"
    MORE = "the next passages"
    NOTHING_TO_FOLLOW = "a follow-up with no question before it"


@dataclass(frozen=True)
class FollowUp:
    """A message read in its conversation: the whole question to search, and how it was read."""

    kind: Reading
    turn: Turn
    """The question written out in full, with its parts (nothing shown yet)."""
    documents: frozenset[str] = field(default_factory=frozenset)
    """Statements the question is limited to ("what else did that speech say ..."), else all."""
    skip: int = 0
    """Passages already shown ("more"): the answer shows the ones after them."""

    @property
    def question(self) -> str:
        return self.turn.question

    @property
    def line(self) -> str:
        """One short line saying how a follow-up was read; empty for a question read as written."""
        if self.kind in (Reading.FRESH, Reading.NOTHING_TO_FOLLOW):
            return ""
        if self.kind is Reading.MORE:
            return f"Read as: more passages for “{self.question}”"
        return f"Read as: {self.question[:1].lower()}{self.question[1:]}"


IsSpeaker = Callable[[str], bool]
"""Whether a name is the speaker or organisation of some statement in the corpus (or, passed as
`is_venue`, the venue of one)."""


def _never(_name: str) -> bool:
    return False


_VENUE = re.compile(
    r"\b(?:at|before|to|tell|tells|told|brief|briefed|address|addressed)\s+(?:the\s+)?(?P<name>[A-Z][\w.'’-]*(?:\s+(?:of\s+(?:the\s+)?)?[A-Z][\w.'’-]*)*)"
)
"""A venue as questions name one: "at the OSCE", "before the Security Council", "to the General
Assembly", "tell the OSCE"; a candidate only, kept when some statement's venue has its words."""

_AFTER_VENUE = frozenset(
    ["in", "on", "at", "about", "during", "and", "or", "to", "for", "of", "with", "when", "this", "that", "last",
     "next", "session", "sessions", "meeting", "meetings", "debate", "summit", "too", "also", "as", "then", "back",
     "before", "after", "earlier", "later", "regarding", "concerning", "over", "since"]
)  # fmt: skip
"""Words that may follow a venue when it names where something was said ("at the OSCE in July",
"to the General Assembly session"); any other word makes it part of the topic ("Security Council
reform")."""

_MORE = re.compile(
    r"^\W*(?:(?:please\s+)?(?:show|give)\s+(?:me\s+)?(?:some\s+)?|any\s+)?(?:more|next|the next ones?|others?|"
    r"more passages|more quotes|continue|go on|keep going)(?:\s+(?:please|passages|quotes|of them))?\W*$",
    re.IGNORECASE,
)
_ELLIPSIS = re.compile(
    r"^\W*(?:(?:and|but|ok|okay|so|also)\s*,?\s+)?(?:what|how)\s+about\b|^\W*(?:and|also|same\s+(?:question\s+)?for|"
    r"what\s+of|now)\b|^\W*(?:and\s+)?(?:anything|something)\s+(?:else\s+)?(?:on|about|regarding)\b",
    re.IGNORECASE,
)
_BACK_TO_TOPIC = re.compile(
    r"\b(?:anything|something)\s+(?:(?:like|similar to)\s+(?:that|this|it)\b|similar\b)|"
    r"\b(?:the\s+)?same\s+(?:thing|topic|issue|subject)\b|"
    r"(?:\b(?:about|regarding|concerning)\s+(?:that|this|it)|\bon\s+(?:that|this))\b"
    r"(?!\s+(?!(?:in|at|back|during|then)\b)[a-z])",
    re.IGNORECASE,
)
"""Words pointing back at the topic just asked about: "anything like that", "say about it",
"Japan's line on that back in 2018" (not "about that treaty", a topic of its own, nor "the
sanctions imposed on it")."""
_POINTER = re.compile(r"(?:it|that|this)(?:\s+(?:in|at|back|during|then)\b.*)?", re.IGNORECASE)
"""A topic that only points back ("it", "that back in 2018"), not one of its own ("Gaza")."""
_ITS = re.compile(r"\bits\b|\bit\b(?!\s+(?:is|was|true|possible|likely)\b)", re.IGNORECASE)
"""A pronoun for what the statement just quoted speaks of ("what are its key principles?", "who
funds it?"), not "is it true that ..."."""
_TOPIC_ELLIPSIS = re.compile(r"\b(?:anything|something)\s+(?:else\s+)?(?:on|about|regarding)\s*$", re.IGNORECASE)
"""The ellipsis that names a topic ("anything on Israel?"): a name after it is what is asked about."""
_IN_STATEMENT = re.compile(
    r"\s*\b(?:in|from|at)\s+(?:that|this|the same|the)\s+(?:statement|speech|address|document|report|text|meeting)\b",
    re.IGNORECASE,
)
_MONTH_REST = re.compile(rf"\W*({MONTH_RE})\W*", re.IGNORECASE)
"""A follow-up's whole remainder a month ("what about November?"): a date, not a topic."""
_PERSON = re.compile(r"\b(?:they|them|their|he|him|his|she|her)\b", re.IGNORECASE)
_STATEMENT = re.compile(
    r"\b(?:that|this|the same|the previous|the last|the first)\s+(?:statement|speech|address|document|report|text|"
    r"article|remarks|one)\b|\b(?:did|does|do|has|had|would|will)\s+it\b|\bit\s+(?:say|said|mention|state|call)|"
    r"\b(?:anything|something|much|nothing)\s+(?:else\s+)?(?:in|from)\s+(?:it|there)\b",
    re.IGNORECASE,
)
_TOPIC_MARK = re.compile(
    r"\b(?:about|regarding|concerning|on the (?:subject|issue|question|matter) of|as regards|with regard to|"
    r"mention(?:ed|s)?|(?:say|said|says|stance|position|view|views|comments?|remarks?)\s+on|on)\s+",
    re.IGNORECASE,
)
_YEAR_SHIFT = re.compile(
    r"\b(?:the\s+)?(?:year|one|statement|speech)\s+(before|earlier|after|later)\b|\b(previous|prior|following|next)\s+"
    r"year\b|\b(?P<count>a|one|two|three|four|five|\d)\s+years?\s+(earlier|before|later|after)\b",
    re.IGNORECASE,
)
_COUNTS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_SCAFFOLD = frozenset(
    [
        "what",
        "how",
        "about",
        "and",
        "but",
        "so",
        "also",
        "ok",
        "okay",
        "did",
        "does",
        "do",
        "has",
        "have",
        "had",
        "was",
        "were",
        "is",
        "are",
        "say",
        "said",
        "says",
        "mention",
        "mentioned",
        "mentions",
        "state",
        "stated",
        "anything",
        "else",
        "something",
        "more",
        "other",
        "the",
        "a",
        "an",
        "of",
        "on",
        "in",
        "at",
        "to",
        "for",
        "that",
        "this",
        "it",
        "its",
        "their",
        "they",
        "them",
        "he",
        "him",
        "his",
        "she",
        "her",
        "statement",
        "speech",
        "address",
        "document",
        "report",
        "view",
        "views",
        "position",
        "stance",
        "comments",
        "remarks",
        "please",
        "same",
        "question",
        "now",
        "tell",
        "me",
        "us",
        "any",
        "there",
    ]
)
_AFTER_SPEAKER = frozenset(
    [
        "say",
        "said",
        "says",
        "thought",
        "report",
        "reported",
        "state",
        "stated",
        "argue",
        "argued",
        "call",
        "called",
        "mention",
        "mentioned",
        "want",
        "wanted",
        "ask",
        "asked",
        "do",
        "did",
        "does",
        "has",
        "have",
        "had",
        "is",
        "was",
        "were",
        "at",
        "in",
        "on",
        "about",
        "during",
        "and",
        "or",
        "to",
        "of",
        "for",
        "from",
        "with",
        "that",
        "this",
        "its",
        "their",
        "his",
        "her",
        "president",
        "prime",
        "foreign",
        "minister",
        "government",
        "delegation",
        "representative",
        "ambassador",
        "leader",
        "king",
        "emir",
        "chancellor",
        "premier",
        "transitional",
        "former",
        "new",
        "position",
        "stance",
        "itself",
        "own",
        "tell",
        "tells",
        "told",
        "brief",
        "briefed",
        "warn",
        "warned",
        "urge",
        "urged",
        "condemn",
        "condemned",
        "chief",
        "cabinet",
        "secretary",
        "deputy",
        "vice",
        "permanent",
        "spokesperson",
        "spokesman",
        "spokeswoman",
        "ministry",
        "mission",
        "envoy",
        "pledge",
        "pledged",
        "promise",
        "promised",
        "propose",
        "proposed",
        "announce",
        "announced",
        "accuse",
        "accused",
        "blame",
        "blamed",
        "thank",
        "thanked",
        "reject",
        "rejected",
        "welcome",
        "welcomed",
        "push",
        "pushed",
    ]
)
"""Words that may follow a speaker's name (with `_RESPONDING`); a name before any other lowercase
word qualifies it."""
_RESPONDING = frozenset(
    ["respond", "responded", "react", "reacted", "reply", "replied", "answer", "answered", "response", "reaction",
     "think", "thinks", "view", "views", "take", "line", "see", "sees", "feel", "feels", "side", "frame", "framed",
     "describe", "described", "bring", "brought", "up", "raise", "raised", "address", "addressed", "discuss",
     "discussed", "talk", "talked", "speak", "spoke", "comment", "commented", "cover", "covered", "touch", "touched",
     "too", "also", "either", "as", "well", "back", "backed", "support", "supported", "agree", "agreed", "share",
     "shared", "echo", "echoed", "endorse", "endorsed"]
)  # fmt: skip
"""A question's only words besides its speaker (and "it") when it asks the previous question of
them: "how did India respond?", "how did Azerbaijan frame it?", "did Estonia bring it up too?"."""
_FOLLOWS_SPEAKER = _AFTER_SPEAKER | _RESPONDING
_THAT_OCCASION = re.compile(
    r"\s*\b(?:(?:at|in|during)\s+)?(?:that|the same)\s+(?:year|session|time|debate|meeting|assembly)\b(?:\s+too)?",
    re.IGNORECASE,
)
"""Words pointing at the previous question's occasion ("that year", "at that session")."""
_PLACE_BEFORE = re.compile(
    r"\b(?:in|into|from|with|against|between|toward|towards|over|inside|within|across|on|by|for)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
"""The words before a name that make it the topic's place or party, not the speaker."""
_POSSESSIVE = re.compile(r"(?:['’]s?|['’])$")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


_NAME = r"(?:the\s+)?[A-Z][\w.'’-]*(?:\s+(?:(?:of|and)\s+(?:the\s+)?)?[A-Z][\w.'’-]*)*"
_SAYING = (
    r"(?i:say|said|tell|told|describe|mention|state|think|call|argue|claim|warn|urge|propose|announce|respond|react|"
    r"report|accuse|condemn|express|raise|bring|stress|highlight|pledge|promise|reject|welcome|criticise|criticize|"
    r"talk|speak|address|characteri[sz]e|frame|view|see)\b"
)
_ASKED = re.compile(
    rf"\b(?i:did|does|do|has|have|had|will|would)\s+(?P<name>{_NAME}(?:{_TITLE.pattern})?)\s+{_SAYING}"
    rf"(?P<rest>.*)$"
)
"""What a speaker said, asked as such: "what did Japan say ...", "how did Kenya's president describe
...", "did the EU mention ...": a name between an auxiliary and a verb of saying, with its title
(the speaker is then the statements whose header has all of it)."""
_SAYING_ABOUT = re.compile(rf"{_SAYING}\w*\s+(?:\w+\s+){{0,3}}?(?:about|on|regarding)\b")
"""A question that asks what was said on its topic ("say about", "describe ... on"), whose topic
can be swapped for another."""
_REPORTED = re.compile(r"\b(?:according to|as reported by|reported by|per the|quoted by)\b", re.IGNORECASE)
"""What one speaker said as another reports it ("what did Tokyo accuse Moscow of, according to TASS?")."""
_STATEMENT_DATE = re.compile(r".*\s(?:in|during)\s+(?P<date>[^?.!]*?)\W*$")
"""A date that ends the question ("... about the ICBM launch in 2019?"): when the statement was made."""


_OCCASION_DATE = re.compile(
    r"\b(?:in|at|during)\s+(?:the\s+|its\s+|his\s+|her\s+|their\s+)?(?:(?P<year>(?:19|20)\d\d)\s+"
    r"(?i:UN\s+|United Nations\s+)?(?i:General Assembly|UNGA|general debate|speech|statement|address|session|"
    r"Security Council)|(?i:UNGA|the General Assembly|the general debate)\s+(?:of\s+|in\s+)?(?P<after>(?:19|20)\d\d))\b"
)
"""A year that names the occasion ("at the 2019 UN General Assembly", "in its 2023 speech", "at UNGA
2024"): when the statement was made, wherever it stands in the question."""


def asked_of(question: str, is_speaker: IsSpeaker) -> tuple[str, str]:
    """The speaker a question asks what it said, and the date it asks it of, if the question says
    both plainly ("What did Japan say about the ICBM launch in 2019?" gives Japan and 2019);
    ("", "") when it does not: a name elsewhere may be the topic, a date the topic's, and what a
    report says someone said is the report's."""
    m = None if _REPORTED.search(question) else _ASKED.search(question)
    name = _POSSESSIVE.sub("", m.group("name")).strip() if m else ""
    if m is None or not name or not is_speaker(name):
        return "", ""
    rest = m.group("rest")
    end = _STATEMENT_DATE.search(rest)
    date = end.group("date") if end and date_spans(end.group("date")) == [(0, len(end.group("date")))] else ""
    occasion = _OCCASION_DATE.search(rest)
    return name, date or (occasion.group("year") or occasion.group("after") if occasion else "")


def speaker_name(speaker: str) -> str:
    """The name in a speaker as a question words it: "Kenya" in "Kenya's President Ruto"."""
    title = _TITLE.search(speaker)
    return _POSSESSIVE.sub("", speaker[: title.start()] if title else speaker).strip()


def content_words(text: str) -> list[str]:
    """A question's words without the ones every question has (what, did, say, about, ...)."""
    return [w for w in re.findall(r"[\w'’-]+", text.casefold()) if w not in _SCAFFOLD and not w.isdigit()]


def _speaker_in(
    text: str, is_speaker: IsSpeaker, before: int, venue: tuple[int, int] | None = None
) -> tuple[int, int] | None:
    """Where `text` names a speaker before position `before` (names after the topic begins are the
    topic: "What did Japan say about Russia?"), as a character span."""
    # "Chile's position on ...", "Sri Lanka on the debt crisis": a name may open a question
    opening = re.match(
        r"\s*(?!(?:Did|Does|Do|Has|Have|Had|Is|Was|Are|Were|Will|Would|Can|Could|What|How|Why|When|Where|Which|Who|"
        r"And|But|So)\b)([A-Z][\w.-]*(?:\s+[A-Z][\w.-]*)*)(?=['’]s?\b|\s+(?:on|about|said|says|position|view|stance)\b)",
        text,
    )
    first = [opening.group(1)] if opening else []
    reported = _reported(text)  # "according to the joint statement, did Russia vote ...": the source speaks
    for phrase in _with_possessors(first + name_phrases(text)):
        for m in re.finditer(re.escape(phrase), text):
            if m.start() >= before:
                break
            if reported and not reported.end() <= m.start() <= reported.end() + 5:
                continue
            if venue is not None and venue[0] <= m.start() < venue[1]:
                continue  # "at the OSCE": a place, though a delegation "to the OSCE" speaks there
            if _PLACE_BEFORE.search(text[: m.start()]):
                continue  # "the North Korean troops in Russia": where the topic happens, not who speaks
            name = _POSSESSIVE.sub("", phrase)
            title = _TITLE.match(text, m.start() + len(name))  # "Japan's delegation", "Chile's president"
            after = re.match(r"\s+([a-z][\w-]*)", text[m.end() :])
            subject = re.search(
                r"\b(?:is|was|are|were|did|does|do|has|have|had|will|would|can|could)\s+(?:the\s+)?$",
                text[: m.start()],
                re.IGNORECASE,
            )  # "is Germany running ...": who does it
            if after and not title and not subject and after.group(1) not in _FOLLOWS_SPEAKER:
                continue  # "EU membership", "Russia sanctions": the name qualifies a topic
            if name and is_speaker(name):
                start = m.start() - 4 if text[: m.start()].endswith(("the ", "The ")) else m.start()
                start = _title_start(text, start)  # "the emir of Qatar" is replaced whole
                return start, title.end() if title else m.start() + len(name)
    return None


def _reported(text: str) -> re.Match[str] | None:
    """Where a question names whose report it asks about ("according to TASS"), not when the
    report is the speaker's own ("according to its 2023 speech")."""
    m = _REPORTED.search(text)
    return None if m is None or re.match(r"\s+(?:its|his|her|their)\b", text[m.end() :]) else m


def _with_possessors(phrases: list[str]) -> list[str]:
    """Each name phrase, then the owner in it: "Japan's" in "Japan's OSCE statement"."""
    out: list[str] = []
    for phrase in phrases:
        owner = re.match(r"(.+?['’]s?)\s", phrase)
        out += [phrase, owner.group(1)] if owner else [phrase]
    return out


def _title_start(text: str, start: int) -> int:
    """Where a title before a name begins ("the emir of" before "Qatar", at most three words of
    the header titles' vocabulary), else `start`."""
    of = re.search(r"\bof\s+$", text[:start], re.IGNORECASE)
    if not of:
        return start
    begin, words = of.start(), 0
    for word in reversed(list(re.finditer(r"[\w-]+", text[: of.start()]))):
        if words == 3 or word.group().casefold() not in TITLES:
            break
        begin, words = word.start(), words + 1
    the = re.search(r"\bthe\s+$", text[:begin], re.IGNORECASE)
    return start if not words else the.start() if the else begin


def _venue_in(text: str, is_venue: IsSpeaker) -> tuple[int, int] | None:
    for m in _VENUE.finditer(text):
        if re.search(r"\baccording\s+$", text[: m.start()], re.IGNORECASE) or _POSSESSIVE.search(m.group("name")):
            continue  # "according to Japan's delegation": whose words, not where
        after = re.match(r"\s+([a-z]+)\b", text[m.end() :])
        if after and after.group(1) not in _AFTER_VENUE:
            continue  # "tie that to Security Council reform": the venue names the topic's thing
        if is_venue(m.group("name")):
            return m.span("name")
    return None


def parse(question: str, is_speaker: IsSpeaker, is_venue: IsSpeaker = _never) -> Turn:
    """A question's parts, as words of the question: who, when, and about what. A date after "the"
    ("about the 31 May joint statement") names the topic's thing; the others are the question's
    ("in 2022 at the General Assembly", "in its 2023 speech")."""
    mark = _TOPIC_MARK.search(question)
    topic_start = mark.end() if mark else len(question)
    dates = [(s, e) for s, e in date_spans(question) if not _THE_DATE.fullmatch(question[topic_start:s])]
    venue = _venue_in(question, is_venue)
    speaker = _speaker_in(question, is_speaker, topic_start, venue)
    topic = ""
    if mark:
        ends = [s for s, _ in dates if s >= topic_start] + ([venue[0]] if venue and venue[0] >= topic_start else [])
        ends += [m.start() for m in _REPORTED.finditer(question) if m.start() >= topic_start]
        end = min(ends, default=len(question))
        topic = re.sub(
            r"(?:\s+(?:in|at|during|from|since|of|on|the))*[\s?.!,;:]*$", "", question[topic_start:end]
        ).strip()
    date_text = question[dates[0][0] : dates[-1][1]] if dates else ""
    topic = re.sub(r"\s+(?:at|before|to)(?:\s+the)?$", "", topic)
    venue_text = question[slice(*venue)] if venue else ""
    return Turn(question, question[slice(*speaker)] if speaker else "", date_text, topic, venue=venue_text)


def _shift_year(dates: str, text: str) -> str:
    """ "the year before" read against the previous question's year: 2023 -> 2022."""
    m = _YEAR_SHIFT.search(text)
    years = _YEAR.findall(dates)
    if not m or len(years) != 1:
        return ""
    word = next(g for name, g in zip(("", "", "count", ""), m.groups(), strict=True) if g and not name).lower()
    count = (m.group("count") or "a").lower()
    step = _COUNTS[count] if count in _COUNTS else int(count)
    return str(int(years[0]) + (-step if word in ("before", "earlier", "previous", "prior") else step))


def _same_name(a: str, b: str) -> bool:
    def bare(name: str) -> str:
        return _POSSESSIVE.sub("", re.sub(r"^the\s+", "", name.strip(), flags=re.IGNORECASE)).casefold()

    return bool(a and b) and bare(a) == bare(b)


def _other_side(speaker: str, previous: Turn) -> str:
    """The previous topic seen from the new speaker's side: "Guyana on its border dispute with
    Venezuela", then "and Venezuela's side?", asks about the dispute with Guyana ("" if the new
    speaker is not in the topic)."""
    name, before = speaker_name(speaker), speaker_name(previous.speaker)
    if _same_name(name, previous.topic):
        return before
    found = re.search(rf"\b(?:the\s+)?{re.escape(_POSSESSIVE.sub('', name))}\b", previous.topic, re.IGNORECASE)
    return previous.topic[: found.start()] + before + previous.topic[found.end() :] if found and before else ""


def _dates_asked(rest: str, own: Turn, previous: Turn) -> str:
    """The dates a follow-up names ("in 2023", "what about November?"), in the previous year when
    it names only a month."""
    month = _MONTH_REST.fullmatch(rest)
    return _in_year_of(own.dates or (month.group(1) if month else ""), previous.dates)


def _in_year_of(dates: str, previous: str) -> str:
    """ "and in November?" after a question about July 2024 asks about November 2024."""
    years = _YEAR.findall(previous)
    if not dates or _YEAR.search(dates) or len(set(years)) != 1:
        return dates
    return f"{dates} {years[0]}"


def _in_year_asked(fresh: FollowUp, previous: Turn) -> FollowUp:
    """A question of its own that names a month and no year ("what was Japan saying about the
    weapons purchases in November?") asked in the year the conversation is about."""
    dates = _in_year_of(fresh.turn.dates, previous.dates)
    if dates == fresh.turn.dates or fresh.turn.dates not in fresh.question:
        return fresh
    turn = fresh.turn
    return FollowUp(Reading.DATES, replace(turn, question=turn.question.replace(turn.dates, dates, 1), dates=dates))


def _without_dates(rest: str) -> str:
    """A follow-up's words without the dates it names ("Italy the year before?" gives "Italy")."""
    for start, end in reversed(date_spans(rest)):
        rest = rest[:start] + rest[end:]
    rest = _YEAR_SHIFT.sub("", rest)
    return re.sub(r"(?:\s+(?:in|at|during|back|then|for|of))+\s*([?.!]*)\s*$", r"\1", rest.strip())


def _remainder_name(rest: str, is_speaker: IsSpeaker) -> str:
    """The whole rest of an ellipsis as a speaker ("and the Russian Federation?", "what about
    Poland's view?"): written as a name (every word capitalised but "of", "and", "the") and the
    speaker of some statement. A name no statement has is read as a topic ("what about Gaza?")."""
    words = re.sub(r"[?.!,;:]+$", "", rest).strip()
    words = re.sub(r"\s+(?:view|views|position|stance|take|response|answer|itself)$", "", words, flags=re.IGNORECASE)
    words = re.sub(r"^(?:for|of)\s+", "", words, flags=re.IGNORECASE)
    words = re.sub(r"(?:['’]s?)?\s+own\b.*$", "", words, flags=re.IGNORECASE)  # "Yemen's own president"
    name = _POSSESSIVE.sub("", words).strip()
    written_as_name = all(w[:1].isupper() or w.lower() in ("of", "and", "the") for w in name.split())
    if not name or date_spans(name) or not written_as_name or len(name.split()) > 6:
        return ""
    return name if is_speaker(name) else ""


def _written_out(previous: Turn, speaker: str, dates: str, topic: str, venue: str = "") -> str:
    """The previous question with its changed parts replaced, as a member would have written it."""
    question = previous.question
    if venue and venue != previous.venue:
        if previous.venue and previous.venue in question:
            question = question.replace(previous.venue, venue, 1)
        else:
            where = (
                re.search(r"\s+(?:in|on|during)\s+" + re.escape(previous.dates), question) if previous.dates else None
            )
            at = where.start() if where else len(re.sub(r"[\s?.!]*$", "", question))
            question = f"{question[:at]} at the {venue}{question[at:]}"
        previous = replace(previous, question=question)
    if topic and topic != previous.topic:
        if not previous.topic or previous.topic not in question or not _SAYING_ABOUT.search(question):
            # "is Germany running for a seat on the Security Council?", then "and on AI?": the
            # new topic asked of the same speaker, not put in the old question's place
            return _template(speaker, dates, topic, venue or previous.venue)
        question = question.replace(previous.topic, topic, 1)
    if speaker and speaker != previous.speaker:
        if not previous.speaker or previous.speaker not in question:
            return _template(speaker, dates, topic or previous.topic or _gist(previous), venue or previous.venue)
        question = question.replace(previous.speaker, speaker, 1)
    if dates and dates != previous.dates:
        if previous.dates and previous.dates in question:
            question = question.replace(previous.dates, dates, 1)
        else:
            question = re.sub(r"\s*([?.!]*)\s*$", lambda m: f" in {dates}{m.group(1) or '?'}", question, count=1)
    return question


def _gist(turn: Turn) -> str:
    """What a question asks about when no "about" says it ("How did Chile describe its lithium
    policy?"): its words without its speaker, its dates and the words every question has."""
    text = turn.question
    for part in (turn.speaker, turn.dates, turn.venue):
        text = text.replace(part, " ") if part else text
    return " ".join(w for w in re.findall(r"[\w'’-]+", text) if content_words(w))


def _template(speaker: str, dates: str, topic: str, venue: str = "") -> str:
    asked = f"What did {speaker} say about {topic or 'it'}?" if speaker else f"What was said about {topic or 'it'}?"
    return _on_occasion(asked, Turn(asked, dates=dates, venue=venue))


def read(text: str, previous: Turn | None, is_speaker: IsSpeaker, is_venue: IsSpeaker = _never) -> FollowUp:
    """`text` read against the question before it in the same conversation (None: there is none)."""
    fresh = FollowUp(Reading.FRESH, parse(text, is_speaker, is_venue))
    if previous is None:
        return _first_message(text, fresh, is_speaker)
    if _MORE.match(text):
        return FollowUp(Reading.MORE, replace(previous, documents=(), shown=0), skip=previous.shown)
    if previous.base:
        previous = replace(previous, question=previous.base, base="")
    ellipsis = _ELLIPSIS.match(text)
    person, statement = _PERSON.search(text), _STATEMENT.search(text)
    rest = text[ellipsis.end() :] if ellipsis else text
    own = parse(rest, is_speaker, is_venue)
    if person and own.speaker and -1 < text.find(own.speaker) < person.start():
        person = None  # "what did Raisi say in his 2023 speech?": his own, not the one just quoted
    if ellipsis and _TOPIC_ELLIPSIS.search(ellipsis.group(0)):
        own = replace(own, speaker="")  # "anything on Israel in that speech?": Israel is the topic
    occasion = _THAT_OCCASION.search(rest)  # "about India that year": the previous question's dates
    own = replace(own, topic=_THAT_OCCASION.sub("", own.topic).strip()) if occasion else own
    rest_now = _THAT_OCCASION.sub("", rest)
    shifted = _shift_year(previous.dates, rest)
    dates = shifted or _dates_asked(rest, own, previous)
    venue = own.venue
    # "did they ...", "did it ...": the speaker is the one just quoted; a name in the words is topic.
    referring = bool(person or statement) and not ellipsis
    back = _BACK_TO_TOPIC.search(rest)
    named = (
        ""
        if own.topic or venue or (ellipsis and _TOPIC_ELLIPSIS.search(ellipsis.group(0)))
        else (_remainder_name(_without_dates(rest_now), is_speaker))
    )
    speaker = "" if referring else own.speaker or named
    topic = "" if (back and not own.topic) or _POINTER.fullmatch(own.topic or "-") else own.topic
    if speaker and not topic and previous.speaker:
        topic = _other_side(speaker, previous)  # "Guyana on Venezuela?" "and what did Venezuela say?"
    if not topic and not speaker and not dates and not venue:
        leftover = content_words(rest)
        topic = re.sub(r"^\W*(?:on|about|regarding)\s+|[\s?.!,;:]+$", "", _IN_STATEMENT.sub("", rest_now)).strip()
        topic = topic if leftover else ""
        if referring and topic:
            return _reference(text, previous, statement is not None)
    pointing = bool(ellipsis or person or statement or shifted or back)
    asked = {_POSSESSIVE.sub("", w) for w in content_words(_without_dates(rest_now))} - set(content_words(own.speaker))
    if own.speaker and not (ellipsis or referring) and not own.topic and asked <= _RESPONDING:
        pointing = True  # "how did India respond?", "did Brazil bring that up in 2023 too?": the same question
    elif not (ellipsis or referring or dates or venue) and (again := _again_of(text, own, previous, occasion)):
        return again
    if not pointing and re.search(r"\b(?:that|this|it)\W*$", text, re.IGNORECASE) and len(content_words(text)) <= 1:
        # "when was that?", "who said that?": the passage just quoted, and its citation
        return FollowUp(Reading.REFERENCE, replace(previous, documents=(), shown=0), frozenset(previous.documents[:1]))
    if not (pointing or own.topic or own.speaker or dates or venue) and previous.documents and _bare(text):
        return _in_the_quoted(text, previous, previous.speaker)  # "what are its key principles?", "which ones?"
    if not pointing and (topic or len(content_words(text)) >= 2):
        return _in_year_asked(fresh, previous)  # a question of its own
    if not (speaker or dates or topic or person or statement or venue):
        return fresh
    kind = _kind(speaker, dates, venue, referring)
    keep_speaker = speaker or previous.speaker
    turn = Turn(
        _written_out(previous, keep_speaker, dates or previous.dates, topic or previous.topic, venue),
        keep_speaker,
        dates or previous.dates,
        topic or previous.topic,
        venue=venue or previous.venue,
    )
    # "did it ...", or "did they ..." with nobody named before: the statement just quoted
    to_statement = statement or (referring and not keep_speaker)
    limited = frozenset(previous.documents[:1]) if to_statement and not speaker and not dates else frozenset()
    return FollowUp(kind, turn, limited)


def _again_of(text: str, own: Turn, previous: Turn, occasion: re.Match[str] | None) -> FollowUp | None:
    """Another speaker asked about the previous topic, or at the previous occasion: "what did
    Spain say about AI?" after the UK on AI at the UN in 2023, "what did Monaco say about AI at that
    session?" ask it of the same occasion (None when the question is one of its own)."""
    shared = set(content_words(own.topic)) & set(content_words(previous.topic or _gist(previous)))
    if not (own.speaker and own.topic and (shared or occasion)):
        return None
    asked = _THAT_OCCASION.sub("", text).strip()
    turn = Turn(_on_occasion(asked, previous), own.speaker, previous.dates, own.topic, venue=previous.venue)
    return FollowUp(Reading.SPEAKER, turn)


def _first_message(text: str, fresh: FollowUp, is_speaker: IsSpeaker) -> FollowUp:
    """A message with no question before it: "more" or "and the US?" out of the blue follow
    nothing; anything else is a question of its own."""
    ellipsis = _ELLIPSIS.match(text)
    rest = text[ellipsis.end() :] if ellipsis else ""
    if _MORE.match(text) or (ellipsis and not parse(rest, is_speaker).topic and len(content_words(rest)) <= 3):
        return FollowUp(Reading.NOTHING_TO_FOLLOW, fresh.turn)
    return fresh


def _kind(speaker: str, dates: str, venue: str, referring: bool) -> Reading:
    """What a follow-up changed, the most telling first: a speaker over dates over a venue."""
    if speaker:
        return Reading.SPEAKER
    if dates:
        return Reading.DATES
    if venue:
        return Reading.VENUE
    return Reading.REFERENCE if referring else Reading.TOPIC


def _on_occasion(question: str, previous: Turn) -> str:
    """`question` asked of the previous question's venue and dates, where it names neither."""
    venue = re.sub(r"^the\s+", "", previous.venue, flags=re.IGNORECASE)
    if venue and not re.search(rf"\b{re.escape(venue)}\b", question, re.IGNORECASE):
        question = re.sub(r"\s*([?.!]*)\s*$", lambda m: f" at the {venue}{m.group(1) or '?'}", question, count=1)
    if previous.dates and not date_spans(question):
        question = re.sub(r"\s*([?.!]*)\s*$", lambda m: f" in {previous.dates}{m.group(1) or '?'}", question, count=1)
    return question


def _bare(text: str) -> bool:
    """A question that only makes sense about what was just quoted: "its", "it", or a question word
    and a word or two ("which resolutions?", "who funds it?")."""
    short = re.match(r"\W*(?:which|what|who|whom|whose|when|where|why|how)\b", text, re.IGNORECASE)
    return bool(_ITS.search(text)) or bool(short and len(content_words(text)) <= 2)


def _in_the_quoted(text: str, previous: Turn, speaker: str) -> FollowUp:
    """A question about what the statement just quoted speaks of, asked of it as typed (at its
    occasion); the next follow-up goes on from the question before."""
    turn = Turn(_on_occasion(text, previous), speaker, previous.dates, previous.topic, venue=previous.venue)
    return FollowUp(Reading.REFERENCE, replace(turn, base=previous.question), frozenset(previous.documents[:1]))


def _reference(text: str, previous: Turn, to_statement: bool) -> FollowUp:
    """A question of its own shape about the speaker or statement just quoted ("did they say what
    Pyongyang gets in return?"): its pronoun replaced by that speaker, and the occasion (venue and
    dates) kept."""
    if not previous.speaker:
        return _in_the_quoted(text, previous, "")  # nobody to put for "they": the statement just quoted is who
    speaker = previous.speaker
    question = _STATEMENT.sub(lambda m: re.sub(r"\bit\b", speaker, m.group(0)), text)
    # only the first pronoun is the speaker: "who did he say was backing them?" asks about others
    question = _PERSON.sub(
        lambda m: speaker + ("'s" if m.group(0).lower() in ("their", "his", "her") else ""), question, count=1
    )
    question = _on_occasion(question, previous)
    question = question[:1].upper() + question[1:]
    turn = Turn(
        question, previous.speaker, previous.dates, previous.topic, venue=previous.venue, base=previous.question
    )
    return FollowUp(Reading.REFERENCE, turn, frozenset(previous.documents[:1]) if to_statement else frozenset())


def for_the_state(followed: FollowUp, quoted_header: str, is_speaker: IsSpeaker) -> FollowUp | None:
    """A person asked about another year ("what did Raisi say about the JCPOA in 2023?", then "and
    in 2024?") asked instead of the state that person spoke for, as a member following a country
    means: someone else may have made its statement that year. `quoted_header` is the speaker and
    organisation of the statement quoted last; None when the speaker is already a state, or that
    statement is not the person's."""
    person = speaker_name(followed.turn.speaker)
    states = states_named(quoted_header)
    if followed.kind is not Reading.DATES or not person or not states:
        return None
    if person.casefold() not in quoted_header.casefold():
        return None
    state = states[0]
    if _same_name(state, person) or not is_speaker(state):
        return None
    turn = followed.turn
    question = turn.question.replace(turn.speaker, state, 1)
    return FollowUp(Reading.SPEAKER, replace(turn, question=question, speaker=state), followed.documents)


def of_the_quoted(followed: FollowUp, previous: Turn, quoted_header: str) -> FollowUp | None:
    """A question of its own naming the person whose statement was just quoted, and no date ("did
    Ruto ask other countries to chip in?" after Kenya's 2024 speech on Haiti): asked of that
    statement. A state named so ("what did Japan say about sanctions?") may mean any of its
    statements and is left as typed (None)."""
    turn = followed.turn
    person = speaker_name(turn.speaker)
    if followed.kind is not Reading.FRESH or not person or turn.dates or turn.venue or not previous.documents:
        return None
    if person.casefold() not in quoted_header.casefold() or any(
        _same_name(person, s) for s in states_named(quoted_header)
    ):
        return None
    return _in_the_quoted(followed.question, previous, turn.speaker)
