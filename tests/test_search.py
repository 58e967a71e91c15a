from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from embeddings.answer.headers import state_of_capital
from embeddings.answer.search import Candidates, Decline, Filters, SearchEngine
from embeddings.engine import open_engine
from embeddings.errors import BadQuestionError, VerbatimError
from embeddings.index.embedder import HashingEmbedder
from embeddings.index.keywords import Aliases, Tokenizer, load_aliases
from tests.conftest import CORPUS


def test_aliases_make_names_one_word() -> None:
    tok = Tokenizer(load_aliases(CORPUS / "aliases.toml"))
    assert tok("the DPRK")[0] == tok("North Korea")[0] == tok("Pyongyang")[0] == "north_korea"
    assert tok("the Russian Federation")[0] == tok("Moscow")[0]
    assert {"panel", "expert"} <= set(tok("1718 Committee Panel of Experts")), "words stay matchable one by one"
    assert "united_states" not in tok("let us go"), "lower-case 'us' is a pronoun, not the country"
    assert "united_states" in tok("the US and Japan")


def test_accents_and_official_names_do_not_split_a_country() -> None:
    tok = Tokenizer(load_aliases(CORPUS / "aliases.toml"))
    assert tok("Côte d’Ivoire") == tok("Cote d'Ivoire") and tok("Ivory Coast")[0] == tok("Cote d'Ivoire")[0]
    assert tok("the Czech Republic")[0] == tok("Czechia")[0] and tok("Türkiye") == tok("Turkey")
    assert tok("Tiémoko") == tok("Tiemoko") and len(tok("Tiémoko")) == 1, "an accented word stays one word"


def test_alias_list_is_data() -> None:
    aliases = Aliases.from_groups([["Foo Land", "FL"]])
    assert Tokenizer(aliases)("FL sanctions")[0] == Tokenizer(aliases)("Foo Land sanctions")[0] == "foo_land"


def test_filters_restrict_results(fake_engine: SearchEngine) -> None:
    only_2018 = Filters(until=dt.date(2018, 12, 31))
    answer = fake_engine.search("sanctions North Korea Security Council resolutions", k=5, filters=only_2018)
    assert answer.results and {r.doc_id for r in answer.results} == {"002_78125fb04298b027"}
    by_speaker = fake_engine.search("Russia North Korea cooperation", k=5, filters=Filters(speaker="tass"))
    assert {r.doc_id for r in by_speaker.results} == {"004_98d5f114bee79a04"}
    by_doc = fake_engine.search("Russia", filters=Filters(documents=frozenset({"003_98d10b9dfbac6c7a"})))
    assert {r.doc_id for r in by_doc.results} == {"003_98d10b9dfbac6c7a"}
    venue = fake_engine.search("Russia", k=5, filters=Filters(venue="OSCE"))
    assert venue.results and {r.doc_id for r in venue.results} <= {"000_4a0e896c0c50d79f", "001_9a301a089a780dac"}


def test_filter_matching_nothing_declines(fake_engine: SearchEngine) -> None:
    answer = fake_engine.search("Russia", filters=Filters(since=dt.date(2030, 1, 1)))
    assert not answer.answered and answer.reason is Decline.NO_MATCHING_DOCUMENTS


def test_a_long_paragraph_can_give_two_quotes_that_share_no_text(corpus_dir: Path, tmp_path: Path) -> None:
    """The sentence that answers may lie far from the paragraph's best one: both are quoted."""
    filler = [
        f"The delegation then turned to item {n} of the agenda, on which it had consulted widely with "
        "partners in the region and beyond over many months of patient and careful negotiation."
        for n in range(5)
    ]
    text = " ".join(
        ["Mangrove restoration along the Zambezi delta protects fishing villages from storm surges.", *filler,
         "Zambezi mangrove nurseries now employ four hundred women from those fishing villages."]
    )  # fmt: skip
    header = "title: Coasts\nspeaker: Delegation of Ruritania\nvenue: General Assembly\ndate: 2023-09-20\n"
    (corpus_dir / "coasts.txt").write_text(f"---\n{header}---\n{text}\n", encoding="utf-8")
    engine = open_engine(corpus_dir, tmp_path / "index", HashingEmbedder())
    answer = engine.search("Zambezi mangrove fishing villages", k=3, filters=Filters(documents=frozenset({"coasts"})))
    quotes = [r for r in answer.results if r.doc_id == "coasts"]
    assert len(quotes) >= 2 and quotes[0].paragraph == quotes[1].paragraph
    assert quotes[0].end <= quotes[1].start or quotes[1].end <= quotes[0].start, "no text is quoted twice"
    assert {"Mangrove restoration" in r.quote or "nurseries" in r.quote for r in quotes[:2]} == {True}


def test_a_capital_named_as_the_speaker_is_its_government(corpus_dir: Path, tmp_path: Path) -> None:
    header = "title: Statement\nspeaker: Minister for Foreign Affairs (Azerbaijan)\nvenue: General Assembly\n"
    text = "Azerbaijan will host the climate conference and seeks a peace treaty with its neighbour."
    (corpus_dir / "aze.txt").write_text(f"---\n{header}date: 2024-09-24\n---\n{text}\n", encoding="utf-8")
    engine = open_engine(corpus_dir, tmp_path / "index", HashingEmbedder())
    assert engine.names_a_speaker("Baku") and engine.names_a_speaker("Baku's")
    cands = engine.candidates("What did Baku say about the peace treaty?")
    assert isinstance(cands, Candidates) and len(cands)
    assert {engine.index.chunks[int(c)].doc_id for c in cands.chunk_ids} == {"aze"}, "answered from its statements"
    assert cands.view.question.absent_names == (), "the capital is no name the corpus lacks"
    assert not engine.names_a_speaker("Paris"), "a capital that names treaties is left out"
    assert engine.with_names("and how did baku present it?") == "and how did Baku present it?"
    assert state_of_capital("the Beijing") == "China" and state_of_capital("Bejing") == ""


