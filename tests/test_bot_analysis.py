"""/compare, /timeline, /watch and the feedback buttons, end to end through the fake Discord, and
their terminal twins."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.settings import BotSettings
from embeddings.cli import main
from embeddings.corpus.documents import load_corpus
from embeddings.quality.evaluation import load_questions
from embeddings.service import Verbatim
from embeddings.state import State
from tests.fake_discord import CHANNEL_ID, FakeDiscord
from tests.test_bot_e2e import TIMEOUT, option, running_bot, settings, unescape  # noqa: F401  (fixture)

COUNTRIES = [
    "Albania", "Belgium", "Canada", "Denmark", "Estonia", "Finland", "Greece", "Hungary", "Iceland", "Latvia",
    "Malta", "Norway",
]  # fmt: skip


def _statement(country: str, year: int) -> str:
    return (
        f"---\ntitle: Statement by the Delegation of {country} on maritime sanctions enforcement\n"
        f"speaker: Delegation of {country}\norganisation: Government of {country}\nvenue: OSCE Permanent Council\n"
        f"date: {year}-03-0{1 + COUNTRIES.index(country) % 9}\n---\n"
        f"{country} condemns the ship-to-ship transfers of refined petroleum that evade the sanctions.\n\n"
        f"{country} will inspect tankers suspected of such transfers in its ports and share what it finds.\n"
    )


@pytest.fixture
def many_speakers(corpus_dir: Path) -> Path:
    for n, country in enumerate(COUNTRIES):
        (corpus_dir / f"{country.lower()}.txt").write_text(_statement(country, 2012 + n))
    return corpus_dir


def _unescape(markdown: str) -> str:
    return unescape(markdown)


def _passages(embed: dict[str, Any]) -> list[tuple[str, str]]:
    """A speaker's embed as (quote, citation) pairs: each passage's `> ` lines, then its "— " line."""
    pairs = []
    for block in embed["description"].split("\n\n"):
        *quote, cite = block.split("\n")
        assert cite.startswith("— ") and all(line.startswith("> ") for line in quote), block
        pairs.append((_unescape("\n".join(q[2:] for q in quote)), _unescape(cite[2:])))
    return pairs


async def _public_answer(fake: FakeDiscord, iid: str) -> dict[str, Any]:
    body: dict[str, Any] = (await fake.followup_to(iid, TIMEOUT)).body
    return body


async def test_compare_many_speakers_fits_discord_and_quotes_each_verbatim(
    settings: BotSettings,  # noqa: F811
    many_speakers: Path,
) -> None:
    corpus = load_corpus(many_speakers)
    async with running_bot(settings) as fake:
        iid = await fake.slash("compare", [option("topic", "ship-to-ship transfers of refined petroleum")])
        body = await _public_answer(fake, iid)
        assert 2 <= len(body["embeds"]) <= 10, "one embed per speaker, ten at most"
        assert sum(len(e["title"]) + len(e["description"]) for e in body["embeds"]) <= 6000
        titles = [e["title"] for e in body["embeds"]]
        assert len(set(titles)) == len(titles), "each speaker once"
        for embed in body["embeds"]:
            for quote, cite in _passages(embed):
                doc = next(d for d in corpus.documents.values() if cite.startswith(d.title))
                assert embed["title"] in (doc.organisation, doc.speaker), "grouped by the header"
                assert quote.removesuffix("…") in doc.text, "verbatim"


async def test_compare_named_speakers_says_who_is_silent_and_who_is_unknown(
    settings: BotSettings,  # noqa: F811
) -> None:
    async with running_bot(settings) as fake:
        topic = "military cooperation between Russia and North Korea"
        iid = await fake.slash(
            "compare", [option("topic", topic), option("speakers", "Japan, the US, TASS, Freedonia")]
        )
        body = await _public_answer(fake, iid)
        assert [e["title"] for e in body["embeds"]] == ["Japan", "the US", "TASS"]
        assert "No statement by: Freedonia" in body["content"]
        assert all("TASS" in cite for _, cite in _passages(body["embeds"][2]))


async def test_timeline_is_oldest_first_and_paged_for_whoever_asked_even_after_a_restart(
    settings: BotSettings,  # noqa: F811
    many_speakers: Path,
) -> None:
    async with running_bot(settings) as fake:
        iid = await fake.slash("timeline", [option("topic", "inspecting tankers for ship-to-ship transfers")])
        first = await fake.followup_to(iid, TIMEOUT)
        dates = [e["title"][:10] for e in first.body["embeds"]]
        assert dates == sorted(dates) and len(dates) == 5 and "page 1 of" in first.body["content"]
        other = await fake.click(first.response, "Newer", uid="777")
        assert "Only whoever asked" in (await fake.answer_to(other, TIMEOUT)).body["data"]["content"]
    async with running_bot(settings) as fake:  # the message's buttons still turn its pages
        turn = await fake.click(first.response, "Newer", uid="500")
        second = (await fake.answer_to(turn, TIMEOUT)).body["data"]
        later = [e["title"][:10] for e in second["embeds"]]
        assert "page 2 of" in second["content"] and later == sorted(later) and later[0] >= dates[-1]


async def test_a_watch_posts_new_statements_after_a_reindex_and_survives_a_restart(
    settings: BotSettings,  # noqa: F811
    corpus_dir: Path,
) -> None:
    async with running_bot(settings) as fake:
        iid = await fake.slash(
            "watch", [{"name": "add", "type": 1, "options": [option("topic", "cod fisheries")]}], uid="1", admin=True
        )
        assert "Watching" in (await fake.answer_to(iid, TIMEOUT)).body["data"]["content"]
        refused = await fake.slash("watch", [{"name": "add", "type": 1, "options": [option("topic", "x")]}], uid="5")
        assert "Manage Server" in (await fake.answer_to(refused, TIMEOUT)).body["data"]["content"]
    (corpus_dir / "cod.txt").write_text(
        "---\ntitle: Freedonia on cod\nspeaker: Delegation of Freedonia\nvenue: OSCE Permanent Council\n"
        "date: 2025-02-03\n---\nFreedonia calls for a moratorium on cod fisheries in the northern waters.\n"
    )
    async with running_bot(settings) as fake:  # a restart: the watch is still there
        rebuild = await fake.slash("reindex", [], uid="1", admin=True)
        await fake.followup_to(rebuild, TIMEOUT)
        posted = await fake.wait_for(
            lambda r: r.path == f"/channels/{CHANNEL_ID}/messages" and r.method == "POST",
            TIMEOUT,
        )
        assert "New on a watched topic" in posted.body["content"] and "cod fisheries" in posted.body["content"]
        assert "moratorium on cod" in _unescape(posted.body["embeds"][0]["description"])
        listing = await fake.slash("watch", [{"name": "list", "type": 1, "options": []}])
        assert "cod fisheries" in (await fake.answer_to(listing, TIMEOUT)).body["data"]["content"]


async def test_votes_from_two_members_at_once_and_an_export_after_a_restart(
    settings: BotSettings,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with running_bot(settings) as fake:
        iid = await fake.slash("ask", [option("question", "Hokkaido ICBM launch")], uid="600")
        message = (await fake.followup_to(iid, TIMEOUT)).response
        clicks = await asyncio.gather(*(fake.click(message, "answers it", uid=uid) for uid in ("601", "602")))
        for click in clicks:
            reply = (await fake.answer_to(click, TIMEOUT)).body["data"]
            assert reply["flags"] == 64 and "noted" in reply["content"]
        wrong = await fake.click(message, "wrong passage", uid="603")
        await fake.answer_to(wrong, TIMEOUT)
        evidence = "200 km off the island of Hokkaido"
        submit = await fake.submit_modal(
            wrong,
            {
                "What was wrong?": "the second one is off topic",
                "Words that answer it (empty: nothing does)": evidence,
            },
            message,
            uid="603",
        )
        reply = (await fake.answer_to(submit, TIMEOUT)).body["data"]
        assert reply["flags"] == 64
        # Nothing a member types in the form is ever sent anywhere: not to a channel, not in an
        # interaction reply, not in a follow-up or an edit through the webhook (waited for, since a
        # follow-up would come just after the reply).
        with pytest.raises(TimeoutError):
            await fake.wait_for(lambda r: "off topic" in json.dumps(r.body), 1.0)
    # A restart: a new process reads the same file.
    out = tmp_path / "feedback.jsonl"
    index = str(settings.core.index_dir)
    assert (
        main(["--corpus", str(settings.core.corpus_dir), "--index", index, "feedback", "export", "--out", str(out)])
        == 0
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["feedback"] for r in rows) == ["answers", "answers", "wrong"]
    wrong_row = next(r for r in rows if r["feedback"] == "wrong")
    assert wrong_row["evidence"] == [evidence] and wrong_row["comment"] == "the second one is off topic"
    questions = load_questions(out)
    assert len(questions) == 3 and all(q.question == "Hokkaido ICBM launch" for q in questions)
    assert main(["--corpus", str(settings.core.corpus_dir), "--index", index, "feedback", "stats"]) == 0
    assert "2 of 3 votes say the answer was right" in capsys.readouterr().out
    assert len(State.beside(settings.core.index_dir).export()) == 3


@pytest.mark.model
def test_terminal_compare_and_timeline_print_verbatim_quotes(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--corpus", str(corpus_dir), "--index", str(tmp_path / "ix")]
    assert main([*args, "compare", "Russia's arms purchases from North Korea", "Japan", "TASS", "Freedonia"]) == 0
    out = capsys.readouterr().out
    assert "## Japan" in out and "## TASS" in out and "No statement by: Freedonia" in out
    assert main([*args, "timeline", "ICBM launches"]) == 0
    out = capsys.readouterr().out
    dates = re.findall(r"^(\d{4}-\d{2}-\d{2})  ", out, flags=re.MULTILINE)
    assert dates and dates == sorted(dates)


async def test_a_decline_can_be_confirmed_and_exports_as_unanswerable(
    settings: BotSettings,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with running_bot(settings) as fake:
        iid = await fake.slash("ask", [option("question", "What is a good recipe for miso soup?")], uid="610")
        message = (await fake.followup_to(iid, TIMEOUT)).response
        assert "Nothing in the corpus answers" in message["content"]
        click = await fake.click(message, "right: nothing answers", uid="611")
        assert "noted" in (await fake.answer_to(click, TIMEOUT)).body["data"]["content"]
        disagree = await fake.click(message, "wrong: a statement does", uid="612")
        await fake.answer_to(disagree, TIMEOUT)
        fields = [c for row in fake.modals[disagree]["components"] for c in row["components"]]
        words = next(f for f in fields if f["label"].startswith("Words"))
        assert words["required"], "a member saying a statement answers must say which words"
    (row,) = State.beside(settings.core.index_dir).export()
    assert row["evidence"] == [] and row["feedback"] == "answers" and row["shown"] == []


@pytest.mark.model
def test_nobody_is_quoted_on_a_topic_they_did_not_address(real_engine: Any) -> None:
    from embeddings.answer.analysis import compare, timeline

    assert compare(real_engine, "deforestation in the Amazon").positions == []
    named = compare(real_engine, "deforestation in the Amazon", ["Japan", "TASS"])
    assert [p.speaker for p in named.silent] == ["Japan", "TASS"], "named speakers who say nothing are listed"
    assert all(not p.passages for p in named.silent), "a silent speaker is never quoted"
    assert [len(p.checked) for p in named.silent] == [4, 1], "the silence says how many statements were read"
    assert timeline(real_engine, "the Paris Agreement on climate").entries == []


def test_speakers_named_twice_are_shown_once_and_dates_are_respected(fake_engine: Any) -> None:
    from embeddings.answer.analysis import compare
    from embeddings.answer.search import Filters

    korea = compare(fake_engine, "arms transfers", ["South Korea", "the US", "United States"])
    assert [p.speaker for p in korea.positions] == ["South Korea / the US / United States"], "aliases, shown once"
    dated = compare(fake_engine, "arms transfers", ["the US"], Filters.parse(since="2024"))
    assert dated.out_of_range == ["the US"] and not dated.unknown and not dated.positions


def test_the_speaker_filter_matches_names_and_aliases_not_substrings(fake_engine: Any) -> None:
    from embeddings.answer.search import Filters

    def speakers(name: str) -> set[str]:
        return {d.doc_id for d in fake_engine.corpus.documents.values() if fake_engine.speaker_matches(d, name)}

    assert speakers("the US") == speakers("South Korea") == speakers("ROK") == {"003_98d10b9dfbac6c7a"}
    assert "004_98d5f114bee79a04" not in speakers("US"), "'US' is not inside 'Russian'"
    assert speakers("TASS") == speakers("tass") == {"004_98d5f114bee79a04"}
    assert speakers("the us") == speakers("the US"), "a name typed as a speaker is a name, in any case"
    assert fake_engine.with_names("dprk-russia arms transfers") == "DPRK-Russia arms transfers"
    assert speakers("A") == speakers("I") == speakers("The") == set(), "a name of stop words is not inside every name"
    assert len(speakers("Japan")) == 4
    answer = fake_engine.search("arms transfers", k=3, filters=Filters.parse(speaker="the US"))
    assert answer.results and {r.doc_id for r in answer.results} == {"003_98d10b9dfbac6c7a"}


NESTED_NAMES = ["Sudan", "South Sudan", "Guinea", "Guinea-Bissau", "Equatorial Guinea", "Papua New Guinea"]


def test_a_country_is_not_found_inside_a_longer_country_name(
    corpus_dir: Path, tmp_path: Path, fake_embedder: Any
) -> None:
    from embeddings.answer.analysis import compare
    from embeddings.engine import open_engine

    for n, country in enumerate(NESTED_NAMES):
        (corpus_dir / f"nested{n}.txt").write_text(
            f"---\ntitle: Statement by the President of {country}\nspeaker: A. Person, President ({country})\n"
            f"organisation: Government of {country}\nvenue: General Debate\ndate: 2023-09-2{n}\n---\n"
            f"{country} asks for a binding agreement on the waters of the river and the dam upstream.\n"
        )
    engine = open_engine(corpus_dir, tmp_path / "nested-index", fake_embedder)

    def speakers(name: str) -> list[str]:
        found = [d.organisation for d in engine.corpus.documents.values() if engine.speaker_matches(d, name)]
        return [o.removeprefix("Government of ") for o in found]

    for country in NESTED_NAMES:
        assert speakers(country) == [country], f"{country} names its own statement only"
    assert speakers("Republic of South Sudan") == ["South Sudan"]
    for country in ("South Sudan", "Equatorial Guinea"):
        cands = engine.candidates(f"What did {country} say about the dam upstream?")
        assert {engine.index.chunks[int(c)].doc_id for c in cands.chunk_ids} == {  # type: ignore[union-attr]
            f"nested{NESTED_NAMES.index(country)}"
        }, f"a question asking {country} is answered from its statement alone"
    sudan = compare(engine, "the dam upstream", ["Sudan"])
    assert {r.doc_id for p in sudan.positions for r in p.passages} == {"nested0"}
    assert [d.organisation for p in sudan.positions for d in p.checked] == ["Government of Sudan"]


async def test_a_failure_behind_a_timeline_button_reaches_the_member_as_one_private_line(
    settings: BotSettings,  # noqa: F811
    many_speakers: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with running_bot(settings, expected_errors=["failed"]) as fake:
        iid = await fake.slash("timeline", [option("topic", "inspecting tankers for ship-to-ship transfers")])
        first = await fake.followup_to(iid, TIMEOUT)

        def broken(self: Verbatim, *args: object, **kwargs: object) -> None:
            raise RuntimeError("the index went away")

        monkeypatch.setattr(Verbatim, "timeline", broken)
        turn = await fake.click(first.response, "Newer", uid="500")
        reply = (await fake.answer_to(turn, TIMEOUT)).body["data"]
        assert reply["flags"] == 64 and reply["content"].startswith("Sorry, something went wrong")
        assert "the index went away" not in reply["content"], "the traceback goes to the log, not to the member"
