"""Comparing positions and following a topic over time, from the same search that answers questions.

Both are built from per-document (or per-speaker) searches: each group's passage is the one the
ranker puts first among that group's statements, and a group whose statements do not answer is
declined by the same model that declines a question. So a comparison never quotes a speaker on
something it did not address, and every quote is a verbatim slice with its citation, as in `/ask`.

Groups come from the header (speaker, organisation), never from guesses about the text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from embeddings.answer.search import Answer, Filters, Result, SearchEngine, clean_question, rank_scores
from embeddings.corpus.documents import Document

MAX_GROUPS = 10
"""Speakers compared at most at once: what one Discord message can show (ten embeds)."""
MIN_TOPIC_WORDS = 0.5
MIN_TOPIC_COSINE = 0.5
"""Set by inspecting a dozen topics (README): no labelled set of topics exists to cross-validate on,
so both are strict; a speaker left out is better than one quoted on something it did not address."""
MAX_TIMELINE = 25
"""Statements a timeline lists at most: the documents nearest the topic."""


@dataclass(frozen=True)
class Position:
    speaker: str
    """The group as asked ("the US") or as its statements name it (the organisation, else the speaker)."""
    result: Result | None
    """The passage that best states its position; None when its statements say nothing on the topic."""
    documents: tuple[str, ...] = ()


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
    def silent(self) -> list[str]:
        return [p.speaker for p in self.positions if p.result is None]


@dataclass
class Timeline:
    topic: str
    entries: list[tuple[Document, Result]] = field(default_factory=list)
    """Oldest first: each statement that addresses the topic and its passage."""
    unknown_speaker: str = ""
    """The speaker asked for, when no statement (within the dates asked) is by it."""


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


def on_topic(engine: SearchEngine, topic: str, result: Result) -> bool:
    """Whether a passage speaks to the topic itself, not to something near it: its words carry at
    least half of the topic's keyword weight (idf, stems, aliases; a word no statement uses weighs
    most), or its meaning is close (cosine >= 0.5 between topic and quote). A speaker is quoted only
    on what it addressed: "climate change" does not find "change its policy"."""
    tokens = list(dict.fromkeys(engine.tokenizer(topic)))
    weights = {t: engine.keywords.idf(t) for t in tokens}
    total = sum(weights.values())
    present = set(engine.tokenizer(result.quote))
    if total and sum(w for t, w in weights.items() if t in present) / total >= MIN_TOPIC_WORDS:
        return True
    topic_vector, quote_vector = engine.embedder.encode([topic, result.quote])
    return float(topic_vector @ quote_vector) >= MIN_TOPIC_COSINE


def _best(engine: SearchEngine, topic: str, documents: Sequence[str], filters: Filters) -> Result | None:
    answer = engine.search(topic, k=1, filters=dataclasses.replace(filters, documents=frozenset(documents)))
    if not answer.answered or not answer.results:
        return None
    return answer.results[0] if on_topic(engine, topic, answer.results[0]) else None


def _documents_near(engine: SearchEngine, topic: str, filters: Filters) -> list[str]:
    """The statements with a candidate passage for the topic, best first."""
    cands = engine.candidates(topic, filters)
    if isinstance(cands, Answer) or not len(cands):
        return []
    scores = rank_scores(cands, engine.models)
    best: dict[str, float] = {}
    for c, score in zip(cands.chunk_ids.tolist(), scores.tolist(), strict=True):
        doc_id = engine.index.chunks[c].doc_id
        best[doc_id] = max(best.get(doc_id, float("-inf")), score)
    return sorted(best, key=lambda d: -best[d])


def compare(
    engine: SearchEngine,
    topic: str,
    speakers: Sequence[str] = (),
    filters: Filters | None = None,
    max_groups: int = MAX_GROUPS,
) -> Comparison:
    """Each named speaker's passage on the topic (or, with none named, each speaker's in the corpus
    that addresses it, nearest first)."""
    topic = clean_question(topic, engine.max_question_chars)
    filters = filters or Filters()
    comparison = Comparison(topic)
    every = list(dict.fromkeys(s.strip() for s in speakers if s.strip()))
    names, comparison.left_out = every[:max_groups], every[max_groups:]
    if names:
        seen: dict[tuple[str, ...], int] = {}
        for name in names:
            docs = speaker_documents(engine, name, filters)
            if not docs:
                anywhere = speaker_documents(engine, name, Filters())
                (comparison.out_of_range if anywhere else comparison.unknown).append(name)
                continue
            ids = tuple(d.doc_id for d in docs)
            if ids in seen:  # "the US" and "United States" name the same statements: shown once
                held = comparison.positions[seen[ids]]
                comparison.positions[seen[ids]] = dataclasses.replace(held, speaker=f"{held.speaker} / {name}")
                continue
            seen[ids] = len(comparison.positions)
            comparison.positions.append(Position(name, _best(engine, topic, ids, filters), ids))
        return comparison
    groups: dict[str, list[str]] = {}
    for doc_id in _documents_near(engine, topic, filters):
        groups.setdefault(group_of(engine.corpus.documents[doc_id]), []).append(doc_id)
    for group, _ in zip(groups, range(max_groups * 2), strict=False):
        members = [
            d.doc_id for d in engine.corpus.documents.values() if group_of(d) == group and engine.accepts(d, filters)
        ]
        result = _best(engine, topic, members, filters)
        if result is not None:
            comparison.positions.append(Position(group, result, tuple(members)))
        if len(comparison.positions) >= max_groups:
            break
    return comparison


def timeline(
    engine: SearchEngine, topic: str, speaker: str = "", filters: Filters | None = None, limit: int = MAX_TIMELINE
) -> Timeline:
    """The statements that address the topic, oldest first, each with its passage."""
    topic = clean_question(topic, engine.max_question_chars)
    filters = filters or Filters()
    if speaker:
        filters = dataclasses.replace(
            filters, documents=frozenset(d.doc_id for d in speaker_documents(engine, speaker, filters))
        )
        if not filters.documents:
            return Timeline(topic, unknown_speaker=speaker)
    line = Timeline(topic)
    for doc_id in _documents_near(engine, topic, filters)[:limit]:
        result = _best(engine, topic, [doc_id], filters)
        if result is not None:
            line.entries.append((engine.corpus.documents[doc_id], result))
    line.entries.sort(key=lambda entry: (entry[0].date, entry[0].doc_id))
    return line
