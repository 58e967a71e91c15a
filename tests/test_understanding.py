"""Question understanding and header matching: dates, numbers, names, countries, documents."""

from __future__ import annotations

import datetime as dt

import pytest

from embeddings.answer.headers import MetadataIndex, date_fit, expand_adjectives, same_name
from embeddings.answer.question import DateMention, date_spans, dates_in, name_phrases, understand
from embeddings.corpus.documents import Document
from embeddings.corpus.facts import has_date, has_quantity
from embeddings.index.keywords import Tokenizer, load_aliases
from tests.conftest import CORPUS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("at the OSCE in July 2024", [DateMention(2024, 7)]),
        ("on 25 July 2024", [DateMention(2024, 7, 25)]),
        ("November 6, 2024", [DateMention(2024, 11, 6)]),
        ("TOKYO, June 20", [DateMention(None, 6, 20)]),
        ("the 2018 Security Council meeting", [DateMention(2018, None)]),
        ("in September", [DateMention(None, 9)]),
        ("May I ask about resolution 1718(2006)?", []),
        ("symbol S/2024/123", []),
        ("what did Milei say about the 2030 Agenda in 2024?", [DateMention(2024, None)]),
        ("net zero by 2099", []),
    ],
)
def test_dates_named_in_questions(text: str, expected: list[DateMention]) -> None:
    assert dates_in(text) == expected


def test_a_year_still_to_come_is_no_date_a_follow_up_replaces() -> None:
    text = "what did Milei say about the 2030 Agenda in 2024?"
    assert [text[s:e] for s, e in date_spans(text)] == ["2024"]


def test_what_a_question_asks_for() -> None:
    assert understand("How many soldiers were sent?").wants_number
    assert not understand("Who sent the soldiers?").wants_number
    assert understand("When did Kim travel to Russia?").wants_date
    assert understand("On what exact date was it signed?").wants_date
    assert understand("Who delivered Japan's statement?").about_document
    assert understand("What is the document reference number?").about_document
    assert not understand("What did Japan condemn?").about_document


def test_quantities_and_dates_in_passages() -> None:
    assert has_quantity("the missile flew about 86 minutes")
    assert has_quantity("three eighths of the circumference")
    assert not has_quantity("established by Security Council resolution 2397 in 2018")
    assert has_date("about half a year ago")
    assert has_date("on 30th October")
    assert not has_date("signed the treaty after the veto")


def test_names_a_question_turns_on() -> None:
    assert name_phrases("What did South Korean President Yoon say?") == ["South Korean President Yoon"]
    assert name_phrases("Did North Korean troops fight in the Kursk region?") == ["North Korean", "Kursk"]
    assert name_phrases("What happened in November?") == [], "months are dates, not names"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("ukrain", "ukrainian", True),
        ("japan", "japanes", True),
        ("russia", "russian", True),
        ("niger", "nigeria", False),
        ("austria", "australia", False),
        ("north_korea", "north", False),
    ],
)
def test_country_adjectives_match_their_country(a: str, b: str, same: bool) -> None:
    assert same_name(a, b) is same


def test_irregular_adjectives_come_from_data() -> None:
    assert "france" in expand_adjectives("the French position").casefold().split()
    assert expand_adjectives("no adjective here") == "no adjective here"


def _doc(
    doc_id: str,
    speaker: str,
    organisation: str,
    date: dt.date,
    title: str = "Statement",
    venue: str = "General Debate, UN General Assembly",
) -> Document:
    return Document(
        doc_id,
        title,
        speaker,
        venue,
        date,
        "text",
        f"{doc_id}.txt",
        organisation=organisation,
    )


