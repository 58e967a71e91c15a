"""Follow-ups in the core: how a message is read against the question before it, "more", the
conversation kept in the state store, `verbatim chat`, and the evaluation of conversations."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from embeddings.answer.conversation import Reading, Turn, for_the_state, of_the_quoted, parse, read
from embeddings.answer.search import Decline
from embeddings.errors import VerbatimError
from embeddings.quality.conversations import load_conversations
from embeddings.service import Verbatim
from embeddings.settings import Settings
from embeddings.state import State
from embeddings.types import HashingEmbedder

NAMES = {"japan", "russia", "the united states", "united states", "tass", "poland", "brazil"}
FIRST = "What did Japan say about the ICBM launch in November 2024?"


def speaker(name: str) -> bool:
    return name.casefold() in NAMES


def test_a_question_is_read_into_its_parts() -> None:
    turn = parse(FIRST, speaker)
    assert (turn.speaker, turn.dates, turn.topic) == ("Japan", "November 2024", "the ICBM launch")
    names_topic = parse("What did Japan say about Russia in 2023?", speaker)
    assert (names_topic.speaker, names_topic.topic) == ("Japan", "Russia"), "a name after 'about' is the topic"
    inner = parse("What did Japan say about the 31 May joint statement on North Korea?", speaker)
    assert inner.dates == "" and "31 May joint statement" in inner.topic, "a date inside the topic is the topic's"


LAUNCH = "the ICBM launch in November 2024?"
NOV = "in November 2024?"
BRAZIL = "What did Brazil say about the Amazon in 2023?"
KEYWORDS = "sanctions on oil tankers and ship-to-ship transfers"


@pytest.mark.parametrize(
    ("message", "kind", "question"),
    [
        ("and Russia?", Reading.SPEAKER, f"What did Russia say about {LAUNCH}"),
        ("how about the United States?", Reading.SPEAKER, f"What did the United States say about {LAUNCH}"),
        ("and Poland's view?", Reading.SPEAKER, f"What did Poland say about {LAUNCH}"),
        ("what about 2023?", Reading.DATES, "What did Japan say about the ICBM launch in 2023?"),
        ("and the year before?", Reading.DATES, "What did Japan say about the ICBM launch in 2023?"),
        ("and in October?", Reading.DATES, "What did Japan say about the ICBM launch in October 2024?"),
        ("what about May?", Reading.DATES, "What did Japan say about the ICBM launch in May 2024?"),
        ("and in march 2023?", Reading.DATES, "What did Japan say about the ICBM launch in march 2023?"),
        ("and on nuclear disarmament?", Reading.TOPIC, f"What did Japan say about nuclear disarmament {NOV}"),
        ("what about Gaza?", Reading.TOPIC, f"What did Japan say about Gaza {NOV}"),
        ("did they say anything about sanctions?", Reading.REFERENCE, f"What did Japan say about sanctions {NOV}"),
        ("did they say what Pyongyang gets?", Reading.REFERENCE, f"Did Japan say what Pyongyang gets {NOV}"),
        ("did it point out that Russia voted?", Reading.REFERENCE, f"Did Japan point out that Russia voted {NOV}"),
        ("did Brazil say anything like that?", Reading.SPEAKER, f"What did Brazil say about {LAUNCH}"),
        ("did Brazil say anything like that about Gaza?", Reading.SPEAKER, f"What did Brazil say about Gaza {NOV}"),
        ("Russia's line on that in 2023?", Reading.SPEAKER, "What did Russia say about the ICBM launch in 2023?"),
        ("and what did Russia's own delegation say about it", Reading.SPEAKER, f"What did Russia say about {LAUNCH}"),
        ("what did Russia say about the sanctions imposed on it?", Reading.FRESH,
         "what did Russia say about the sanctions imposed on it?"),
        (BRAZIL, Reading.FRESH, BRAZIL),
        (KEYWORDS, Reading.FRESH, KEYWORDS),
    ],
)  # fmt: skip
def test_a_follow_up_replaces_the_part_it_names_and_keeps_the_rest(message: str, kind: Reading, question: str) -> None:
    followed = read(message, parse(FIRST, speaker), speaker)
    assert (followed.kind, followed.question) == (kind, question)
    assert followed.line == ("" if kind is Reading.FRESH else f"Read as: {question[0].lower()}{question[1:]}")


def test_that_statement_and_more_point_at_what_was_shown() -> None:
    shown = Turn(FIRST, "Japan", "November 2024", "the ICBM launch", ("doc-a", "doc-b"), 3)
    that = read("what else did that statement say about Ukraine?", shown, speaker)
    assert that.kind is Reading.REFERENCE and that.documents == {"doc-a"}, "the statement quoted first"
    more = read("show me more", shown, speaker)
    assert more.kind is Reading.MORE and more.skip == 3 and more.question == FIRST
    assert more.line == f"Read as: more passages for “{FIRST}”"
    assert read("and Russia?", None, speaker).kind is Reading.NOTHING_TO_FOLLOW, "a follow-up needs a question"
    assert read("more", None, speaker).kind is Reading.NOTHING_TO_FOLLOW
    assert read("and what did Russia say about sanctions?", None, speaker).kind is Reading.FRESH


def _service(corpus_dir: Path, tmp_path: Path, minutes: int = 60) -> Verbatim:
    settings = Settings(corpus_dir=corpus_dir, index_dir=tmp_path / "ix", conversation_minutes=minutes)
    return Verbatim(settings, HashingEmbedder())


def test_more_shows_the_next_passages_until_there_are_none(corpus_dir: Path, tmp_path: Path) -> None:
    service = _service(corpus_dir, tmp_path)
    first = service.follow("ICBM launch North Korea", None, k=3)
    seen = [(r.doc_id, r.start) for r in first.answer.results]
    turn = first.turn
    while True:
        more = service.follow("more", turn, k=3)
        if not more.answer.answered:
            break
        page = [(r.doc_id, r.start) for r in more.answer.results]
        assert not set(page) & set(seen), "each page shows passages not shown before"
        seen += page
        turn = more.turn
    assert more.answer.reason is Decline.NO_MORE and 3 < len(seen) <= 10
    assert set(first.turn.documents) == {r.doc_id for r in first.answer.results}


def test_a_conversation_is_kept_expires_and_survives_a_damaged_record(corpus_dir: Path, tmp_path: Path) -> None:
    service = _service(corpus_dir, tmp_path, minutes=30)
    turn = Turn(FIRST, "Japan", "November 2024", "the ICBM launch", ("d",), 3)
    service.state.keep_turn("message:1", turn)
    assert service.conversation("message:1") == turn and service.conversation("message:2") is None
    db_path = tmp_path / "ix" / "verbatim.sqlite3"
    with sqlite3.connect(db_path) as db:
        old = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)).isoformat(timespec="seconds")
        db.execute("UPDATE conversations SET updated_at = ?", (old,))
    assert service.conversation("message:1") is None, "past the setting, a message starts afresh"
    service.state.keep_turn("message:3", turn)
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE conversations SET turn = '{\"questio' WHERE conversation = 'message:3'")
    assert service.conversation("message:3") is None, "a damaged record starts afresh, it does not fail"


def _statement(folder: Path, name: str, speaker: str, date: str, text: str) -> None:
    header = f"title: Statement by {speaker}\nspeaker: {speaker}\norganisation: Government of Iran\n"
    header += f"venue: General Debate, United Nations General Assembly\ndate: {date}\n"
    (folder / f"{name}.txt").write_text(f"---\n{header}---\n{text}\n", encoding="utf-8")


def test_a_person_asked_about_another_year_is_asked_as_the_state(corpus_dir: Path, tmp_path: Path) -> None:
    """Raisi spoke for Iran in 2023, Pezeshkian in 2024: "and in 2024?" follows Iran."""
    deal = "The nuclear deal known as the JCPOA must be revived and the sanctions on Iran lifted."
    _statement(corpus_dir, "irn_2023", "Ebrahim Raisi, President (Iran)", "2023-09-19", deal)
    _statement(corpus_dir, "irn_2024", "Masoud Pezeshkian, President (Iran)", "2024-09-24", deal)
    service = _service(corpus_dir, tmp_path)
    first = service.follow("What did Raisi say about the JCPOA nuclear deal in 2023?", None, k=3)
    assert first.answer.answered and first.turn is not None and first.turn.documents[0] == "irn_2023"
    later = service.follow("and in 2024?", first.turn, k=3)
    assert later.reading.line == "Read as: what did Iran say about the JCPOA nuclear deal in 2024?"
    assert later.answer.answered and {r.doc_id for r in later.answer.results} == {"irn_2024"}


def test_for_the_state_leaves_states_and_other_statements_alone() -> None:
    raisi = parse("What did Raisi say about the JCPOA in 2023?", lambda n: n in ("Raisi", "Iran", "Japan"))
    later = read("and in 2024?", raisi, lambda n: n in ("Raisi", "Iran"))
    header = "Ebrahim Raisi, President (Iran) (Government of Iran)"
    assert for_the_state(later, header, lambda n: n == "Iran") is not None
    assert for_the_state(later, "Fumio Kishida, Prime Minister (Japan)", lambda n: n == "Japan") is None
    state = read("and in 2024?", parse(FIRST.replace("November ", ""), speaker), speaker)
    assert for_the_state(state, "Delegation of Japan (Japan)", speaker) is None, "a state stays itself"


def test_naming_the_person_just_quoted_asks_that_statement() -> None:
    names = ("Raisi", "Iran")
    shown = Turn("What did Iran say about the JCPOA in 2023?", "Iran", "2023", "the JCPOA", ("irn_2023", "x"))
    header = "Ebrahim Raisi, President (Iran) (Government of Iran)"
    person = of_the_quoted(read("Who did Raisi blame for it?", shown, names.__contains__), shown, header)
    assert person is not None and person.documents == {"irn_2023"}
    assert person.line == "Read as: who did Raisi blame for it in 2023?"
    state = read("What did Iran say about sanctions?", shown, names.__contains__)
    assert of_the_quoted(state, shown, header) is None, "a state may mean any of its statements"
    dated = read("What did Raisi say about sanctions in 2022?", shown, names.__contains__)
    assert of_the_quoted(dated, shown, header) is None, "a date of its own asks that date"


def test_an_older_state_file_gains_the_conversations_table(tmp_path: Path) -> None:
    path = tmp_path / "verbatim.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE answers (answer_id TEXT PRIMARY KEY, question TEXT, shown TEXT, asked_at TEXT)")
        db.execute("PRAGMA user_version = 1")
    state = State(path)
    state.keep_turn("thread:9", Turn("q"))
    assert state.turn("thread:9", dt.timedelta(hours=1)) == Turn("q")


def test_chat_follows_up_and_starts_over(run) -> None:  # type: ignore[no-untyped-def]
    lines = "\n".join([FIRST, "", "and the US?", "/new", "and the US?", "/quit", "never read", ""])
    code, out, _ = run("chat", stdin=lines)
    assert code == 0
    assert out.count("Read as: what did the US say about the ICBM launch in November 2024?") == 1
    assert "A new conversation" in out
    assert "Nothing to follow up here: ask a whole question first" in out, "after /new there is nothing to follow"
    assert "never read" not in out, "/quit ends the conversation; an empty line does not"


def _conversation(turns: list[dict[str, Any]], cid: str = "c1") -> str:
    return json.dumps({"id": cid, "kind": "conversation", "turns": turns})


def test_eval_scores_follow_ups_as_typed_and_as_written_out(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    us = "003_98d10b9dfbac6c7a"
    path = tmp_path / "talks.jsonl"
    path.write_text(
        _conversation([
            {"question": "What did Japan say about arms transfers?", "kind": "first", "docs": [us],
             "evidence": ["arms transfers"]},
            {"question": "and the US?", "full": "What did the US say about arms transfers?", "kind": "speaker",
             "docs": [us], "evidence": ["arms transfers"]},
        ]) + "\n"
    )  # fmt: skip
    code, out, _ = run("eval", str(path), "--json")
    figures = json.loads(out)["conversations"]
    assert code == 0 and figures["all"]["turns"] == 1 and figures["speaker"]["read_right"] == 1.0
    assert {"hit@1", "hit@3", "written_out_hit@1", "written_out_hit@3"} <= set(figures["all"])
    alone = tmp_path / "alone.jsonl"
    alone.write_text(_conversation([{"question": "q", "docs": [], "evidence": []}]) + "\n")
    with pytest.raises(VerbatimError, match=r"alone\.jsonl:1: not a conversation .*at least two turns"):
        load_conversations(alone)


def test_a_follow_up_can_move_the_question_to_another_venue() -> None:
    venues = {"osce", "security council", "general assembly"}

    def venue(name: str) -> bool:
        return name.casefold() in venues

    first = parse("What did Japan say about North Korean troops at the OSCE in November 2024?", speaker, venue)
    assert (first.speaker, first.venue, first.topic, first.dates) == (
        "Japan",
        "OSCE",
        "North Korean troops",
        "November 2024",
    )
    moved = read("and at the Security Council?", first, speaker, venue)
    assert moved.kind is Reading.VENUE and moved.question == (
        "What did Japan say about North Korean troops at the Security Council in November 2024?"
    )
    added = read("and at the OSCE?", parse(FIRST, speaker, venue), speaker, venue)
    assert added.question == "What did Japan say about the ICBM launch at the OSCE in November 2024?"
    assert Turn.from_json(moved.turn.to_json()) == moved.turn, "the venue is kept with the conversation"


def test_a_speaker_who_was_the_topic_answers_about_the_speaker_before() -> None:
    first = parse("What did Japan say about Russia in 2024?", speaker)
    assert read("and what did Russia say?", first, speaker).question == "What did Russia say about Japan in 2024?"
    titled = parse("What did Japan's foreign minister say about Russia in 2024?", speaker)
    assert read("and what did Russia say?", titled, speaker).question == "What did Russia say about Japan in 2024?"
    assert read("and Brazil?", first, speaker).question == "What did Brazil say about Russia in 2024?"


def test_the_other_side_of_a_dispute_is_asked_about_the_first_speaker() -> None:
    names = {"guyana", "venezuela", "japan", "russia"}.__contains__
    first = parse("how did Guyana talk about its border dispute with Venezuela in 2024", lambda n: names(n.casefold()))
    other = read("and Venezuela's side of it?", first, lambda n: names(n.casefold()))
    assert other.kind is Reading.SPEAKER
    assert other.question == "how did Venezuela talk about its border dispute with Guyana in 2024"


def test_a_name_where_the_topic_happens_is_not_a_new_speaker() -> None:
    venues = {"osce", "security council"}
    troops = "What did Japan tell the OSCE in November 2024 about North Korean troops?"
    first = parse(troops, speaker, lambda n: n.casefold() in venues)
    assert (first.speaker, first.venue) == ("Japan", "OSCE"), "'tell the OSCE': a venue, and Japan the speaker"
    troops = read("and the North Korean troops in Russia?", parse(FIRST, speaker), speaker)
    assert troops.kind is Reading.TOPIC and troops.turn.speaker == "Japan"
    assert read("and Russia?", parse(FIRST, speaker), speaker).kind is Reading.SPEAKER, "a name on its own is one"
    tribunal = read("what about a tribunal for Russia?", parse(FIRST, speaker), speaker)
    assert tribunal.kind is Reading.TOPIC and tribunal.turn.speaker == "Japan", "'for Russia': whom the topic is for"
    reform = read("did they tie that to Security Council reform", first, speaker, lambda n: n.casefold() in venues)
    assert reform.turn.venue == "OSCE", "a venue followed by a noun is the topic's thing, not a place"


def test_a_pronoun_keeps_the_occasion_and_the_whole_titled_speaker() -> None:
    venues = {"security council"}
    first = parse("what did Japan tell the Security Council about sanctions", speaker, lambda n: n.casefold() in venues)
    assert read("did they bring up oil?", first, speaker).question == "Did Japan bring up oil at the Security Council?"
    titled = parse("what did Japan's chief cabinet secretary Hayashi say about the treaty in June 2024", speaker)
    assert titled.speaker == "Japan's chief cabinet secretary Hayashi"
    moved = read("and what's Russia's line on it", titled, speaker)
    assert moved.question == "what did Russia say about the treaty in June 2024", "the whole speaker replaced"
    assert read("anything in it about Gaza?", first, speaker).kind is Reading.REFERENCE, "'in it': the statement"


def test_after_a_question_of_its_own_shape_the_conversation_goes_on_from_the_one_before() -> None:
    def un(name: str) -> bool:
        return name == "UN"

    first = parse("What did Japan say about the ICBM launch at the UN in 2023?", speaker, un)
    own = read("did they say who helped Pyongyang?", first, speaker, un)
    assert own.question == "Did Japan say who helped Pyongyang at the UN in 2023?"
    assert Turn.from_json(own.turn.to_json()) == own.turn, "kept with the conversation"
    later = read("and in 2024?", own.turn, speaker, un)
    assert later.question == "What did Japan say about the ICBM launch at the UN in 2024?"
    assert read("and Russia the year before?", own.turn, speaker, un).question == (
        "What did Russia say about the ICBM launch at the UN in 2022?"
    )
    assert read("how did Russia respond?", first, speaker, un).kind is Reading.SPEAKER, "the same question, of Russia"
    same = read("what did Brazil say about the ICBM launch?", first, speaker, un)
    assert same.kind is Reading.SPEAKER and same.question.endswith("at the UN in 2023?"), "the same occasion"
    assert read("what did Brazil say about the Amazon?", first, speaker, un).kind is Reading.FRESH, "a topic of its own"
    assert read("anything on sanctions?", first, speaker, un).question == (
        "What did Japan say about sanctions at the UN in 2023?"
    )
    backing = read("who did they say was backing them?", first, speaker, un)
    assert backing.question == "Who did Japan say was backing them at the UN in 2023?", "only the subject replaced"


def test_a_speaker_asked_the_same_thing_at_the_same_occasion() -> None:
    first = parse("What did Japan say about AI in 2023?", speaker)
    for message in ("did Brazil say anything similar", "how did Brazil frame it?", "did brazil bring it up too"):
        followed = read(message.replace("brazil", "Brazil"), first, speaker)
        assert (followed.kind, followed.question) == (Reading.SPEAKER, "What did Brazil say about AI in 2023?"), message
    dated = read("did Brazil bring that up in 2022 too", first, speaker)
    assert (dated.kind, dated.question) == (Reading.SPEAKER, "What did Brazil say about AI in 2022?")
    assert read("Did Brazil back that as well?", first, speaker).question == "What did Brazil say about AI in 2023?"
    session = read("What did Brazil say about Gaza at that session?", first, speaker)
    assert session.question == "What did Brazil say about Gaza in 2023?" and session.turn.topic == "Gaza"
    year = read("and what did Russia say about Poland that year?", first, speaker)
    assert year.question == "What did Russia say about Poland in 2023?"
    proposal = parse("what was Brazil's Ukraine peace proposal in 2022", speaker)
    same = read("what did Poland say about Ukraine", proposal, speaker)
    assert same.question == "what did Poland say about Ukraine in 2022?", "the topic shared with the question's words"


def test_they_with_no_speaker_named_is_the_statement_just_quoted() -> None:
    shown = Turn(
        "What did the joint statement say about arms transfers in 2023?", "", "2023", "arms transfers", ("d1",)
    )
    followed = read("what are they asking Moscow to do", shown, speaker)
    assert followed.kind is Reading.REFERENCE and followed.documents == {"d1"}
    assert "the speaker" not in followed.question and followed.question.startswith("what are they asking Moscow")


def test_they_with_no_speaker_named_and_a_topic_of_their_own_keep_to_the_statement_just_quoted() -> None:
    shown = Turn("How high did the ICBM fly, per the statement of 2018?", "", "2018", "", ("d1",))
    followed = read("did they mention the summit?", shown, speaker)
    assert followed.kind is Reading.REFERENCE and followed.documents == {"d1"}
    named = read("did they mention the summit?", parse(FIRST, speaker), speaker)
    assert named.documents == frozenset() and named.question.startswith("What did Japan say about the summit")


def test_its_with_nothing_else_named_asks_the_statement_just_quoted() -> None:
    shown = Turn("What did Brazil say about the Amazon fund in 2023?", "Brazil", "2023", "the Amazon fund", ("d1",))
    principles = read("What are its key principles?", shown, speaker)
    assert principles.kind is Reading.REFERENCE and principles.documents == {"d1"}
    assert principles.question == "What are its key principles in 2023?"
    later = read("and in 2024?", principles.turn, speaker)
    assert later.question == "What did Brazil say about the Amazon fund in 2024?"
    assert read("Is it true that Japan voted against the resolution?", shown, speaker).kind is Reading.FRESH


def test_a_month_without_a_year_is_in_the_year_the_conversation_is_about() -> None:
    later = read("What was Japan saying about the weapons purchases in November?", parse(FIRST, speaker), speaker)
    assert later.question == "What was Japan saying about the weapons purchases in November 2024?"
    assert later.turn.dates == "November 2024" and later.line.startswith("Read as:")
    years = parse("What did Japan say about sanctions in 2023 and 2024?", speaker)
    alone = read("What did Japan say about the weapons purchases in November?", years, speaker)
    assert alone.kind is Reading.FRESH, "two years before: no year to choose"


def test_a_question_naming_its_own_speaker_and_pronoun_is_its_own() -> None:
    first = parse("What did Brazil say about the Amazon in 2023?", speaker)
    own = read("What did Russia say about Ukraine in its 2022 speech?", first, speaker)
    assert own.kind is Reading.FRESH, "'its' is Russia's own, not the speaker just quoted"
    opening = parse("Did Japan's prime minister call for reform at UNGA 2023?", speaker)
    assert opening.speaker == "Japan's prime minister", "a question's first word is no part of a name"


def test_anything_on_a_name_asks_about_it_and_a_bare_question_asks_the_statement_quoted() -> None:
    shown = Turn(FIRST, "Japan", "November 2024", "the ICBM launch", ("d1",), 3)
    israel = read("anything on Russia in that speech?", shown, speaker)
    assert (israel.kind, israel.turn.speaker, israel.turn.topic) == (Reading.TOPIC, "Japan", "Russia")
    which = read("which resolutions?", shown, speaker)
    assert which.kind is Reading.REFERENCE and which.documents == {"d1"}
    view = read("Brazil's view that year?", parse("What did Japan say about AI in 2023?", speaker), speaker)
    assert (view.kind, view.question) == (Reading.SPEAKER, "What did Brazil say about AI in 2023?")


def test_whose_words_a_question_quotes_is_its_speaker() -> None:
    venues = {"osce"}

    def venue(name: str) -> bool:
        return name.casefold() in venues

    delegation = parse(
        "How far could the ICBM reach, according to Japan's delegation to the OSCE in November 2024?", speaker, venue
    )
    assert (delegation.speaker, delegation.venue) == ("Japan's delegation", "OSCE")
    owner = parse("According to Japan's OSCE statement of November 2024, how high did the ICBM fly?", speaker, venue)
    assert owner.speaker == "Japan"
    source = parse("according to the joint statement did Russia vote for the resolutions", speaker)
    assert source.speaker == "", "the names after 'according to' speak, not the ones the report is about"
    own = parse("What is Brazil's position on the war in Ukraine according to its 2023 UNGA speech?", speaker)
    assert (own.speaker, own.topic, own.dates) == ("Brazil", "the war in Ukraine", "2023")
    assert read("and Russia?", own, speaker).question == (
        "What is Russia's position on the war in Ukraine according to its 2023 UNGA speech?"
    )


def test_a_subject_is_the_speaker_and_a_new_topic_is_asked_of_it() -> None:
    running = parse("is Brazil running for a seat on the Security Council in 2023?", speaker)
    assert (running.speaker, running.topic) == ("Brazil", "the Security Council")
    assert read("and on AI?", running, speaker).question == "What did Brazil say about AI in 2023?"


@pytest.mark.parametrize(
    ("message", "question"),
    [
        ("what about Russia two years earlier", "What did Russia say about the ICBM launch in 2022?"),
        ("and three years later?", "What did Japan say about the ICBM launch in 2027?"),
        ("and a year before?", "What did Japan say about the ICBM launch in 2023?"),
    ],
)
def test_years_before_or_after_count_from_the_question_before(message: str, question: str) -> None:
    first = parse("What did Japan say about the ICBM launch in 2024?", speaker)
    assert read(message, first, speaker).question == question


def test_a_header_that_misspells_a_state_is_found_by_its_name() -> None:
    from embeddings.answer.headers import misspelt_countries

    assert misspelt_countries("Enrique Manalo, Minister of Foreign Affairs (Phlippines)") == ("Philippines",)
    assert misspelt_countries("Government of Dominia") == ("Dominica",)
    assert misspelt_countries("Government of Dominican Republic") == (), "an adjective, and a state of its own"
    assert misspelt_countries("Giorgia Meloni, President of the Council of Ministers (Italy)") == (), "a person"
    assert misspelt_countries("Government of Zambia") == misspelt_countries("(Iraq)") == (), "states themselves"


def test_names_typed_in_lower_case_are_read_as_names() -> None:
    from embeddings.answer.casing import Casing, header_names
    from embeddings.corpus.documents import Document

    headers = [
        ("Mia Amor Mottley, Prime Minister (Barbados)", "Government of Barbados", "General Debate"),
        ("Permanent Mission of Japan", "Permanent Mission of Japan to the United Nations", "OSCE Permanent Council"),
        ("Press office", "TASS", "Saint Vincent and the Grenadines"),
        ("I Made Person", "Ministry of Youth", "General Debate"),
    ]
    docs = [
        Document(f"d{n}", "Statement", speaker, venue, dt.date(2024, 1, 1), "We made a call to youth.", "", org)
        for n, (speaker, org, venue) in enumerate(headers)
    ]
    names, strong = header_names(docs, ["United States", "US", "WHO", "North Korea"])
    assert {"Barbados", "United States"} <= strong
    assert {"Barbados", "Mottley", "Japan", "TASS", "Saint Vincent and the Grenadines"} <= names
    assert not {"Prime", "Minister", "Prime Minister", "Permanent", "General"} & names, "titles are not names"
    casing = Casing(
        names, frozenset({"made", "youth", "us", "who", "a", "to", "we", "call", "united", "states"}), strong
    )
    assert casing.apply("and barbados?") == "and Barbados?"
    assert casing.apply("did the prime minister of barbados") == "did the prime minister of Barbados", "a title"
    assert casing.apply("what did mottley say about debt") == "what did Mottley say about debt"
    assert casing.apply("ok what about saint vincent and the grenadines") == (
        "ok what about Saint Vincent and the Grenadines"
    )
    assert casing.apply("what did japan tell the osce about north korea") == (
        "what did Japan tell the OSCE about North Korea"
    )
    assert casing.apply("did they tell us who made the youth plan?") == "did they tell us who made the youth plan?"
    assert casing.apply("and the united states?") == "and the United States?", "a listed name, though its words are not"
    assert (
        Casing(["Development Cooperation"], frozenset({"development", "cooperation"})).apply(
            "and development cooperation?"
        )
        == "and development cooperation?"
    ), "a title's everyday words are no name"
    assert casing.apply("and JAPAN? and Tass?") == "and JAPAN? and Tass?", "what a member capitalised is kept"
    assert casing.apply("the japanese view, barbadosian") == "the japanese view, barbadosian", "whole words only"


def test_a_conversation_typed_in_lower_case_follows_up_like_one_written_with_capitals(
    corpus_dir: Path, tmp_path: Path
) -> None:
    service = _service(corpus_dir, tmp_path)
    readings = []
    for first in (FIRST, FIRST.lower()):
        turn = service.follow(first, None).turn
        assert turn is not None and turn.speaker == "Japan" and "2024" in turn.dates
        follow = service.follow("and tass?" if first.islower() else "and TASS?", turn)
        assert follow.reading.kind is Reading.SPEAKER
        readings.append(follow.reading.question.casefold())
    assert readings[0] == readings[1] == "what did tass say about the icbm launch in november 2024?"
