"""The learned part of answering: which sentence answers, and whether any does.

Two small linear models, trained by `scripts/train_ranker.py` on the question pool with
cross-validation (`benchmarks/crossval.py` reports the held-back figures) and shipped as
`embeddings/data/ranker.json`:

- the *ranker* scores every candidate sentence from features that each catch what the others miss
  (sentence and paragraph similarity, keyword coverage, what the document header accounts for,
  dates, numbers, heading blocks);
- the *answerability* model looks at the best candidates as a whole and decides whether to quote at
  all: a near miss ("how many soldiers?" when no passage gives a number, a country no statement
  mentions) looks similar to an answer, but the best passage lacks what the question names.

Linear models on standardised features, because the pool is small (145 questions): they cannot
memorise single questions the way trees can, and their weights can be read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from embeddings.answer.features import ANSWER_REGISTRY, RANK_REGISTRY
from embeddings.errors import VerbatimError

RANK_FEATURES: tuple[str, ...] = tuple(RANK_REGISTRY)
"""The features a ranker is trained on unless told otherwise: every registered one
(`embeddings.answer.features`)."""

ANSWER_FEATURES: tuple[str, ...] = tuple(ANSWER_REGISTRY)
"""Per question, from the ranked candidates. Besides how close the best passage is, each asks
whether something the question names is there: a number for "how many", a date for "when", the date
it gives, every name it mentions (in the best passages' documents, and anywhere in the corpus)."""


@dataclass(frozen=True)
class LinearModel:
    """Standardise, weight, add: ``z = ((x - mean) / scale) @ coef + intercept``."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def decision(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(((x - self.mean) / self.scale) @ self.coef + self.intercept, dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(float(self.intercept), 6),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], registry: Collection[str]) -> LinearModel:
        features = tuple(str(f) for f in data["features"])
        unknown = [f for f in features if f not in registry]
        if unknown or not features or len(set(features)) != len(features):
            raise VerbatimError(
                f"the ranking model names features this code does not compute ({', '.join(unknown) or 'none'}, "
                "or none at all, or one twice): run scripts/train_ranker.py to retrain it"
            )
        arrays = [np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
        if any(a.shape != (len(features),) for a in arrays) or not np.all(arrays[1] > 0):
            raise VerbatimError("the ranking model file is damaged: run scripts/train_ranker.py")
        return cls(features, arrays[0], arrays[1], arrays[2], float(data["intercept"]))


@dataclass(frozen=True)
class Models:
    ranker: LinearModel
    answerable: LinearModel
    threshold: float
    """Answerability decision value above which the question is answered."""
    info: dict[str, Any]
    vetoes: tuple[str, ...] = ()
    """Answer features that decline on their own when above zero ("the question names something no
    statement mentions"), kept only where held-back folds showed they help."""

    def answers(self, features: np.ndarray) -> tuple[bool, float]:
        """Whether to answer, and by how much the decision cleared (or missed) its threshold."""
        margin = float(self.answerable.decision(features[None, :])[0]) - self.threshold
        vetoed = any(features[self.answerable.features.index(v)] >= VETO_LEVELS[v] for v in self.vetoes)
        return margin >= 0 and not vetoed, margin

    def to_json(self) -> dict[str, Any]:
        return {
            "ranker": self.ranker.to_json(),
            "answerable": self.answerable.to_json(),
            "threshold": round(self.threshold, 6),
            "vetoes": list(self.vetoes),
            "info": self.info,
        }

    def dumps(self) -> str:
        """JSON with one line per list, so that a retrained model reads as a small diff."""
        text = json.dumps(self.to_json(), indent=1)
        return re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text) + "\n"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Models:
        try:
            answerable = LinearModel.from_json(data["answerable"], ANSWER_REGISTRY)
            return cls(
                LinearModel.from_json(data["ranker"], RANK_REGISTRY),
                answerable,
                float(data["threshold"]),
                dict(data.get("info", {})),
                _vetoes(data.get("vetoes", []), answerable.features),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise VerbatimError(f"the ranking model file is damaged ({exc}): run scripts/train_ranker.py") from exc


def _vetoes(names: Any, features: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(names, list) or any(n not in features or n not in VETO_LEVELS for n in names):
        raise ValueError(f"vetoes must name answer features, not {names!r}")
    return tuple(names)


VETO_LEVELS: dict[str, float] = {
    "names_absent": 1e-9,
    "names_missing": 0.5,
    "number_missing": 1e-9,
    "date_missing": 1e-9,
}
"""Signals that may decline on their own, and the value from which they do: each says something
the question names is not there. A name no statement mentions is enough; for the names missing from
the best passages' documents, half of them (a question often names a person by a title the text
does not use: "the Taoiseach", "Ireland's prime minister")."""
VETO_CANDIDATES: tuple[str, ...] = tuple(VETO_LEVELS)

MODEL_FILE = "ranker.json"


@cache
def shipped_models() -> Models:
    text = resources.files("embeddings.data").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return Models.from_json(json.loads(text))


def coverage(weights: dict[str, float], tokens: set[str] | frozenset[str]) -> float:
    """IDF-weighted share of the question's words that appear in a piece of text."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in weights.items() if t in tokens) / total