def test_results_are_diverse(fake_engine: SearchEngine) -> None:
    answer = fake_engine.search("Russia North Korea Security Council resolutions", k=10)
    assert len(answer.results) >= 3 and len({r.doc_id for r in answer.results}) >= 2
    spans = [(r.doc_id, r.start, r.end) for r in answer.results]
    for i, (d, s, e) in enumerate(spans):
        for d2, s2, e2 in spans[i + 1 :]:
            assert d != d2 or e <= s2 or e2 <= s, "two results quote overlapping text"


@pytest.mark.parametrize("question", ["", "   ", "?!", "x" * 600])
def test_bad_questions_get_a_clear_error(fake_engine: SearchEngine, question: str) -> None:
    with pytest.raises(BadQuestionError):
        fake_engine.search(question)


def test_citation_names_document_speaker_venue_date_paragraph(fake_engine: SearchEngine) -> None:
    r = fake_engine.search("Yoshimasa Hayashi briefing", k=1).results[0]
    assert r.doc_id == "004_98d5f114bee79a04"
    for part in ("TASS", "Tokyo accuses Moscow", "20 June 2024", "para"):
        assert part in r.citation


def test_filters_from_typed_values_cover_whole_months_and_years() -> None:
    f = Filters.parse(since="2024-02", until="2024")
    assert (f.since, f.until) == (dt.date(2024, 2, 1), dt.date(2024, 12, 31))
    with pytest.raises(VerbatimError, match="is after"):
        Filters.parse(since="2025", until="2024")


def test_documents_are_found_by_words_not_ids(fake_engine: SearchEngine) -> None:
    corpus = fake_engine.corpus
    assert [d.doc_id for d in corpus.matching("tass TOKYO")] == ["004_98d5f114bee79a04"]
    everything = corpus.matching("")
    assert len(everything) == len(corpus)
    assert [d.date for d in everything] == sorted((d.date for d in everything), reverse=True)
    assert corpus.matching("../corpus") == []


def test_international_bodies_are_aliases_in_every_corpus(tmp_path) -> None:  # type: ignore[no-untyped-def]
    tok = Tokenizer(load_aliases(tmp_path / "no-aliases-here.toml"))
    assert tok("EU sanctions")[0] == tok("the European Union")[0]
    assert tok("the NPT")[0] == tok("Treaty on the Non-Proliferation of Nuclear Weapons")[0]
    corpus_tok = Tokenizer(load_aliases(CORPUS / "aliases.toml"))
    assert corpus_tok("OSCE")[0] == corpus_tok("Organization for Security and Co-operation in Europe")[0]


def test_a_question_asking_what_a_speaker_said_is_answered_from_that_speakers_statements(
    fake_engine: SearchEngine,
) -> None:
    from embeddings.answer.search import Candidates

    def documents(question: str, **kwargs: object) -> set[str]:
        cands = fake_engine.candidates(question, **kwargs)  # type: ignore[arg-type]
        assert isinstance(cands, Candidates)
        return {fake_engine.index.chunks[int(c)].doc_id for c in cands.chunk_ids}

    november = "001_9a301a089a780dac"
    assert documents("What did Japan say about the ICBM launch in November 2024?") == {november}
    assert documents("what did japan say about the icbm launch in november 2024") == {november}, "typed in lower case"
    assert "004_98d5f114bee79a04" not in documents("What did Japan say about Russia?"), "Russia is the topic here"
    assert len(documents("What did Japan say about Russia?")) == 4, "all of Japan's, the joint statement among them"
    assert len(documents("ICBM launch by North Korea in November 2024")) > 1, "no speaker asked: everything"
    assert len(documents("What did Japan say about it?", by_speaker=False)) > 1, "a topic is not a question"

    cands = fake_engine.candidates("What did Russia say about the ICBM launch in November 2024?")
    assert isinstance(cands, Candidates)
    assert cands.missing == "it has no statement by Russia from November 2024; Russia's is from 20 June 2024"
    answer = fake_engine.search("What did Russia say about the ICBM launch in November 2024?")
    assert not answer.answered and answer.scope == cands.missing, "declined, whatever the models say"
    assert answer.nearest and {r.doc_id for r in answer.nearest} == {"004_98d5f114bee79a04"}, "the speaker's own"
    for question in (
        "What did Japan say about the ICBM launch in 2019?",
        "What did Japan say at the 2019 UN General Assembly about the ICBM launch?",
        "What did Japan say in its 2019 statement about the ICBM launch?",
    ):
        old = fake_engine.search(question)
        assert not old.answered, question
        assert old.scope == "it has no statement by Japan from 2019; Japan's are from 2018, 2023 and 2024"
    inner = fake_engine.search("What did Japan say about the war in Ukraine in 2019?")
    assert not inner.answered and "from 2019" in inner.scope, "the last date ends the question, not the topic's 'in'"
    topic_date = fake_engine.candidates("What did Japan say about the 2019 launches?")
    assert isinstance(topic_date, Candidates) and not topic_date.missing, "a date in the topic is the topic's"
