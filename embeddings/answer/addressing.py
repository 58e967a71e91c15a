"""Whether a statement addresses a topic: the decision behind every "says nothing on it" and every
position quoted in `compare` and `timeline`.

Saying a speaker is silent when it is not is as serious as a wrong quote (an analyst will repeat it),
and the hard cases are the ones a word count gets wrong: a speaker who says "the agreement enabling
the export of grain from Ukraine" addresses "Black Sea grain exports"; one who says "grain storage
and exports" about its own harvests does not. So the decision is a small model learned on labelled
compare and timeline items (`scripts/train_addresses.py`, cross-validated by topic in
`benchmarks/positions.py`), over signals of the statement's best passages:

- how the question ranker scores its best passage, on its own and against the best passage anywhere
  in the corpus, and the answerability model's margin for the statement alone;
- how much of the topic's keyword weight its best passage carries (stems, aliases, demonyms);
- how close its sentences come to the topic, and to the topic as the corpus states it: the best
  passages of the statements nearest the topic, averaged (pseudo-relevance feedback, as search
  engines expand a short query). Five words of a topic name a subject; the passages that state it
  carry the words speakers actually use for it.

The model gives a decision value; three levels learned with it split it: below `silent_below` the
statement says nothing on the topic, from `sure_from` it states a position, in between its closest
passage is shown as only possibly on the topic. `timeline_from` decides which statements a timeline
lists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from embeddings.answer.features import CandidateView, weighted_share
from embeddings.answer.ranking import LinearModel
from embeddings.answer.search import Answer, Candidates, Filters, Result, SearchEngine, answer_features, rank_scores
from embeddings.corpus.documents import Document
from embeddings.errors import VerbatimError

PROFILE_DOCUMENTS = 5
"""Statements whose best passage shapes the topic's profile: enough that one odd passage does not
steer it, few enough that all of them are on the topic."""
NEAR_DOCUMENTS = 3
PASSAGES = 3
"""Passages kept per statement (sharing no text, best first)."""
ADDRESS_FILE = "addresses.json"


@dataclass(frozen=True)
class TopicView:
    """A topic as the decision needs it, computed once per comparison or timeline."""

    text: str
    vector: np.ndarray
    profile: np.ndarray
    """The topic with the best passages of the `PROFILE_DOCUMENTS` statements nearest it, one unit vector."""
    near: np.ndarray
    """The best passages of the `NEAR_DOCUMENTS` nearest statements, averaged."""
    best_score: float
    """The ranker's score for the best passage anywhere within the filters."""
    documents: tuple[str, ...] = ()
    """Statements with a candidate passage, nearest first."""


@dataclass(frozen=True)
class Inputs:
    """What the signals read: one statement's candidates for the topic, ranked."""

    topic: TopicView
    view: CandidateView
    scores: np.ndarray
    margin: float
    vectors: np.ndarray
    """The candidates' sentence vectors."""


Signal = Callable[[Inputs], float]
SIGNALS: dict[str, Signal] = {
    "top_score": lambda x: float(x.scores.max()),
    "answer_margin": lambda x: x.margin,
    "best_cover": lambda x: float(weighted_share(x.view.window_has, x.view.question.weights).max()),
    "below_best": lambda x: float(x.scores.max()) - x.topic.best_score,
    "profile_cos": lambda x: float((x.vectors @ x.topic.profile).max()),
    "near_cos": lambda x: float((x.vectors @ x.topic.near).max()),
    "topic_cos": lambda x: float(x.view.sentence_cos.max()),
}
"""Every signal the decision may use, by name: the model file names the ones it was trained on."""


@dataclass(frozen=True)
class Statement:
    """One statement weighed against a topic."""

    doc: Document
    signals: dict[str, float]
    passages: tuple[Result, ...]
    score: float
    """The address model's decision value."""


