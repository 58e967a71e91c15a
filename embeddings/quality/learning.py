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
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from embeddings.answer.ranking import ANSWER_FEATURES, RANK_FEATURES, VETO_CANDIDATES, VETO_LEVELS, LinearModel, Models
from embeddings.answer.search import Answer, Candidates, SearchEngine, answer_features
from embeddings.quality.evaluation import Outcome, Question, Report, fold, holds_evidence, rank_of_answer

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
        s, e = int(idx.sentences[sid][0]), int(idx.sentences[sid][1])
        out[i] = holds_evidence(engine.corpus.documents[doc_id].text, s, e, w_start, w_end, phrases)
    return out


def collect(engine: SearchEngine, questions: Sequence[Question], styles: dict[str, str]) -> list[Example]:
    examples = []
    for q in questions:
        cands = engine.candidates(q.question)
        if isinstance(cands, Answer):
            examples.append(Example(q, styles.get(q.qid, "?"), None))
            continue
        examples.append(Example(q, styles.get(q.qid, "?"), cands, label(engine, cands, q.evidence)))
    return examples


def stratified_folds(examples: Sequence[Example], k: int, seed: int = SEED) -> list[int]:
    """Fold number per example, so that every fold has its share of every style. The same question
    asked over two corpora (with and without distractors) always falls in the same fold, so it is
    never trained on in one setting and judged in the other."""
    by_style: dict[str, list[str]] = defaultdict(list)
    for ex in examples:
        if ex.question.qid not in by_style[ex.style]:
            by_style[ex.style].append(ex.question.qid)
    rng = random.Random(seed)
    fold_of: dict[str, int] = {}
    offset = 0
    for style in sorted(by_style):
        members = sorted(by_style[style])
        rng.shuffle(members)
        for j, qid in enumerate(members):
            fold_of.setdefault(qid, (offset + j) % k)
        offset += len(members)
    return [fold_of[ex.question.qid] for ex in examples]


def _logistic(x: np.ndarray, y: np.ndarray, c: float, weights: np.ndarray | None = None) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    model.fit((x - mean) / scale, y, sample_weight=weights)
    return LinearModel(tuple(), mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))


def fit_ranker(examples: Sequence[Example], c: float) -> LinearModel:
    """Pairwise logistic regression: for every question, each right candidate against each wrong
    one, every question weighing the same. It learns what puts the answer above its neighbours in
    the same list, which pointwise training (right vs wrong across all questions) measured worse on
    held-back folds."""
    from sklearn.linear_model import LogisticRegression

    every = np.concatenate([e.candidates.features for e in examples if e.candidates is not None])
    mean = every.mean(axis=0)
    scale = every.std(axis=0)
    scale[scale < 1e-9] = 1.0
    diffs, weights = [], []
    for ex in examples:
        if ex.candidates is None or not ex.answerable or not ex.labels.any() or ex.labels.all():
            continue
        z = (ex.candidates.features - mean) / scale
        pos, neg = z[ex.labels], z[~ex.labels]
        d = (pos[:, None, :] - neg[None, :, :]).reshape(-1, z.shape[1])
        diffs.append(d)
        weights.append(np.full(len(d), 1.0 / len(d)))
    x = np.concatenate(diffs + [-d for d in diffs])
    y = np.concatenate([np.ones(sum(len(d) for d in diffs)), np.zeros(sum(len(d) for d in diffs))])
    w = np.concatenate(weights + weights) * len(diffs)
    model = LogisticRegression(C=c, fit_intercept=False, max_iter=5000)
    model.fit(x, y, sample_weight=w)
    return LinearModel(RANK_FEATURES, mean, scale, model.coef_[0].astype(np.float64), 0.0)


def top_rank(ex: Example, ranker: LinearModel) -> int | None:
    """1-based rank of the first right candidate under this ranker (None if none is right)."""
    if ex.candidates is None or not ex.labels.any():
        return None
    scores = ranker.decision(ex.candidates.features)
    order = np.argsort(-scores, kind="stable")
    hits = np.nonzero(ex.labels[order])[0]
    return int(hits[0]) + 1


def choose_c_ranker(examples: Sequence[Example], k: int = 4) -> float:
    """The regularisation strength with the best mean reciprocal rank on inner held-back folds."""
    folds = stratified_folds(examples, k, seed=SEED + 1)
    best_c, best = C_GRID[0], -1.0
    for c in C_GRID:
        total = 0.0
        for f in range(k):
            train = [e for e, g in zip(examples, folds, strict=True) if g != f]
            test = [e for e, g in zip(examples, folds, strict=True) if g == f]
            ranker = fit_ranker(train, c)
            for ex in test:
                r = top_rank(ex, ranker)
                total += 1.0 / r if r else 0.0
        if total > best + 1e-9:
            best_c, best = c, total
    return best_c


