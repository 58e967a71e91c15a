"""Training and judging the ranking models on a question pool, with cross-validation.

A figure measured on the questions a model was fitted on says little about questions nobody has
seen, so every choice here (the weights, the regularisation strength, the decline threshold) is made
inside the training folds only, and the held-back folds are used for nothing but measuring. The
inner choices (regularisation, threshold) are themselves cross-validated inside the training folds.

Needs scikit-learn (a development dependency): the shipped models are plain JSON weights, and
answering never imports it.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from embeddings.answer.ranking import ANSWER_FEATURES, RANK_FEATURES, VETO_CANDIDATES, VETO_LEVELS, LinearModel, Models
from embeddings.answer.search import Answer, Candidates, SearchEngine, answer_features
from embeddings.quality.evaluation import Outcome, Question, Report, fold, holds_evidence, rank_of_answer, style_of

C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
"""Regularisation strengths tried for both models (inverse: small is strong)."""
SEED = 20261124


@dataclass
class Example:
    """One question of the pool with its candidates computed once."""

    question: Question
    style: str
    candidates: Candidates | None
    """None when the engine had nothing to rank (filters, empty corpus)."""
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    beside: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    """Candidates beside the answer: their sentence lacks the evidence but their neighbour has it,
    so the quote around them shows it. Neither right nor wrong for training the ranker."""

    @property
    def answerable(self) -> bool:
        return bool(self.question.evidence)


def label(engine: SearchEngine, cands: Candidates, evidence: Sequence[str]) -> np.ndarray:
    """A candidate is right when its sentence holds an evidence phrase, or when a phrase runs across
    its boundary with a neighbour (which the quote around it will include)."""
    phrases = [fold(e) for e in evidence]
    out = np.zeros(len(cands), dtype=bool)
    if not phrases:
        return out
    idx = engine.index
    for i, sid in enumerate(cands.sentence_ids):
        doc_id, w_start, w_end = cands.windows[i]
        s, e = idx.span(int(sid))
        out[i] = holds_evidence(engine.corpus.documents[doc_id].text, s, e, w_start, w_end, phrases)
    return out


def collect(engine: SearchEngine, questions: Sequence[Question], styles: dict[str, str]) -> list[Example]:
    examples = []
    for q in questions:
        cands = engine.candidates(q.question)
        if isinstance(cands, Answer):
            examples.append(Example(q, style_of(q, styles), None))
            continue
        labels = label(engine, cands, q.evidence)
        examples.append(Example(q, style_of(q, styles), cands, labels, beside(engine, cands, q.evidence) & ~labels))
    return examples


def beside(engine: SearchEngine, cands: Candidates, evidence: Sequence[str]) -> np.ndarray:
    """Whether each candidate's sentence with its neighbours holds an evidence phrase."""
    phrases = [fold(e) for e in evidence]
    if not phrases:
        return np.zeros(len(cands), dtype=bool)
    texts = engine.corpus.documents
    return np.asarray([any(p in fold(texts[d].text[a:b]) for p in phrases) for d, a, b in cands.windows], dtype=bool)


