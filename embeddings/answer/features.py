"""What the ranking models see: named features, each one small function, registered in one place.

A question's candidates arrive as a `CandidateView`: arrays over the candidate sentences (their
similarity to the question, which of its words they hold, what their document's header matches,
what the build recorded about them). A *rank feature* turns the view into one number per candidate;
an *answer feature* turns the view and the ranker's scores into one number for the question (is
the best passage close enough, does it hold what the question asks for).

Model files list the features they were trained on by name, and loading checks each name against
these registries (`embeddings.answer.ranking`), so adding a feature is one function here and a
retrain, never three edits kept in step by position.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from embeddings.answer.headers import HeaderScores
from embeddings.answer.question import QuestionInfo
from embeddings.corpus import facts

DOC_MASS_TEMPERATURE = 10.0
"""Sharpness of the soft count of how much of the evidence near the question one document holds."""


@dataclass
class QuestionView:
    """A question as the features need it, read once."""

    text: str
    info: QuestionInfo
    vector: np.ndarray
    tokens: tuple[str, ...]
    """Its distinct keyword tokens, in order."""
    weights: np.ndarray
    """Each token's idf (a word no statement uses weighs most)."""
    date_tokens: np.ndarray
    """Per token: it names a date the question gives ("2024", "November")."""
    counted: np.ndarray
    """Per token: it is what a "how many" question counts."""
    unknown_words: float
    """IDF-weighted share of the question's words that neither the texts nor the headers contain."""
    names_absent: float
    """Share of the question's names (capitalised words) that no document mentions at all."""
    absent_names: tuple[str, ...]
    """Those names, as the question writes them."""
    header: HeaderScores
    """Every document's header match."""
    who_phrases: tuple[str, ...] = ()
    """The question's words for the speakers it names."""
    alternatives: tuple[tuple[int, ...], ...] = ()
    """Groups of token positions the question offers as alternatives ("Malvinas/Falklands")."""


@dataclass
class CandidateView:
    """The candidate sentences of one question, as arrays in one order."""

    question: QuestionView
    sentence_ids: np.ndarray
    chunk_ids: np.ndarray
    doc_positions: np.ndarray
    """Each candidate's document, as its position in the header index."""
    sentence_cos: np.ndarray
    chunk_cos: np.ndarray
    neighbour_cos: np.ndarray
    """The closer of the sentences before and after it in its chunk (its own when it has none)."""
    window_cos: np.ndarray
    """The sentence with its neighbours, as one vector."""
    bm25: np.ndarray
    """Its chunk's BM25 score over the best chunk's in the corpus."""
    flags: np.ndarray
    window_flags: np.ndarray
    """`embeddings.corpus.facts` flags of the sentence, and of the sentence with its neighbours."""
    sentence_has: np.ndarray
    window_has: np.ndarray
    """Candidates x question tokens: which of the question's words the sentence (window) holds."""
    accounted: np.ndarray
    """Candidates x question tokens: the words its document's header accounts for (a date only
    when the document's date fits it)."""
    names_missing: np.ndarray
    """Share of the question's names that the candidate's document (text and header) lacks."""
    doc_has: np.ndarray
    """Candidates x question tokens: the words the candidate's document holds anywhere in its text."""
    lengths: np.ndarray
    """Characters of the sentence."""

    def __len__(self) -> int:
        return len(self.sentence_ids)

    def per_document(self, values: np.ndarray, how: str) -> np.ndarray:
        """Each candidate's value aggregated over the candidates of its document ("max" or "sum")."""
        keys, inverse = np.unique(self.doc_positions, return_inverse=True)
        if how == "max":
            out = np.full(len(keys), -np.inf)
            np.maximum.at(out, inverse, values)
        else:
            out = np.bincount(inverse, weights=values, minlength=len(keys))
        return out[inverse]


RankFeature = Callable[[CandidateView], np.ndarray]
AnswerFeature = Callable[[CandidateView, np.ndarray, np.ndarray], float]
"""(candidates, ranker scores, candidate order best first) -> one value for the question."""

RANK_REGISTRY: dict[str, RankFeature] = {}
ANSWER_REGISTRY: dict[str, AnswerFeature] = {}


def rank_feature(fn: RankFeature) -> RankFeature:
    RANK_REGISTRY[fn.__name__] = fn
    return fn


