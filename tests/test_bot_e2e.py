"""The unmodified bot against the local fake Discord: real HTTP, a real websocket, real JSON.

Every test also proves, through the fixture's teardown, that nothing the bot sent broke Discord's
limits or could ping anyone, that every interaction was answered inside three seconds, and that
nothing was logged at ERROR.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import discord
import numpy as np
import pytest
import yarl

from bot.client import create_bot
from bot.formatting import EMBED_TOTAL_LIMIT, answer_embeds
from bot.replies import AFTER_PUBLIC_DEFERRAL
from bot.runner import run_bot, sync_commands
from bot.settings import BotSettings
from embeddings.answer.search import Answer, Result, SearchEngine
from embeddings.corpus.chunking import ParagraphSpan
from embeddings.corpus.documents import Corpus, Document, load_corpus
from embeddings.errors import VerbatimError
from embeddings.index.embedder import HashingEmbedder
from embeddings.service import WARM_UP_QUESTION
from embeddings.settings import Settings
from tests.fake_discord import APP_ID, CHANNEL_ID, GUILD_ID, MESSAGE_CONTENT_INTENT, SESSION_ID, FakeDiscord

TIMEOUT = 10.0
COMMAND_NAMES = {"ask", "source", "sources", "help", "reindex", "add", "compare", "timeline", "watch"}
TOKEN = "test-token-Zx9"


class ErrorLog(logging.Handler):
    """Collects ERROR records: discord.py logs, rather than raises, most failures inside a bot."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@asynccontextmanager
async def local_discord() -> AsyncIterator[FakeDiscord]:
    """A fake Discord, with discord.py pointed at it (process-wide, so restored afterwards)."""
    fake = FakeDiscord()
    await fake.start()
    old_base, old_gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = f"http://127.0.0.1:{fake.port}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws://127.0.0.1:{fake.port}/gateway")
    try:
        yield fake
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway
        await fake.stop()


@asynccontextmanager
async def running_bot(
    settings: BotSettings,
    embedder: HashingEmbedder | None = None,
    faults: Sequence[tuple[str, str, int]] = (),
    expected_errors: Sequence[str] = (),
) -> AsyncIterator[FakeDiscord]:
    """The bot started against a fresh fake Discord (with ``faults`` armed before it logs in);
    on exit, fails on any breach of Discord's rules and any ERROR not in ``expected_errors``."""
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    async with local_discord() as fake:
        for method, path, status in faults:
            fake.fail_next(method, path, status)
        bot = create_bot(
            settings, embedder or HashingEmbedder(), guild_ready_timeout=0.05, chunk_guilds_at_startup=False
        )
        task = asyncio.create_task(bot.start(TOKEN))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), TIMEOUT)
            yield fake
            assert not fake.problems, fake.problems
            assert not fake.unanswered(), f"interactions never answered: {fake.unanswered()}"
            logged = [r.getMessage() for r in errors.records]
            assert not [m for m in logged if not any(e in m for e in expected_errors)], logged
            assert all(any(e in m for m in logged) for e in expected_errors), f"{expected_errors} not in {logged}"
        finally:
            await bot.close()
            await asyncio.wait_for(task, TIMEOUT)
            logging.getLogger().removeHandler(errors)


@pytest.fixture
def settings(corpus_dir: Path, tmp_path: Path) -> Settings:
    return BotSettings(
        core=Settings(corpus_dir=corpus_dir, index_dir=tmp_path / "ix", max_question_chars=200),
        guild_id=int(GUILD_ID),
        cooldown_seconds=30.0,
    )


@pytest.fixture
async def fake(settings: BotSettings) -> AsyncIterator[FakeDiscord]:
    async with running_bot(settings) as fake:
        yield fake


def option(name: str, value: object, kind: int = 3, focused: bool = False) -> dict[str, object]:
    return {"name": name, "type": kind, "value": value, **({"focused": True} if focused else {})}


def unescape(markdown: str, keep_bold: bool = False) -> str:
    """What a reader sees: block-quote marker, bold and escapes removed, whitespace collapsed."""
    text = markdown.removeprefix("> ").replace("\u200b", "")
    text = text if keep_bold else text.replace("**", "")
    return " ".join(re.sub(r"\\(.)", r"\1", text).split())


