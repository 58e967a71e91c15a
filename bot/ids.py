"""Every button's `custom_id`, encoded and decoded in one place as typed values.

A button's state lives in its id (at most 100 characters), so that it keeps working after a
restart or weeks later: discord.py finds the button class by the id's pattern and rebuilds the value
from it. Each value class knows its pattern and how to write itself; nothing else builds or parses
ids. `REF` is a document id, or `#` and a hash of a long one (an empty `REF` on a page button means
the list of documents).

- `vb:full:PARAGRAPH:REF`            open a document at a paragraph, for the clicker only
- `vb:pg:p|n:OWNER:PAGE:REF`         show PAGE of a document or the list; only OWNER turns pages
- `vb:dl:REF`                        the document as a .txt file, for the clicker only
- `vb:fb:a|w|x:ANSWER`               a vote on an answer (answers it / wrong passage / wrong decline)
- `vb:tl:p|n:OWNER:PAGE:QUERY`       a page of a remembered timeline; only OWNER turns pages
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass

MAX_REF = 60
"""Longest document id put in an id as it is; longer ones are referred to by a hash."""


def doc_ref(doc_id: str) -> str:
    if len(doc_id) <= MAX_REF:
        return doc_id
    return "#" + hashlib.sha256(doc_id.encode()).hexdigest()[:20]


class Direction(enum.Enum):
    PREVIOUS = "p"
    NEXT = "n"


class Verdict(enum.Enum):
    """A member's vote, as the button carries it."""

    ANSWERS = "a"
    WRONG_PASSAGE = "w"
    WRONG_DECLINE = "x"
    """The answer was "nothing answers", and the member says a statement does."""

    @property
    def stored(self) -> str:
        """The verdict as the state file keeps it."""
        return "answers" if self is Verdict.ANSWERS else "wrong"


@dataclass(frozen=True)
class FullText:
    PATTERN = r"vb:full:(?P<para>\d+):(?P<ref>.+)"
    ref: str
    paragraph: int

    def encode(self) -> str:
        return f"vb:full:{self.paragraph}:{self.ref}"

    @classmethod
    def decode(cls, m: re.Match[str]) -> FullText:
        return cls(m["ref"], int(m["para"]))


@dataclass(frozen=True)
class Page:
    PATTERN = r"vb:pg:(?P<dir>[pn]):(?P<owner>\d+):(?P<page>\d+):(?P<ref>.*)"
    direction: Direction
    owner: int
    page: int
    ref: str

    def encode(self) -> str:
        return f"vb:pg:{self.direction.value}:{self.owner}:{self.page}:{self.ref}"

    @classmethod
    def decode(cls, m: re.Match[str]) -> Page:
        return cls(Direction(m["dir"]), int(m["owner"]), int(m["page"]), m["ref"])


@dataclass(frozen=True)
class Download:
    PATTERN = r"vb:dl:(?P<ref>.+)"
    ref: str

    def encode(self) -> str:
        return f"vb:dl:{self.ref}"

    @classmethod
    def decode(cls, m: re.Match[str]) -> Download:
        return cls(m["ref"])


@dataclass(frozen=True)
class Vote:
    PATTERN = r"vb:fb:(?P<verdict>[awx]):(?P<aid>[0-9a-f]{16})"
    verdict: Verdict
    answer_id: str

    def encode(self) -> str:
        return f"vb:fb:{self.verdict.value}:{self.answer_id}"

    @classmethod
    def decode(cls, m: re.Match[str]) -> Vote:
        return cls(Verdict(m["verdict"]), m["aid"])


@dataclass(frozen=True)
class TimelinePage:
    PATTERN = r"vb:tl:(?P<dir>[pn]):(?P<owner>\d+):(?P<page>\d+):(?P<qid>[0-9a-f]{16})"
    direction: Direction
    owner: int
    page: int
    query_id: str

    def encode(self) -> str:
        return f"vb:tl:{self.direction.value}:{self.owner}:{self.page}:{self.query_id}"

    @classmethod
    def decode(cls, m: re.Match[str]) -> TimelinePage:
        return cls(Direction(m["dir"]), int(m["owner"]), int(m["page"]), m["qid"])


CUSTOM_IDS = (FullText, Page, Download, Vote, TimelinePage)