def answer_feature(fn: AnswerFeature) -> AnswerFeature:
    ANSWER_REGISTRY[fn.__name__] = fn
    return fn


def rank_matrix(view: CandidateView) -> np.ndarray:
    """Every registered rank feature, one column each in registry order."""
    if not len(view):
        return np.zeros((0, len(RANK_REGISTRY)))
    return np.stack([np.asarray(fn(view), dtype=np.float64) for fn in RANK_REGISTRY.values()], axis=1)


def answer_row(view: CandidateView, scores: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    order = np.argsort(-scores, kind="stable")
    return np.asarray([ANSWER_REGISTRY[n](view, scores, order) for n in names], dtype=np.float64)


def either(has: np.ndarray, groups: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """`has` (rows x tokens) with each group of alternative tokens held wherever one of them is:
    a passage that says "the Malvinas Islands" covers the topic "Malvinas/Falklands" as fully as one
    that says both, as the writer meant by the slash."""
    for group in groups:
        cols = list(group)
        has[..., cols] = has[..., cols].any(axis=-1, keepdims=True)
    return has


def weighted_share(has: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """IDF-weighted share of the weighted words present, per row (0 where no word weighs)."""
    total = weights.sum(axis=-1)
    present = (has * weights).sum(axis=-1)
    return np.divide(present, total, out=np.zeros_like(present, dtype=np.float64), where=total > 0)


def _wants_number_and_has(view: CandidateView) -> np.ndarray:
    """The window holds a figure, beside what a "how many" question counts when it names it."""
    has = (view.window_flags & facts.QUANTITY) > 0
    counted = view.question.counted
    if counted.any():
        has &= view.window_has[:, counted].any(axis=1)
    return has


# -- rank features: one number per candidate sentence ---------------------------------------------


@rank_feature
def sent_cos(v: CandidateView) -> np.ndarray:
    return v.sentence_cos


@rank_feature
def sent_cos_gap(v: CandidateView) -> np.ndarray:
    """Below the best candidate: a question's closest sentence is what counts, not a global level."""
    return v.sentence_cos - v.sentence_cos.max()


@rank_feature
def chunk_cos(v: CandidateView) -> np.ndarray:
    return v.chunk_cos


@rank_feature
def chunk_cos_gap(v: CandidateView) -> np.ndarray:
    return v.chunk_cos - v.chunk_cos.max()


@rank_feature
def neighbour_cos(v: CandidateView) -> np.ndarray:
    return v.neighbour_cos


@rank_feature
def window_cos(v: CandidateView) -> np.ndarray:
    return v.window_cos


@rank_feature
def bm25(v: CandidateView) -> np.ndarray:
    return v.bm25


@rank_feature
def cover_sentence(v: CandidateView) -> np.ndarray:
    return weighted_share(v.sentence_has, v.question.weights)


@rank_feature
def cover_window(v: CandidateView) -> np.ndarray:
    return weighted_share(v.window_has, v.question.weights)


@rank_feature
def cover_rest(v: CandidateView) -> np.ndarray:
    """Coverage of the words the document's header does not already account for: in "What did
    Japan say about sanctions in 2024?" the header answers "Japan" and "2024", the text must
    answer "sanctions"."""
    return weighted_share(v.window_has, v.question.weights * ~v.accounted)


@rank_feature
def header_fields(v: CandidateView) -> np.ndarray:
    return v.question.header.fields[v.doc_positions]


@rank_feature
def header_who(v: CandidateView) -> np.ndarray:
    return v.question.header.who[v.doc_positions]


@rank_feature
def header_who_miss(v: CandidateView) -> np.ndarray:
    return v.question.header.who_miss[v.doc_positions]


@rank_feature
def date_fit(v: CandidateView) -> np.ndarray:
    return v.question.header.date[v.doc_positions]


@rank_feature
def heading(v: CandidateView) -> np.ndarray:
    return ((v.flags & facts.HEADING) > 0).astype(np.float64)


@rank_feature
def heading_doc_question(v: CandidateView) -> np.ndarray:
    return heading(v) * float(v.question.info.about_document)


@rank_feature
def number_fit(v: CandidateView) -> np.ndarray:
    """For a "how many" question: a figure in the sentence (1), beside it (0.5), or none (-1)."""
    if not v.question.info.wants_number:
        return np.zeros(len(v))
    return np.where((v.flags & facts.QUANTITY) > 0, 1.0, np.where(_wants_number_and_has(v), 0.5, -1.0))


@rank_feature
def length(v: CandidateView) -> np.ndarray:
    return np.log1p(v.lengths) / math.log(400.0)


@rank_feature
def doc_best_gap(v: CandidateView) -> np.ndarray:
    """How close the document's best candidate comes to the best overall."""
    return v.per_document(v.sentence_cos, "max") - v.sentence_cos.max()


@rank_feature
def doc_mass(v: CandidateView) -> np.ndarray:
    """Log share of the evidence near the question that the document holds (a soft count)."""
    mass = np.exp(DOC_MASS_TEMPERATURE * (v.sentence_cos - v.sentence_cos.max()))
    return np.log(v.per_document(mass, "sum") / mass.sum())


@rank_feature
def sent_rank(v: CandidateView) -> np.ndarray:
    ranks = np.empty(len(v))
    ranks[np.argsort(-v.sentence_cos, kind="stable")] = np.arange(len(v))
    return 1.0 / (1.0 + ranks)


def doc_cover_rest(v: CandidateView) -> np.ndarray:
    """Share of the words the header does not account for that the document holds anywhere."""
    return weighted_share(v.doc_has, v.question.weights * ~v.accounted)


# -- answer features: one number per question, from the ranked candidates ------------------------


@answer_feature
def top_score(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    return float(scores[order[0]])


@answer_feature
def best_sent_cos(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    return float(v.sentence_cos.max())


@answer_feature
def top_cover_window(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    return float(weighted_share(v.window_has[order[0]], v.question.weights))


@answer_feature
def unknown_words(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    return v.question.unknown_words


@answer_feature
def number_missing(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    """A "how many" question whose best passage has no figure beside what it counts."""
    return 1.0 if v.question.info.wants_number and not _wants_number_and_has(v)[order[0]] else 0.0


@answer_feature
def date_missing(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    """A "when" question whose best passage names no date."""
    return 1.0 if v.question.info.wants_date and not v.window_flags[order[0]] & facts.DATE else 0.0


@answer_feature
def date_conflict(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    """The question names a date and the best passage's document is from another."""
    return 1.0 if v.question.header.date[v.doc_positions[order[0]]] < 0 else 0.0


@answer_feature
def names_missing(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    """Share of the question's names that even the best of the top three passages' documents lack."""
    return float(np.min(v.names_missing[order[:3]]))


@answer_feature
def names_absent(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    return v.question.names_absent


@answer_feature
def number_missing_top3(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    """A "how many" question none of whose three best passages has a figure beside what it counts."""
    return 1.0 if v.question.info.wants_number and not _wants_number_and_has(v)[order[:3]].any() else 0.0


@answer_feature
def money_missing(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    """A question for an amount of money whose three best passages name none."""
    return 1.0 if v.question.info.wants_money and not (v.window_flags[order[:3]] & facts.MONEY).any() else 0.0


@answer_feature
def percent_missing(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    """A question for a share whose three best passages give none."""
    return 1.0 if v.question.info.wants_percent and not (v.window_flags[order[:3]] & facts.PERCENT).any() else 0.0


@answer_feature
def top_doc_cover(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    """Share of the question's words (beyond what the header accounts for) that the best passage's
    document holds anywhere: a near miss asks about something the statement never mentions."""
    return float(doc_cover_rest(v)[order[0]])


@answer_feature
def score_margin(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    return float(scores[order[0]] - scores[order[1]]) if len(order) > 1 else 0.0


@answer_feature
def who_date_conflict(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    """The question names a speaker and a date, and no statement by that speaker is from then
    ("What did Albania say at the 2019 General Assembly?" with Albania's 2022-2024 statements)."""
    header = v.question.header
    if not v.question.info.dates or not (header.who > 0).any():
        return 0.0
    return 0.0 if ((header.who > 0) & (header.date > 0)).any() else 1.0


@answer_feature
def top_header_who(v: CandidateView, scores: np.ndarray, order: np.ndarray) -> float:
    return float(v.question.header.who[v.doc_positions[order[0]]])
