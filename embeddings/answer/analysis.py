"""Comparing positions and following a topic over time.

Each statement of a speaker is weighed against the topic by the address model
(`embeddings.answer.addressing`): it states a position, it may touch on the topic, or it says
nothing on it. A speaker is called silent only when none of its statements comes near (and the
reply says which statements were checked); a speaker is quoted with its best passages, each a
verbatim slice with its citation, as in `/ask`.

Groups come from the header (speaker, organisation), never from guesses about the text.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from embeddings.answer.addressing import AddressModel, Statement, TopicView, shipped_address_model, topic_view, weigh
from embeddings.answer.search import Filters, Result, SearchEngine, clean_question
from embeddings.corpus.documents import Document

MAX_GROUPS = 10
"""Speakers compared at most at once: what one Discord message can show (ten embeds)."""
POSITION_PASSAGES = 3
"""Passages quoted per speaker that states a position: a position is seldom one sentence (a
principle, then the case; one year, then the next), and the others are where a reader checks the first."""
POSSIBLE_PASSAGES = 2
"""Passages quoted for a speaker that may only touch on the topic: enough for the reader to judge."""
TIMELINE_POOL = 40
"""Statements nearest the topic that a timeline weighs (without a speaker named)."""
MAX_TIMELINE = 25
"""Statements a timeline lists at most: the ones the model is surest address the topic."""


class Verdict(enum.Enum):
    POSITION = "position"
    """A statement of the speaker addresses the topic: its passages are quoted."""
    POSSIBLE = "possible"
    """The closest passage may touch on the topic without stating a position: quoted, and said so."""
    SILENT = "silent"
    """None of its statements addresses the topic."""


@dataclass(frozen=True)
class Position:
    speaker: str
    """The group as asked ("the US") or as its statements name it (the organisation, else the speaker)."""
    verdict: Verdict
    passages: tuple[Result, ...] = ()
    """Best first; empty when the speaker is silent on the topic."""
    checked: tuple[Document, ...] = ()
    """Every statement of the speaker (within the dates asked) that was weighed, oldest first."""

    @property
    def result(self) -> Result | None:
        return self.passages[0] if self.passages else None

    @property
    def documents(self) -> tuple[str, ...]:
        return tuple(d.doc_id for d in self.checked)


@dataclass
class Comparison:
    topic: str
    positions: list[Position] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    """Names asked for that no statement's speaker or organisation matches."""
    out_of_range: list[str] = field(default_factory=list)
    """Names with statements, none of them within the dates asked."""
    left_out: list[str] = field(default_factory=list)
    """Names past the most that one comparison shows (`MAX_GROUPS`), not compared."""

    @property
    def silent(self) -> list[Position]:
        return [p for p in self.positions if p.verdict is Verdict.SILENT]


@dataclass
class Timeline:
    topic: str
    entries: list[tuple[Document, Result]] = field(default_factory=list)
    """Oldest first: each statement that addresses the topic and its passage."""
    unknown_speaker: str = ""
    """The speaker asked for, when no statement (within the dates asked) is by it."""
    checked: int = 0
    """Statements weighed."""


def group_of(doc: Document) -> str:
    return doc.organisation or doc.speaker


def speaker_documents(engine: SearchEngine, name: str, filters: Filters) -> list[Document]:
    """Statements whose speaker or organisation names `name`, with aliases ("the US" finds "United
    States"): every word of the name, as a keyword token, is in the header's speaker fields."""
    return [
        doc
        for doc in engine.corpus.documents.values()
        if engine.accepts(doc, filters) and engine.speaker_matches(doc, name)
    ]


