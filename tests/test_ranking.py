"""The learned ranking: model files, labels, folds, and what the engine does with them."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from embeddings.answer.ranking import ANSWER_FEATURES, RANK_FEATURES, LinearModel, Models, shipped_models
from embeddings.answer.search import Candidates, SearchEngine
from embeddings.errors import VerbatimError
from embeddings.quality.evaluation import Question
from embeddings.quality.learning import Example, document_folds, label


def test_shipped_models_load_and_round_trip() -> None:
    models = shipped_models()
    assert models.ranker.features == RANK_FEATURES and models.answerable.features == ANSWER_FEATURES, (
        "the shipped models are trained on the default features: run scripts/train_ranker.py"
    )
    again = Models.from_json(json.loads(models.dumps()))
    x = np.random.default_rng(0).normal(size=(5, len(RANK_FEATURES)))
    np.testing.assert_allclose(again.ranker.decision(x), models.ranker.decision(x), atol=1e-4)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d["ranker"].update(features=d["ranker"]["features"][:-1]),
        lambda d: d["answerable"].update(scale=[0.0] * len(ANSWER_FEATURES)),
        lambda d: d.pop("threshold"),
    ],
)
def test_a_damaged_model_file_is_refused(damage) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(shipped_models().dumps())
    damage(data)
    with pytest.raises(VerbatimError):
        Models.from_json(data)


def test_labels_follow_the_evidence_into_the_right_sentence(fake_engine: SearchEngine) -> None:
    cands = fake_engine.candidates("Where did the ICBM come down near Hokkaido?")
    assert isinstance(cands, Candidates)
    labels = label(fake_engine, cands, ["200 km off the island of Hokkaido"])
    assert labels.sum() >= 1
    for i in np.nonzero(labels)[0]:
        doc_id, start, end = cands.windows[i]
        assert "Hokkaido" in fake_engine.corpus.documents[doc_id].text[start:end]
    assert not label(fake_engine, cands, []).any()


def test_folds_keep_a_documents_questions_together_and_spread_every_style() -> None:
    examples = [
        Example(
            Question(f"q{i}", "?", ("x",) if i % 4 else (), docs=(f"doc{i % 10}",) if i % 4 else (), near_doc=""),
            style=("a", "b", "c")[i % 3],
            candidates=None,
        )
        for i in range(60)
    ]
    examples.append(Example(Question("near", "?", (), near_doc="doc3"), style="a", candidates=None))
    folds = document_folds(examples, 5)
    fold_of_doc: dict[str, set[int]] = {}
    for ex, f in zip(examples, folds, strict=True):
        for d in ex.question.documents:
            fold_of_doc.setdefault(d, set()).add(f)
    assert all(len(f) == 1 for f in fold_of_doc.values()), "a document's questions share one fold"
    for style in "abc":
        assert {f for e, f in zip(examples, folds, strict=True) if e.style == style} == set(range(5))
    assert document_folds(examples, 5) == folds, "folds are reproducible"
    same_twice = document_folds([examples[1], examples[1]], 2)
    assert same_twice[0] == same_twice[1], "the same question over two corpora falls in one fold"


def test_headings_answer_only_questions_about_the_document(fake_engine: SearchEngine) -> None:
    about_content = fake_engine.candidates("What did Japan condemn at the OSCE Permanent Council on 25 July 2024?")
    about_document = fake_engine.candidates("What is the title of Japan's statement at the OSCE on 25 July 2024?")
    assert isinstance(about_content, Candidates) and isinstance(about_document, Candidates)
    heading = RANK_FEATURES.index("heading")
    assert not about_content.features[:, heading].any()
    assert about_document.features[:, heading].any()


def test_a_model_that_declines_everything_declines(fake_engine: SearchEngine) -> None:
    cands = fake_engine.candidates("North Korea ICBM launch")
    assert isinstance(cands, Candidates)
    strict = dataclasses.replace(fake_engine.models, threshold=1e9)
    answer = fake_engine.answer(cands, models=strict)
    assert not answer.answered and answer.nearest, "a decline still names the nearest passages"
    lenient = dataclasses.replace(fake_engine.models, threshold=-1e9)
    assert fake_engine.answer(cands, models=lenient).answered


def test_a_model_file_is_plain_weights() -> None:
    model = LinearModel(("a", "b"), np.zeros(2), np.ones(2), np.array([1.0, -1.0]), 0.5)
    assert model.decision(np.array([[2.0, 1.0]]))[0] == pytest.approx(1.5)


def test_vetoes_decline_from_their_level() -> None:
    models = dataclasses.replace(shipped_models(), threshold=-1e9, vetoes=("names_missing", "names_absent"))
    row = np.zeros(len(ANSWER_FEATURES))
    assert models.answers(row)[0]
    row[ANSWER_FEATURES.index("names_missing")] = 0.34
    assert models.answers(row)[0], "one name in three missing from the passage's document is not enough"
    row[ANSWER_FEATURES.index("names_missing")] = 0.5
    assert not models.answers(row)[0]
    row[:] = 0
    row[ANSWER_FEATURES.index("names_absent")] = 0.25
    assert not models.answers(row)[0], "a name no statement mentions declines"


def test_a_decline_says_what_the_corpus_lacks_of_what_was_named(fake_engine: SearchEngine) -> None:
    strict = dataclasses.replace(fake_engine.models, threshold=1e9)
    cands = fake_engine.candidates("What did Japan say about sanctions in 2019?")
    assert isinstance(cands, Candidates)
    answer = fake_engine.answer(cands, models=strict)
    assert not answer.answered
    assert answer.scope == "it has no statement by Japan from 2019; Japan's are from 2018, 2023 and 2024"
    assert "declined" in answer.to_json() and "no statement by Japan from 2019" in str(answer.to_json()["declined"])
    fits = fake_engine.candidates("What did Japan say about sanctions in 2018?")
    assert isinstance(fits, Candidates)
    assert fake_engine.answer(fits, models=strict).scope == "", "a statement from then exists: nothing to say"
    nobody = fake_engine.candidates("What did Zanzibar say about the ICBM launch?")
    assert isinstance(nobody, Candidates)
    assert fake_engine.answer(nobody, models=strict).scope == "no statement mentions Zanzibar"
