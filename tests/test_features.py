"""What the build records per sentence, and the named features the models read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embeddings.answer.features import ANSWER_REGISTRY, RANK_REGISTRY
from embeddings.answer.question import slashed
from embeddings.answer.ranking import Models, shipped_models
from embeddings.answer.search import Candidates, SearchEngine
from embeddings.corpus import facts
from embeddings.errors import VerbatimError
from embeddings.index.keywords import SentenceTokens, Tokenizer, load_aliases
from embeddings.quality.learning import best_cut
from tests.conftest import CORPUS


@pytest.mark.parametrize(
    ("sentence", "wanted", "unwanted"),
    [
        ("Japan pledged $300 million to the fund.", facts.MONEY | facts.QUANTITY, facts.PERCENT),
        ("Slovakia gave 30 million euros in aid.", facts.MONEY, facts.PERCENT),
        ("Women hold 41 per cent of the seats.", facts.PERCENT | facts.QUANTITY, facts.MONEY),
        ("The launch took place on 31 October this year.", facts.DATE, facts.MONEY),
        ("TOKYO, June 20.", facts.FRAGMENT | facts.DATE, facts.MONEY),
        ("Established by resolution 2397 in the Council.", 0, facts.QUANTITY | facts.MONEY | facts.PERCENT),
    ],
)
def test_sentence_flags(sentence: str, wanted: int, unwanted: int) -> None:
    flags = facts.flags_of(sentence)
    assert flags & wanted == wanted and not flags & unwanted


def test_sentence_facts_number_paragraphs_and_mark_headings() -> None:
    text = "A TITLE IN CAPITALS\n\nThe first paragraph says one thing. It says another.\n\nThe second one."
    spans = [(0, 19), (21, 55), (56, 73), (75, 90)]
    numbers, flags = facts.sentence_facts(text, "A title in capitals", spans)
    assert numbers.tolist() == [1, 2, 2, 3]
    assert flags[0] & facts.HEADING and not flags[1] & facts.HEADING


def test_the_build_records_facts_and_tokens_for_every_sentence(fake_engine: SearchEngine) -> None:
    idx = fake_engine.index
    n = len(idx.sentences)
    assert len(idx.sentence_flags) == len(idx.sentence_paragraph) == len(idx.sentence_canonical) == n
    tokens = fake_engine.keywords.sentences
    assert tokens is not None and len(tokens) == n
    vocab = {i: t for t, i in fake_engine.keywords.vocab.items()}
    for row in range(0, n, max(1, n // 25)):
        chunk = idx.chunks[int(idx.sentence_chunk[row])]
        doc = fake_engine.corpus.documents[chunk.doc_id]
        s, e = idx.sentences[row]
        ids, owner = tokens.gather(np.asarray([row]))
        assert {vocab[int(i)] for i in ids} == set(fake_engine.tokenizer(doc.text[int(s) : int(e)])) & set(
            vocab.values()
        )
        assert (owner == 0).all()
        paragraph = fake_engine.paragraph_at(doc, int(s))
        assert idx.sentence_paragraph[row] == paragraph.number
        canonical = int(idx.sentence_canonical[row])
        assert canonical <= row and (idx.sentences[canonical] == idx.sentences[row]).all()


def test_sentence_tokens_gather_keeps_each_rows_tokens_apart() -> None:
    tokenizer = Tokenizer(load_aliases(CORPUS / "aliases.toml"))
    texts = ["North Korea launched a missile.", "", "Sanctions on the DPRK remain."]
    vocab = {t: i for i, t in enumerate(sorted({t for text in texts for t in tokenizer(text)}))}
    tokens = SentenceTokens.build(texts, tokenizer, vocab)
    ids, owner = tokens.gather(np.asarray([2, 0, 1]))
    rows = {k: {i for i, o in zip(ids.tolist(), owner.tolist(), strict=True) if o == k} for k in range(3)}
    assert rows[0] == {vocab[t] for t in tokenizer(texts[2])}
    assert rows[1] == {vocab[t] for t in tokenizer(texts[0])}
    assert rows[2] == set()
    assert rows[0] & rows[1] == {vocab["north_korea"]}, "an alias group is one token in both"


def test_candidates_carry_every_registered_feature_by_name(fake_engine: SearchEngine) -> None:
    cands = fake_engine.candidates("What did Japan say about the ICBM launch in November 2024?")
    assert isinstance(cands, Candidates)
    assert cands.features.shape == (len(cands), len(RANK_REGISTRY))
    assert np.isfinite(cands.features).all()
    picked = cands.columns(["bm25", "sent_cos"])
    np.testing.assert_array_equal(picked[:, 1], cands.view.sentence_cos)


def test_a_model_naming_a_feature_no_code_computes_is_refused() -> None:
    data = json.loads(shipped_models().dumps())
    data["ranker"]["features"][0] = "no_such_feature"
    with pytest.raises(VerbatimError, match="no_such_feature"):
        Models.from_json(data)
    data = json.loads(shipped_models().dumps())
    data["vetoes"] = ["top_score"]
    with pytest.raises(VerbatimError):
        Models.from_json(data)


def test_every_shipped_feature_is_registered() -> None:
    models = shipped_models()
    assert set(models.ranker.features) <= set(RANK_REGISTRY)
    assert set(models.answerable.features) <= set(ANSWER_REGISTRY)


def test_the_decline_cut_keeps_wrong_declines_within_the_budget() -> None:
    rng = np.random.default_rng(0)
    answerable = np.r_[np.ones(200), np.zeros(60)].astype(int)
    decisions = np.r_[rng.normal(1.0, 1.0, 200), rng.normal(-1.0, 1.0, 60)]
    vetoed = np.zeros(260, dtype=bool)
    cut = best_cut(decisions, answerable, vetoed, 0.03)
    assert cut is not None and cut.wrongly_declined <= 6
    assert cut.wrongly_declined == int(((decisions < cut.threshold) & (answerable == 1)).sum())
    assert cut.declined == int(((decisions < cut.threshold) & (answerable == 0)).sum()) > 0
    looser = best_cut(decisions, answerable, vetoed, 0.10)
    assert looser is not None and looser.declined >= cut.declined
    vetoed[:7] = True  # seven answerable questions vetoed: over the 3% budget on their own
    assert best_cut(decisions, answerable, vetoed, 0.03) is None


def test_a_slash_offers_alternatives_and_one_of_them_covers_the_topic(fake_engine: SearchEngine) -> None:
    """ "Hwasong/ICBM" asks about either word: a sentence that names only one holds both
    columns, so its share of the topic's weight is whole, and a sentence with neither holds none."""
    cands = fake_engine.candidates("Hwasong/ICBM")
    assert isinstance(cands, Candidates)
    view = cands.view
    assert view.question.tokens[:2] == ("hwasong", "icbm")
    assert view.question.alternatives == ((0, 1),)
    only_one = fake_engine._holds(view.question.tokens, view.sentence_ids)
    assert (only_one[:, 0] != only_one[:, 1]).any(), "the corpus must name one without the other somewhere"
    np.testing.assert_array_equal(view.sentence_has[:, 0], only_one.any(axis=1))
    np.testing.assert_array_equal(view.sentence_has[:, 1], only_one.any(axis=1))


@pytest.mark.parametrize(
    ("question", "groups"),
    [
        ("Malvinas/Falklands sovereignty", [["Malvinas", "Falklands"]]),
        ("Kyiv / Kiev / Kyyiv and the war", [["Kyiv", "Kiev", "Kyyiv"]]),
        ("the 2023/24 budget", []),
        ("what did Japan say?", []),
    ],
)
def test_slashed_words_are_read_as_alternatives(question: str, groups: list[list[str]]) -> None:
    assert slashed(question) == groups