def position(
    engine: SearchEngine, topic: TopicView, speaker: str, documents: Sequence[Document], model: AddressModel
) -> Position:
    """A speaker's verdict on the topic from all its statements, and the passages that show it: the
    best passage of each statement that addresses the topic (best statement first), then their next
    passages, so that a position stated in several years is seen in each."""
    checked = tuple(sorted(documents, key=lambda d: (d.date, d.doc_id)))
    weighed = [s for s in (weigh(engine, topic, d.doc_id, model) for d in checked) if s is not None and s.passages]
    weighed.sort(key=lambda s: -s.score)
    if not weighed or weighed[0].score < model.silent_below:
        return Position(speaker, Verdict.SILENT, (), checked)
    sure = weighed[0].score >= model.sure_from
    addressing = [s.passages for s in weighed if s.score >= model.silent_below]
    in_turn = [p[rank] for rank in range(max(map(len, addressing))) for p in addressing if rank < len(p)]
    count = POSITION_PASSAGES if sure else POSSIBLE_PASSAGES
    return Position(speaker, Verdict.POSITION if sure else Verdict.POSSIBLE, tuple(in_turn[:count]), checked)


def compare(
    engine: SearchEngine,
    topic: str,
    speakers: Sequence[str] = (),
    filters: Filters | None = None,
    max_groups: int = MAX_GROUPS,
    model: AddressModel | None = None,
) -> Comparison:
    """Each named speaker's position on the topic (or, with none named, each speaker's in the corpus
    that states one, nearest first)."""
    model = model or shipped_address_model()
    filters = filters or Filters()
    view = topic_view(engine, clean_question(topic, engine.max_question_chars, "topic"), filters)
    comparison = Comparison(view.text)
    every = list(dict.fromkeys(s.strip() for s in speakers if s.strip()))
    names, comparison.left_out = every[:max_groups], every[max_groups:]
    if not names:
        _strongest(engine, view, filters, max_groups, model, comparison)
        return comparison
    seen: dict[tuple[str, ...], int] = {}
    for name in names:
        docs = speaker_documents(engine, name, filters)
        if not docs:
            anywhere = speaker_documents(engine, name, Filters())
            (comparison.out_of_range if anywhere else comparison.unknown).append(name)
            continue
        ids = tuple(sorted(d.doc_id for d in docs))
        if ids in seen:  # "the US" and "United States" name the same statements: shown once
            held = comparison.positions[seen[ids]]
            comparison.positions[seen[ids]] = dataclasses.replace(held, speaker=f"{held.speaker} / {name}")
            continue
        seen[ids] = len(comparison.positions)
        comparison.positions.append(position(engine, view, name, docs, model))
    return comparison


def _strongest(
    engine: SearchEngine, view: TopicView, filters: Filters, max_groups: int, model: AddressModel, into: Comparison
) -> None:
    """With no speaker named: the groups of the statements nearest the topic that state a position."""
    groups: dict[str, None] = {}
    for doc_id in view.documents:
        groups.setdefault(group_of(engine.corpus.documents[doc_id]))
    for group, _ in zip(groups, range(max_groups * 2), strict=False):
        members = [d for d in engine.corpus.documents.values() if group_of(d) == group and engine.accepts(d, filters)]
        found = position(engine, view, group, members, model)
        if found.verdict is Verdict.POSITION:
            into.positions.append(found)
        if len(into.positions) >= max_groups:
            break


def timeline(
    engine: SearchEngine,
    topic: str,
    speaker: str = "",
    filters: Filters | None = None,
    limit: int = MAX_TIMELINE,
    model: AddressModel | None = None,
) -> Timeline:
    """The statements that address the topic, oldest first, each with its best passage."""
    model = model or shipped_address_model()
    filters = filters or Filters()
    if speaker:
        filters = dataclasses.replace(
            filters, documents=frozenset(d.doc_id for d in speaker_documents(engine, speaker, filters))
        )
        if not filters.documents:
            return Timeline(clean_question(topic, engine.max_question_chars, "topic"), unknown_speaker=speaker)
    view = topic_view(engine, clean_question(topic, engine.max_question_chars, "topic"), filters)
    pool = sorted(filters.documents) if speaker else view.documents[:TIMELINE_POOL]
    weighed: list[Statement] = [
        s for s in (weigh(engine, view, doc_id, model) for doc_id in pool) if s is not None and s.passages
    ]
    listed = sorted((s for s in weighed if s.score >= model.timeline_from), key=lambda s: -s.score)[:limit]
    line = Timeline(view.text, [(s.doc, s.passages[0]) for s in listed], checked=len(weighed))
    line.entries.sort(key=lambda entry: (entry[0].date, entry[0].doc_id))
    return line