def test_header_matching_prefers_the_named_speaker_and_year() -> None:
    docs = [
        _doc(
            "ltu",
            "Gabrielius Landsbergis, Minister of Foreign Affairs (Lithuania)",
            "Government of Lithuania",
            dt.date(2023, 9, 19),
        ),
        _doc(
            "rus",
            "Sergey Lavrov, Minister of Foreign Affairs (Russian Federation)",
            "Government of Russian Federation",
            dt.date(2023, 9, 19),
        ),
        _doc("fra", "Catherine Colonna, Minister (France)", "Government of France", dt.date(2022, 9, 20)),
    ]
    index = MetadataIndex(docs, Tokenizer(load_aliases(CORPUS / "aliases.toml")))
    question = "What did Russia's foreign minister say about sanctions in 2023?"
    terms = index.question_terms(question)
    dates = understand(question).dates
    rus, ltu = index.match("rus", terms, dates), index.match("ltu", terms, dates)
    assert rus.who > ltu.who and not rus.who_miss and ltu.who_miss
    assert index.candidates(terms, dates, 1) == ["rus"]
    french = index.question_terms("What is the French view on UN reform?")
    assert index.match("fra", french, ()).who == 1.0, "an irregular adjective finds its country"


def test_date_fit_is_a_signal_not_a_filter() -> None:
    doc = _doc("d", "S", "O", dt.date(2024, 7, 25))
    assert date_fit(doc, [DateMention(2024, 7)]) == 1.0
    assert date_fit(doc, [DateMention(2023, None)]) == -1.0
    assert date_fit(doc, [DateMention(None, 5, 31), DateMention(2024, None)]) == 1.0
    assert date_fit(doc, []) == 0.0


def test_header_scores_for_all_documents_agree_with_each_documents_match() -> None:
    """The array form (token-to-document lists) must give what the per-document match gives."""
    docs = [
        _doc(
            "ltu",
            "Gabrielius Landsbergis, Minister of Foreign Affairs (Lithuania)",
            "Government of Lithuania",
            dt.date(2023, 9, 19),
        ),
        _doc(
            "rus",
            "Sergey Lavrov, Minister of Foreign Affairs (Russian Federation)",
            "Government of Russian Federation",
            dt.date(2023, 9, 19),
        ),
        _doc("fra", "Catherine Colonna, Minister (France)", "Government of France", dt.date(2022, 9, 20)),
    ]
    index = MetadataIndex(docs, Tokenizer(load_aliases(CORPUS / "aliases.toml")))
    for question in (
        "What did Russia's foreign minister say about sanctions in 2023?",
        "What is the French view on UN reform in September 2022?",
        "Lithuania and France on Ukraine",
        "What did anyone say about the weather?",
    ):
        terms = index.question_terms(question)
        dates = understand(question).dates
        scores = index.scores(terms, dates)
        for doc_id, i in index.position.items():
            m = index.match(doc_id, terms, dates)
            assert (scores.who[i], scores.who_miss[i], scores.fields[i], scores.date[i]) == pytest.approx(
                (m.who, m.who_miss, m.fields, m.date)
            ), (question, doc_id)


def test_a_first_word_names_a_speaker_only_when_a_statement_is_by_it() -> None:
    docs = [
        _doc("rwa", "Paul Kagame, President (Rwanda)", "Government of Rwanda", dt.date(2024, 9, 24)),
        _doc(
            "jpn",
            "Permanent Representative of Japan to the United Nations",
            "Government of Japan",
            dt.date(2018, 9, 17),
        ),
        _doc(
            "un1",
            "Edi Rama, Prime Minister (Albania)",
            "Government of Albania",
            dt.date(2022, 9, 20),
            venue="General Debate, United Nations General Assembly",
        ),
        _doc(
            "un2",
            "Penny Wong, Minister (Australia)",
            "Government of Australia",
            dt.date(2022, 9, 20),
            venue="General Debate, United Nations General Assembly",
        ),
    ]
    index = MetadataIndex(docs, Tokenizer(load_aliases(CORPUS / "aliases.toml")))
    assert "rwanda" in index.question_terms("Rwanda 2024 Kwibuka Flame of Hope").who_terms
    assert index.question_terms("Rwanda 2024 Kwibuka Flame of Hope").who_phrases == ("Rwanda",)
    assert not index.question_terms("According to Rwanda's statement ...").who_terms.keys() - {"rwanda"}
    assert not index.question_terms("What did the UN say about Rwanda's genocide?").who_terms.keys() - {"rwanda"}, (
        "the UN names the venue of more statements than the speaker of any: it is not a speaker"
    )