@dataclass(frozen=True)
class AddressModel:
    linear: LinearModel
    silent_below: float
    """Below this a statement says nothing on the topic (chosen so that a speaker who addresses it is
    almost never called silent)."""
    sure_from: float
    """From this a statement states a position; between the two its passage is only possibly on it."""
    timeline_from: float
    """From this a statement is listed in a timeline."""
    info: dict[str, Any] = field(default_factory=dict)

    def decision(self, signals: dict[str, float]) -> float:
        row = np.array([[signals[name] for name in self.linear.features]], dtype=np.float64)
        return float(self.linear.decision(row)[0])

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.linear.to_json(),
            "silent_below": round(self.silent_below, 6),
            "sure_from": round(self.sure_from, 6),
            "timeline_from": round(self.timeline_from, 6),
            "info": self.info,
        }

    def dumps(self) -> str:
        text = json.dumps(self.to_json(), indent=1)
        return re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text) + "\n"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AddressModel:
        try:
            model = cls(
                LinearModel.from_json(data["model"], SIGNALS),
                float(data["silent_below"]),
                float(data["sure_from"]),
                float(data["timeline_from"]),
                dict(data.get("info", {})),
            )
        except (KeyError, TypeError, ValueError, VerbatimError) as exc:
            raise VerbatimError(f"the address model file is damaged ({exc}): run scripts/train_addresses.py") from exc
        if not model.silent_below <= model.sure_from:
            raise VerbatimError("the address model's levels are out of order: run scripts/train_addresses.py")
        return model


@cache
def shipped_address_model() -> AddressModel:
    text = resources.files("embeddings.data").joinpath(ADDRESS_FILE).read_text(encoding="utf-8")
    return AddressModel.from_json(json.loads(text))


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def topic_view(engine: SearchEngine, topic: str, filters: Filters) -> TopicView:
    """The topic, its profile from the statements nearest it, and those statements best first."""
    cands = engine.candidates(topic, filters, by_speaker=False)
    if isinstance(cands, Answer) or not len(cands):
        vector = engine.embedder.encode([topic])[0]
        return TopicView(topic, vector, vector, vector, 0.0)
    scores = rank_scores(cands, engine.models)
    chunks = engine.index.chunks
    first: dict[str, int] = {}
    for i in np.argsort(-scores, kind="stable").tolist():
        first.setdefault(chunks[int(cands.chunk_ids[i])].doc_id, i)
    documents = tuple(first)
    rows = [int(cands.sentence_ids[first[d]]) for d in documents[:PROFILE_DOCUMENTS]]
    vectors = engine.index.sentence_vectors[rows]
    query = cands.query_vector
    profile = _unit(_unit(vectors.mean(axis=0)) + query)
    near = _unit(vectors[:NEAR_DOCUMENTS].mean(axis=0))
    return TopicView(cands.question, query, profile, near, float(scores.max()), documents)


def weigh(engine: SearchEngine, topic: TopicView, doc_id: str, model: AddressModel) -> Statement | None:
    """A statement's signals, best passages and decision value; None when it has no passage at all."""
    cands = engine.candidates(topic.text, Filters(documents=frozenset([doc_id])))
    if isinstance(cands, Answer) or not len(cands):
        return None
    inputs = statement_inputs(engine, topic, cands)
    signals = {name: signal(inputs) for name, signal in SIGNALS.items()}
    passages = tuple(engine.passages(cands, inputs.scores, PASSAGES))
    return Statement(engine.corpus.documents[doc_id], signals, passages, model.decision(signals))


def statement_inputs(engine: SearchEngine, topic: TopicView, cands: Candidates) -> Inputs:
    """One statement's candidates ranked, with what every signal reads (training reads the same)."""
    models = engine.models
    scores = rank_scores(cands, models)
    _, margin = models.answers(answer_features(cands, scores, models.answerable.features))
    return Inputs(topic, cands.view, scores, margin, engine.index.sentence_vectors[cands.sentence_ids])