def _answer_rows(examples: Sequence[Example], ranker: LinearModel) -> tuple[np.ndarray, np.ndarray]:
    rows, ys = [], []
    for ex in examples:
        if ex.candidates is None:
            continue
        rows.append(answer_features(ex.candidates, ranker.decision(ex.candidates.features)))
        ys.append(1 if ex.answerable else 0)
    return np.asarray(rows), np.asarray(ys)


def _decision_errors(decisions: np.ndarray, answerable: np.ndarray, threshold: float) -> int:
    """Questions the cut gets wrong: answerable ones declined plus unanswerable ones answered. Each
    question counts once, so the cut follows the mix of questions people ask (mostly answerable)."""
    return int(
        ((decisions < threshold) & (answerable == 1)).sum() + ((decisions >= threshold) & (answerable == 0)).sum()
    )


def _best_threshold(decisions: np.ndarray, answerable: np.ndarray) -> float:
    """The cut with the fewest wrong decisions; ties go to the middle of the widest run of best cuts."""
    values = np.unique(decisions)
    cuts = np.concatenate([[values[0] - 1.0], (values[:-1] + values[1:]) / 2.0, [values[-1] + 1.0]])
    errors = [_decision_errors(decisions, answerable, t) for t in cuts]
    best = min(errors)
    good = [t for t, e in zip(cuts, errors, strict=True) if e == best]
    return float(np.median(good))


def fit_answerable(
    examples: Sequence[Example], ranker: LinearModel, k: int = 4
) -> tuple[LinearModel, float, float, tuple[str, ...]]:
    """Answerability model, its regularisation, its threshold and its vetoes, each chosen on inner
    folds: every combination of vetoes is tried with every regularisation strength, and the one
    that gets the fewest held-back questions wrong is kept."""
    folds = stratified_folds(examples, k, seed=SEED + 2)
    veto_cols = [ANSWER_FEATURES.index(v) for v in VETO_CANDIDATES]
    combos = [
        tuple(v for v, keep in zip(VETO_CANDIDATES, mask, strict=True) if keep)
        for mask in itertools.product((False, True), repeat=len(VETO_CANDIDATES))
    ]
    best: tuple[float, int, float, float, tuple[str, ...]] | None = None
    for c in C_GRID:
        decisions, truth, rows = np.zeros(0), np.zeros(0), np.zeros((0, len(ANSWER_FEATURES)))
        for f in range(k):
            xtr, ytr = _answer_rows([e for e, g in zip(examples, folds, strict=True) if g != f], ranker)
            xte, yte = _answer_rows([e for e, g in zip(examples, folds, strict=True) if g == f], ranker)
            if len(set(ytr.tolist())) < 2 or not len(xte):
                continue
            decisions = np.concatenate([decisions, _logistic(xtr, ytr, c).decision(xte)])
            truth = np.concatenate([truth, yte])
            rows = np.concatenate([rows, xte])
        if not len(decisions):
            continue
        for combo in combos:
            vetoed = np.zeros(len(rows), dtype=bool)
            for v in combo:
                vetoed |= rows[:, veto_cols[VETO_CANDIDATES.index(v)]] >= VETO_LEVELS[v]
            # A vetoed question is declined whatever its decision: the cut is chosen on the rest.
            shown = np.where(vetoed, -np.inf, decisions)
            threshold = _best_threshold(decisions[~vetoed], truth[~vetoed]) if (~vetoed).any() else 0.0
            error = float(_decision_errors(shown, truth, threshold))
            key = (error, len(combo))
            if best is None or key < (best[0], len(best[4])):
                best = (error, len(combo), c, threshold, combo)
    if best is None:
        raise ValueError("the pool needs answerable and unanswerable questions to learn when to decline")
    _, _, c, threshold, combo = best
    x, y = _answer_rows(examples, ranker)
    model = _logistic(x, y, c)
    return LinearModel(ANSWER_FEATURES, model.mean, model.scale, model.coef, model.intercept), c, threshold, combo


def train(examples: Sequence[Example], decline_examples: Sequence[Example] | None = None) -> Models:
    """Both models from a pool, with every choice made by cross-validation inside it. The decision
    to decline may learn from other examples than the ranking (the same questions over a larger
    corpus, where a near miss finds more to match)."""
    c_rank = choose_c_ranker(examples)
    ranker = fit_ranker(examples, c_rank)
    answerable, c_answer, threshold, vetoes = fit_answerable(decline_examples or examples, ranker)
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