def cited_paragraph(footer: str) -> int:
    match = re.search(r"paras?\. (\d+)", footer)
    assert match, footer
    return int(match.group(1))


async def ask(fake: FakeDiscord, question: str, uid: str = "500", *extra: dict[str, object]) -> dict[str, Any]:
    iid = await fake.slash("ask", [option("question", question), *extra], uid=uid)
    body: dict[str, Any] = (await fake.followup_to(iid, TIMEOUT)).body
    return body


# ---- start-up ---------------------------------------------------------------------------------


async def test_starts_without_content_intent_and_syncs_to_the_guild_only(fake: FakeDiscord) -> None:
    identify = await fake.wait_for(lambda r: r.method == "WS" and r.body["op"] == 2, TIMEOUT)
    assert identify.body["d"]["token"] == TOKEN
    assert not identify.body["d"]["intents"] & MESSAGE_CONTENT_INTENT, "the privileged intent must stay off"
    req = await fake.wait_for(lambda r: r.path == f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands", TIMEOUT)
    commands = {c["name"]: c for c in req.body}
    assert set(commands) == COMMAND_NAMES
    for command in req.body:
        assert command["description"]
        for opt in command.get("options", []):
            assert opt.get("description"), f"{command['name']}.{opt['name']} has no description"
    assert int(commands["reindex"]["default_member_permissions"]) == 1 << 5, "hidden from non-admins"
    assert not any(r.path == f"/applications/{APP_ID}/commands" for r in fake.requests), "no global sync at start"


async def test_a_server_that_refuses_commands_gets_a_clear_log_with_the_invite_link(settings: BotSettings) -> None:
    guild_commands = f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"
    with_invite = "Invite it with https://discord.com/oauth2/authorize?client_id=" + APP_ID
    async with running_bot(settings, faults=[("PUT", guild_commands, 403)], expected_errors=[with_invite]) as fake:
        refused = await fake.wait_for(lambda r: r.path == guild_commands, TIMEOUT)
        assert refused.status == 403
        mid = await fake.say(f"<@{APP_ID}> ICBM launch")  # the bot stays up: mentions still work
        reply = await fake.wait_for(lambda r: r.path == f"/channels/{CHANNEL_ID}/messages", TIMEOUT)
        assert str(reply.body["message_reference"]["message_id"]) == mid


def test_verbatim_sync_registers_commands_globally_on_demand(settings: BotSettings, capsys) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> FakeDiscord:
        async with local_discord() as fake:
            token_settings = replace(settings, discord_token=TOKEN)
            await asyncio.wait_for(asyncio.to_thread(sync_commands, token_settings), TIMEOUT)
            return fake

    fake = asyncio.run(scenario())
    (put,) = [r for r in fake.requests if r.method == "PUT"]
    assert put.path == f"/applications/{APP_ID}/commands"
    assert {c["name"] for c in put.body} == COMMAND_NAMES
    assert not settings.core.index_dir.exists(), "publishing commands needs no index"
    assert "synced 9 commands globally" in capsys.readouterr().out


async def test_an_unexpected_failure_is_a_short_reply_and_a_logged_traceback(
    settings: BotSettings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated engine failure")

    caplog.set_level(logging.DEBUG)
    async with running_bot(settings, expected_errors=["interaction ask failed"]) as fake:
        monkeypatch.setattr(SearchEngine, "search", broken)
        iid = await fake.slash("ask", [option("question", "ICBM launch")])
        reply = await fake.followup_to(iid, TIMEOUT)
        assert reply.body["flags"] == 64 and "something went wrong on my side" in reply.body["content"]
        assert "simulated" not in reply.body["content"], "no internals shown to members"
        # /ask deferred publicly, so the "thinking" message is settled in public first (Discord
        # would otherwise show the first follow-up to everyone, whatever its flags).
        (settled,) = [r for r in fake.requests if r.method == "PATCH" and r.path.endswith("/messages/@original")]
        assert settled.body["content"] == AFTER_PUBLIC_DEFERRAL and settled.at <= reply.at
    assert [r for r in caplog.records if r.getMessage() == "interaction ask failed" and r.exc_info]
    assert "simulated engine failure" in caplog.text
    assert TOKEN not in caplog.text, "the token never reaches the log"


# ---- /ask and mentions ------------------------------------------------------------------------


async def test_ask_defers_then_quotes_verbatim_with_checkable_citations(fake: FakeDiscord, corpus_dir: Path) -> None:
    iid = await fake.slash("ask", [option("question", "Hokkaido ICBM launch")])
    defer = await fake.answer_to(iid, TIMEOUT)
    assert defer.body["type"] == 5, "deferred before searching"
    body = (await fake.followup_to(iid, TIMEOUT)).body
    assert 1 <= len(body["embeds"]) <= 3
    corpus = load_corpus(corpus_dir)
    by_title = {d.title: d for d in corpus.documents.values()}
    for embed in body["embeds"]:
        title = embed["title"].split(". ", 1)[1]
        doc = by_title[title]
        assert embed["footer"]["text"].startswith(f"{doc.title}, {doc.speaker}, {doc.venue}")
        assert re.search(r"\*\*.+\*\*", embed["description"]), "the answering sentence is in bold"
        assert unescape(embed["description"]) in " ".join(doc.text.split()), "the quote must be verbatim"
    assert "Delegation of Japan" in body["embeds"][0]["footer"]["text"]
    labels = [c["label"] for row in body["components"] for c in row["components"]]
    assert labels[-2:] == ["answers it", "wrong passage"], "every answer can be voted on"
    assert labels[:-2] and all(label.startswith("Full text") for label in labels[:-2])


async def test_full_text_button_opens_the_cited_paragraph_for_the_clicker_only(fake: FakeDiscord) -> None:
    iid = await fake.slash("ask", [option("question", "Hokkaido ICBM launch")])
    follow = await fake.followup_to(iid, TIMEOUT)
    paragraph = cited_paragraph(follow.body["embeds"][0]["footer"]["text"])
    click = await fake.click(follow.message, "Full text", uid="600")
    opened = await fake.answer_to(click, TIMEOUT)
    assert opened.body["type"] == 4 and opened.body["data"]["flags"] == 64, "only the clicker sees it"
    assert f"**[{paragraph}]**" in opened.body["data"]["embeds"][0]["description"]


async def test_the_console_gives_the_same_answer(fake: FakeDiscord, run) -> None:  # type: ignore[no-untyped-def]
    question = "What did Japan say about the ICBM launch?"
    body = await ask(fake, question)
    code, out, _ = run("chat", stdin=question + "\n")
    console = " ".join(out.split())
    assert code == 0 and body["embeds"]
    for n, embed in enumerate(body["embeds"], 1):
        assert f"[{n}] “{unescape(embed['description'], keep_bold=True)}”" in console
        assert embed["footer"]["text"] in console


async def test_mention_gets_a_reply_without_the_content_intent(fake: FakeDiscord) -> None:
    await fake.say("Yoshimasa Hayashi briefing", mention_bot=False)
    mid = await fake.say(f"<@{APP_ID}>   Yoshimasa Hayashi  briefing")
    reply = await fake.wait_for(lambda r: r.path == f"/channels/{CHANNEL_ID}/messages", TIMEOUT)
    assert reply.body["content"] == "**Q:** Yoshimasa Hayashi briefing", "the removed mention leaves no spaces"
    typing = [r for r in fake.requests if r.path == f"/channels/{CHANNEL_ID}/typing"]
    assert typing and typing[0].at <= reply.at, "the member sees that an answer is coming"
    assert str(reply.body["message_reference"]["message_id"]) == mid, "a reply to the mention, and only to it"
    assert reply.body["allowed_mentions"] == {"parse": []}
    assert reply.body["embeds"]
    assert sum(r.path == f"/channels/{CHANNEL_ID}/messages" for r in fake.requests) == 1


async def test_echoed_question_cannot_ping_or_break_markdown(fake: FakeDiscord) -> None:
    body = await ask(fake, "@everyone **sanctions** `DPRK` <@123456789012345678>")
    content = str(body["content"])
    assert "@everyone" not in content and "@\u200beveryone" in content
    assert "\\*\\*sanctions\\*\\*" in content and "\\`DPRK\\`" in content
    assert body["allowed_mentions"] == {"parse": []}


async def test_unanswerable_question_says_so_and_suggests_the_corpus(fake: FakeDiscord) -> None:
    body = await ask(fake, "zzzz qqqq")
    assert "Nothing in the corpus answers this" in str(body["content"])
    assert "/sources" in str(body["content"])
    assert not body.get("embeds")


async def test_a_decline_names_what_the_corpus_lacks_escaped(fake: FakeDiscord) -> None:
    body = await ask(fake, "What did Zork__Quux say about zzzz qqqq?")
    content = str(body["content"])
    assert "Nothing in the corpus answers this: no statement mentions Zork\\_\\_Quux." in content, content
    assert body["allowed_mentions"] == {"parse": []}


async def test_filters_are_applied_and_bad_dates_explained(fake: FakeDiscord) -> None:
    body = await ask(fake, "ICBM launch", "500", option("since", "2030"))
    assert "No document matches those filters" in str(body["content"])
    iid = await fake.slash("ask", [option("question", "ICBM launch"), option("until", "last week")], uid="501")
    refused = await fake.answer_to(iid, TIMEOUT)
    assert refused.body["data"]["flags"] == 64 and "is not a date" in refused.body["data"]["content"]
    body = await ask(fake, "cooperation with Pyongyang", "501", option("document", "tass tokyo"))  # no cooldown spent
    assert all("TASS" in e["footer"]["text"] for e in body["embeds"])


async def test_long_question_and_cooldown_get_friendly_replies(fake: FakeDiscord) -> None:
    iid = await fake.slash("ask", [option("question", "x " * 150)])
    req = await fake.answer_to(iid, TIMEOUT)
    assert req.body["type"] == 4 and req.body["data"]["flags"] == 64
    assert "keep it to 200 at most" in req.body["data"]["content"]
    await ask(fake, "sanctions", uid="777")
    second = await fake.slash("ask", [option("question", "sanctions again")], uid="777")
    req = await fake.answer_to(second, TIMEOUT)
    assert req.body["data"]["flags"] == 64 and "please wait" in req.body["data"]["content"]


async def test_channel_allow_list(settings: BotSettings) -> None:
    async with running_bot(replace(settings, allowed_channels=frozenset({42}))) as fake:
        for name, options in [("ask", [option("question", "ICBM launch")]), ("source", [option("document", "tass")])]:
            iid = await fake.slash(name, options)
            req = await fake.answer_to(iid, TIMEOUT)
            assert req.body["data"]["flags"] == 64 and req.body["data"]["content"] == "I only answer in <#42>."
        await fake.say(f"<@{APP_ID}> ICBM launch")
        help_id = await fake.slash("help", [])
        await fake.answer_to(help_id, TIMEOUT)  # events are handled in order: the mention came first
        assert not any(r.path.startswith("/channels/") for r in fake.requests), "silent outside the allow-list"


# ---- /source, /sources, /help -----------------------------------------------------------------


async def test_source_autocomplete_is_capped_and_matches_words(fake: FakeDiscord) -> None:
    iid = await fake.slash("source", [option("document", "tass tokyo", focused=True)], kind=4)
    req = await fake.answer_to(iid, TIMEOUT)
    assert req.body["type"] == 8
    assert [c["value"] for c in req.body["data"]["choices"]] == ["004_98d5f114bee79a04"]
    iid = await fake.slash("source", [option("document", "", focused=True)], kind=4)
    choices = (await fake.answer_to(iid, TIMEOUT)).body["data"]["choices"]
    assert 1 <= len(choices) <= 25 and all(len(c["name"]) <= 100 for c in choices)


async def test_source_pages_turn_for_the_invoker_and_refuse_a_stranger(fake: FakeDiscord, corpus_dir: Path) -> None:
    iid = await fake.slash("source", [option("document", "001_9a301a089a780dac"), option("paragraph", 9, kind=4)])
    opened = await fake.answer_to(iid, TIMEOUT)
    assert opened.body["type"] == 4 and not opened.body["data"].get("flags")
    embed = opened.body["data"]["embeds"][0]
    assert "**[9]**" in embed["description"]
    first_page = int(re.search(r"page (\d+)/(\d+)", embed["footer"]["text"]).group(1))  # type: ignore[union-attr]
    message = opened.message

    stranger = await fake.click(message, "Next", uid="501")
    refused = await fake.answer_to(stranger, TIMEOUT)
    assert refused.body["type"] == 4 and refused.body["data"]["flags"] == 64
    assert "belong to whoever opened" in refused.body["data"]["content"]

    owner = await fake.click(message, "Next", uid="500")
    turned = await fake.answer_to(owner, TIMEOUT)
    assert turned.body["type"] == 7, "the page is edited in place"
    assert f"page {first_page + 1}/" in turned.body["data"]["embeds"][0]["footer"]["text"]

    download = await fake.click(message, "Download", uid="500")
    sent = await fake.answer_to(download, TIMEOUT)
    (file,) = sent.body["files"]
    assert file["filename"] == "001_9a301a089a780dac.txt"
    assert file["content"].decode() == load_corpus(corpus_dir).documents["001_9a301a089a780dac"].text


async def test_source_by_typed_words_and_a_helpful_refusal(fake: FakeDiscord) -> None:
    iid = await fake.slash("source", [option("document", "tass tokyo")])
    assert "TASS" in (await fake.answer_to(iid, TIMEOUT)).body["data"]["embeds"][0]["footer"]["text"]
    iid = await fake.slash("source", [option("document", "../../etc/passwd")])
    refused = await fake.answer_to(iid, TIMEOUT)
    assert refused.body["data"]["flags"] == 64 and "No document matches" in refused.body["data"]["content"]
    assert "root:" not in refused.body["data"]["content"]


async def test_sources_and_help(fake: FakeDiscord) -> None:
    iid = await fake.slash("sources", [])
    listing = (await fake.answer_to(iid, TIMEOUT)).body["data"]
    assert listing["flags"] == 64 and listing["embeds"][0]["title"] == "5 documents"
    assert "004_98d5f114bee79a04" in listing["embeds"][0]["description"]
    iid = await fake.slash("help", [])
    assert "/ask" in (await fake.answer_to(iid, TIMEOUT)).body["data"]["content"]


async def test_everything_fits_discord_limits_with_huge_titles_and_paragraphs(
    settings: BotSettings, corpus_dir: Path
) -> None:
    title = "Joint statement on the comprehensive monitoring of maritime transfers " * 6
    sentence = "The observers recorded ship to ship transfers of refined petroleum near the coast. "
    (corpus_dir / "huge.txt").write_text(
        f"---\ntitle: {title.strip()}\nspeaker: {'Spokesperson ' * 30}\nvenue: V\ndate: 2025-02-01\n---\n"
        + sentence * 120
        + "\n"
    )
    for n in range(60):
        (corpus_dir / f"extra{n:02}.txt").write_text(
            f"---\ntitle: {title[: 40 + n]}\nspeaker: S{n}\nvenue: V\ndate: 2024-01-{n % 28 + 1:02}\n---\nText {n}.\n"
        )
    async with running_bot(settings) as fake:
        body = await ask(fake, "ship to ship transfers of refined petroleum")
        assert body["embeds"], "the huge document answers"
        footer = body["embeds"][0]["footer"]["text"]
        assert footer.endswith("1 February 2025, para. 1"), "title and speaker are shortened, never the locators"
        assert len(footer) <= 400
        iid = await fake.slash("source", [option("document", "huge")])
        opened = await fake.answer_to(iid, TIMEOUT)
        assert "page 1/" in opened.body["data"]["embeds"][0]["footer"]["text"]
        iid = await fake.slash("sources", [])
        listing = await fake.answer_to(iid, TIMEOUT)
        assert listing.body["data"]["embeds"][0]["title"] == "66 documents"
        turned = await fake.answer_to(await fake.click(listing.message, "Next"), TIMEOUT)
        assert "page 2/" in turned.body["data"]["embeds"][0]["footer"]["text"]
    # running_bot's exit asserted that Discord accepted every message (no limit broken).


async def test_buttons_keep_working_after_a_restart(settings: BotSettings, corpus_dir: Path) -> None:
    long_id = "statement-with-a-very-long-identifier-" + "x" * 80
    (corpus_dir / "long.txt").write_text(
        f"---\nid: {long_id}\ntitle: Long id\nspeaker: S\nvenue: V\ndate: 2025-03-01\n---\n"
        + "\n\n".join(f"Paragraph {n} on the monitoring of tankers. " * 30 for n in range(1, 9))
        + "\n"
    )
    async with running_bot(settings) as fake:
        answer = (await fake.followup_to(await fake.slash("ask", [option("question", "ICBM launch")]), TIMEOUT)).message
        opened = (await fake.answer_to(await fake.slash("source", [option("document", long_id)]), TIMEOUT)).message
    async with running_bot(settings) as fake:  # a new process: nothing of the old views in memory
        shown = await fake.answer_to(await fake.click(answer, "Full text", uid="600"), TIMEOUT)
        assert shown.body["type"] == 4 and shown.body["data"]["flags"] == 64
        turned = await fake.answer_to(await fake.click(opened, "Next", uid="500"), TIMEOUT)
        assert turned.body["type"] == 7 and "page 2/" in turned.body["data"]["embeds"][0]["footer"]["text"]
        sent = await fake.answer_to(await fake.click(opened, "Download", uid="501"), TIMEOUT)
        assert sent.body["files"][0]["filename"] == f"{long_id}.txt", "anyone may download; ids too long are hashed"


async def test_a_button_for_a_removed_document_says_so(settings: BotSettings, corpus_dir: Path) -> None:
    async with running_bot(settings) as fake:
        iid = await fake.slash("source", [option("document", "004_98d5f114bee79a04")])
        opened = (await fake.answer_to(iid, TIMEOUT)).message
        next(corpus_dir.glob("004_*.txt")).unlink()
        rebuild = await fake.slash("reindex", [], uid="1", admin=True)
        assert "1 removed" in (await fake.followup_to(rebuild, TIMEOUT)).body["content"]
        gone = await fake.answer_to(await fake.click(opened, "Download"), TIMEOUT)
        assert gone.body["data"]["flags"] == 64 and "no longer in the corpus" in gone.body["data"]["content"]


# ---- /reindex ---------------------------------------------------------------------------------


async def test_reindex_refused_for_a_plain_member(fake: FakeDiscord) -> None:
    iid = await fake.slash("reindex", [])
    req = await fake.answer_to(iid, TIMEOUT)
    assert "Manage Server" in req.body["data"]["content"] and req.body["data"]["flags"] == 64


class GatedEmbedder(HashingEmbedder):
    """Holds any encode that contains ``marker`` until the test opens the gate."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker
        self.entered = threading.Event()
        self.gate = threading.Event()

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if any(self.marker in t for t in texts):
            self.entered.set()
            if not self.gate.wait(TIMEOUT):
                raise TimeoutError("the test never opened the gate")
        return super().encode(texts, progress=progress)


async def test_reindex_by_admin_while_questions_keep_being_answered(settings: BotSettings, corpus_dir: Path) -> None:
    embedder = GatedEmbedder(marker="GATEKEEPER")
    async with running_bot(settings, embedder) as fake:
        (corpus_dir / "new.txt").write_text(
            "---\ntitle: Zebrafish report\nspeaker: S\nvenue: V\ndate: 2025-01-01\n---\n"
            "The zebrafish monitoring programme tracks tankers near the coast. GATEKEEPER\n"
        )
        (corpus_dir / "broken_file.txt").write_text("A statement someone forgot to give a header.\n")
        try:
            rebuild = await fake.slash("reindex", [], uid="1", admin=True)
            assert (await fake.answer_to(rebuild, TIMEOUT)).body["type"] == 5
            assert await asyncio.to_thread(embedder.entered.wait, TIMEOUT), "the rebuild never started embedding"

            during = await ask(fake, "Hokkaido ICBM launch", uid="601")
            assert during["embeds"], "answered from the old index while the rebuild runs"
            assert all("Zebrafish" not in e["title"] for e in during["embeds"])
            again = await fake.slash("reindex", [], uid="1", admin=True)
            assert "already running" in (await fake.answer_to(again, TIMEOUT)).body["data"]["content"]
            assert not any(r.path.startswith(f"/webhooks/{APP_ID}/tok{rebuild}") for r in fake.requests)
        finally:
            embedder.gate.set()
        report = await fake.followup_to(rebuild, TIMEOUT)
        content = report.body["content"]
        assert "1 added" in content and report.body["flags"] == 64
        assert "skipped broken\\_file.txt:1:" in content, "a bad file is named, escaped, and the rest indexed"
        after = await ask(fake, "zebrafish monitoring programme", uid="602")
        assert "Zebrafish report" in after["embeds"][0]["title"]


# ---- Discord misbehaving ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "via"),
    [(f"/channels/{CHANNEL_ID}/messages", "mention"), (f"/webhooks/{APP_ID}/", "ask")],
    ids=["bot-http", "webhook"],
)
async def test_429_retry_after_is_honoured(fake: FakeDiscord, path: str, via: str) -> None:
    fake.fail_next("POST", path, 429, retry_after=0.6)
    if via == "mention":
        await fake.say(f"<@{APP_ID}> ICBM launch")
    else:
        await fake.slash("ask", [option("question", "ICBM launch")])
    ok = await fake.wait_for(lambda r: r.path.startswith(path) and r.method == "POST" and r.status == 200, TIMEOUT)
    limited = [r for r in fake.requests if r.path.startswith(path) and r.status == 429]
    assert len(limited) == 1
    assert ok.at - limited[0].at >= 0.6, "retried before retry-after had passed"
    assert ok.body["embeds"]


async def test_a_5xx_is_retried(fake: FakeDiscord) -> None:
    fake.fail_next("POST", f"/webhooks/{APP_ID}/", 502)
    body = await ask(fake, "ICBM launch")
    assert body["embeds"]
    assert [r.status for r in fake.requests if r.path.startswith(f"/webhooks/{APP_ID}/")] == [502, 200]


async def test_gateway_disconnect_is_resumed_and_missed_events_replayed(fake: FakeDiscord) -> None:
    await fake.disconnect(code=4000)
    missed = await fake.slash("help", [])  # sent while the bot is away: replayed after RESUME
    resume = await fake.wait_for(lambda r: r.method == "WS" and r.body["op"] == 6, TIMEOUT)
    assert resume.path == "/resume", "resumes go to READY's resume_gateway_url"
    assert resume.body["d"]["session_id"] == SESSION_ID and resume.body["d"]["seq"] >= 2
    assert (await fake.answer_to(missed, TIMEOUT)).body["type"] == 4
    body = await ask(fake, "ICBM launch")
    assert body["embeds"]
    assert sum(r.method == "WS" and r.body["op"] == 2 for r in fake.requests) == 1, "resumed, not re-identified"


def test_an_unreachable_discord_is_one_clear_error(settings: BotSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", "http://127.0.0.1:9/api/v10")  # nothing listens there
    with pytest.raises(VerbatimError, match="cannot reach Discord") as error:
        run_bot(replace(settings, discord_token=TOKEN))
    assert TOKEN not in str(error.value)


async def test_the_model_is_warm_before_the_bot_says_it_is_ready(settings: BotSettings) -> None:
    class Recording(HashingEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.questions: list[str] = []

        def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
            if len(texts) == 1:
                self.questions.append(texts[0])
            return super().encode(texts)

    embedder = Recording()
    async with running_bot(settings, embedder):
        assert embedder.questions == [WARM_UP_QUESTION], "one question answered before any member asks"


def test_verbatim_sync_with_discord_unreachable_is_one_clear_error(
    settings: BotSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", "http://127.0.0.1:9/api/v10")  # nothing listens there
    with pytest.raises(VerbatimError, match="cannot reach Discord to publish the commands"):
        sync_commands(replace(settings, discord_token=TOKEN))


def test_three_answers_never_exceed_the_embed_total() -> None:
    quote = ("A long sentence of a statement that goes on and on about sanctions. " * 40).strip()
    doc = Document("d" * 100, "T" * 500, "S" * 500, "V" * 500, dt.date(2024, 1, 2), quote, "d.txt", symbol="S/2024/1")
    corpus = Corpus(Path("."), {doc.doc_id: doc}, [])
    results = [
        Result(doc.doc_id, doc.title, "c", ParagraphSpan(n, n), quote, (0, 80), 0, len(quote), 1.0) for n in (1, 2, 3)
    ]
    embeds = answer_embeds(Answer("q", True, results), corpus)
    assert sum(e.size() for e in embeds) <= EMBED_TOTAL_LIMIT
    assert all(e.footer.endswith(f"S/2024/1, para. {n}") for n, e in enumerate(embeds, 1))