def document_folds(examples: Sequence[Example], k: int, seed: int = SEED) -> list[int]:
    """Fold number per example, grouped by document and balanced by style.

    A user's new statements are never seen in training, so a fold's documents are never seen in
    training either: questions about the same statement (its evidence, or the statement a near miss
    nearly matches) share a fold, and so does the same question asked over two corpora. Groups are
    placed largest first, each in the fold that so far has the fewest questions of its styles, so
    every fold has its share of every style."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    keys = []
    for ex in examples:
        names = [f"q:{ex.question.qid}", *(f"d:{d}" for d in ex.question.documents)]
        for other in names[1:]:
            parent[find(other)] = find(names[0])
        keys.append(names[0])
    members: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        members[find(key)].append(i)
    groups = sorted(members)
    random.Random(seed).shuffle(groups)
    groups.sort(key=lambda g: -len({examples[i].question.qid for i in members[g]}))
    load = [Counter[str]() for _ in range(k)]
    fold_of: dict[str, int] = {}
    for g in groups:
        styles = Counter(examples[i].style for i in members[g])
        best = min(range(k), key=lambda f: (sum(load[f][st] for st in styles), sum(load[f].values()), f))
        fold_of[g] = best
        load[best] += styles
    return [fold_of[find(key)] for key in keys]


def fit_logistic(x: np.ndarray, y: np.ndarray, c: float, weights: np.ndarray | None = None) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    model.fit((x - mean) / scale, y, sample_weight=weights)
    return LinearModel(tuple(), mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))


def fit_ranker(examples: Sequence[Example], c: float, features: Sequence[str] = RANK_FEATURES) -> LinearModel:
    """Pairwise logistic regression: for every question, each right candidate against each wrong
    one, every question weighing the same. It learns what puts the answer above its neighbours in
    the same list, which pointwise training (right vs wrong across all questions) measured worse on
    held-back folds. A candidate beside the answer (whose quote shows it) is left out of the pairs:
    calling it wrong taught the ranker to avoid the answer's neighbourhood (held-back hit@1 0.774
    with it, 0.781 without, over the pool at 305 documents)."""
    from sklearn.linear_model import LogisticRegression

    every = np.concatenate([e.candidates.columns(features) for e in examples if e.candidates is not None])
    mean = every.mean(axis=0)
    scale = every.std(axis=0)
    scale[scale < 1e-9] = 1.0
    diffs, weights = [], []
    for ex in examples:
        if ex.candidates is None or not ex.answerable or not ex.labels.any() or ex.labels.all():
            continue
        z = (ex.candidates.columns(features) - mean) / scale
        wrong = ~ex.labels & ~ex.beside if len(ex.beside) else ~ex.labels
        if not wrong.any():
            continue
        pos, neg = z[ex.labels], z[wrong]
        d = (pos[:, None, :] - neg[None, :, :]).reshape(-1, z.shape[1])
        diffs.append(d)
        weights.append(np.full(len(d), 1.0 / len(d)))
    if not diffs:
        raise ValueError("no answerable question with both right and wrong candidates to learn ranking from")
    x = np.concatenate(diffs + [-d for d in diffs])
    y = np.concatenate([np.ones(sum(len(d) for d in diffs)), np.zeros(sum(len(d) for d in diffs))])
    w = np.concatenate(weights + weights) * len(diffs)
    model = LogisticRegression(C=c, fit_intercept=False, max_iter=5000)
    model.fit(x, y, sample_weight=w)
    return LinearModel(tuple(features), mean, scale, model.coef_[0].astype(np.float64), 0.0)


def top_rank(ex: Example, ranker: LinearModel) -> int | None:
    """1-based rank of the first right candidate under this ranker (None if none is right)."""
    if ex.candidates is None or not ex.labels.any():
        return None
    scores = ranker.decision(ex.candidates.columns(ranker.features))
    order = np.argsort(-scores, kind="stable")
    hits = np.nonzero(ex.labels[order])[0]
    return int(hits[0]) + 1


@dataclass(frozen=True)
class Recipe:
    """What a training run learns from: the features each model reads and the most answerable
    questions the decline may turn away."""

    rank_features: tuple[str, ...] = RANK_FEATURES
    answer_features: tuple[str, ...] = ANSWER_FEATURES
    max_wrongly_declined: float = 0.03
    """Share of answerable questions the decline may turn away on held-back folds; within it, as
    many unanswerable ones as possible are declined. A wrong "nothing answers" hides a statement
    from the reader, so it is the error kept small."""


def choose_c_ranker(examples: Sequence[Example], features: Sequence[str] = RANK_FEATURES, k: int = 4) -> float:
    """The regularisation strength with the best mean reciprocal rank on inner held-back folds."""
    folds = document_folds(examples, k, seed=SEED + 1)
    best_c, best = C_GRID[0], -1.0
    for c in C_GRID:
        total = 0.0
        for f in range(k):
            train = [e for e, g in zip(examples, folds, strict=True) if g != f]
            test = [e for e, g in zip(examples, folds, strict=True) if g == f]
            if not any(e.answerable and e.labels.any() for e in train):
                continue
            ranker = fit_ranker(train, c, features)
            for ex in test:
                r = top_rank(ex, ranker)
                total += 1.0 / r if r else 0.0
        if total > best + 1e-9:
            best_c, best = c, total
    return best_c


def _answer_rows(
    examples: Sequence[Example], ranker: LinearModel, features: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    rows, ys = [], []
    for ex in examples:
        if ex.candidates is None:
            continue
        scores = ranker.decision(ex.candidates.columns(ranker.features))
        rows.append(answer_features(ex.candidates, scores, features))
        ys.append(1 if ex.answerable else 0)
    return np.asarray(rows).reshape(-1, len(features)), np.asarray(ys)


@dataclass(frozen=True)
class Cut:
    """A decline rule measured on held-back decisions: the threshold, and what it does there."""

    threshold: float
    declined: int
    """Unanswerable questions declined."""
    wrongly_declined: int
    """Answerable questions declined."""


def best_cut(decisions: np.ndarray, answerable: np.ndarray, vetoed: np.ndarray, max_wrong: float) -> Cut | None:
    """The threshold that declines the most unanswerable questions while declining at most
    `max_wrong` of the answerable ones (vetoed questions are declined whatever their decision);
    None when the vetoes alone already decline too many answerable ones."""
    n_answerable = int(answerable.sum())
    allowed = int(np.floor(max_wrong * n_answerable + 1e-9)) - int((vetoed & (answerable == 1)).sum())
    if allowed < 0:
        return None
    free = decisions[(answerable == 1) & ~vetoed]
    ordered = np.sort(free)
    if allowed >= len(ordered):
        threshold = float(ordered[-1]) + 1.0 if len(ordered) else 0.0
    else:
        low = ordered[allowed - 1] if allowed > 0 else ordered[0] - 1.0
        threshold = float((low + ordered[allowed]) / 2.0)
    declined = int(((decisions < threshold) | vetoed)[answerable == 0].sum())
    wrong = int(((decisions < threshold) | vetoed)[answerable == 1].sum())
    return Cut(threshold, declined, wrong)


def fit_answerable(
    examples: Sequence[Example], ranker: LinearModel, recipe: Recipe, k: int = 4
) -> tuple[LinearModel, float, float, tuple[str, ...]]:
    """Answerability model, its regularisation, its threshold and its vetoes, each chosen on inner
    folds: every combination of vetoes is tried with every regularisation strength, and the one
    that declines the most held-back unanswerable questions within the budget of wrongly declined
    answerable ones is kept."""
    names = recipe.answer_features
    folds = document_folds(examples, k, seed=SEED + 2)
    candidates = [v for v in VETO_CANDIDATES if v in names]
    combos = [
        tuple(v for v, keep in zip(candidates, mask, strict=True) if keep)
        for mask in itertools.product((False, True), repeat=len(candidates))
    ]
    best: tuple[tuple[int, int, int], float, Cut, tuple[str, ...]] | None = None
    for c in C_GRID:
        decisions, truth, rows = np.zeros(0), np.zeros(0), np.zeros((0, len(names)))
        for f in range(k):
            xtr, ytr = _answer_rows([e for e, g in zip(examples, folds, strict=True) if g != f], ranker, names)
            xte, yte = _answer_rows([e for e, g in zip(examples, folds, strict=True) if g == f], ranker, names)
            if len(set(ytr.tolist())) < 2 or not len(xte):
                continue
            decisions = np.concatenate([decisions, fit_logistic(xtr, ytr, c).decision(xte)])
            truth = np.concatenate([truth, yte])
            rows = np.concatenate([rows, xte])
        if not len(decisions):
            continue
        for combo in combos:
            vetoed = np.zeros(len(rows), dtype=bool)
            for v in combo:
                vetoed |= rows[:, names.index(v)] >= VETO_LEVELS[v]
            cut = best_cut(decisions, truth, vetoed, recipe.max_wrongly_declined)
            if cut is None:
                continue
            key = (-cut.declined, cut.wrongly_declined, len(combo))
            if best is None or key < best[0]:
                best = (key, c, cut, combo)
    if best is None:
        raise ValueError("the pool needs answerable and unanswerable questions to learn when to decline")
    _, c, cut, combo = best
    x, y = _answer_rows(examples, ranker, names)
    model = fit_logistic(x, y, c)
    return LinearModel(tuple(names), model.mean, model.scale, model.coef, model.intercept), c, cut.threshold, combo


def train(examples: Sequence[Example], recipe: Recipe = Recipe()) -> Models:
    """Both models from a pool, with every choice made by cross-validation inside it."""
    c_rank = choose_c_ranker(examples, recipe.rank_features)
    ranker = fit_ranker(examples, c_rank, recipe.rank_features)
    answerable, c_answer, threshold, vetoes = fit_answerable(examples, ranker, recipe)
    info = {
        "questions": len(examples),
        "answerable": sum(1 for e in examples if e.answerable),
        "ranker_C": c_rank,
        "answerable_C": c_answer,
    }
    return Models(ranker, answerable, threshold, info, vetoes)


def judge(
    engine: SearchEngine, examples: Sequence[Example], models_for: Callable[[int], Models], folds: Sequence[int]
) -> Report:
    """Answer each question with the models of its fold and tally the results by style."""
    report = Report()
    for ex, f in zip(examples, folds, strict=True):
        if ex.candidates is None:
            answer = Answer(ex.question.question, False)
        else:
            answer = engine.answer(ex.candidates, k=10, models=models_for(f))
        rank = rank_of_answer(answer, ex.question.evidence) if answer.answered and ex.answerable else None
        report.add(Outcome(ex.question, ex.style, answer, rank))
    return report
