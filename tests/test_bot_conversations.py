"""Follow-ups in Discord, end to end through the fake: a reply chain, a thread opened by `/ask`, two
members at once in one channel, a restart in the middle, an expired conversation, and the reading
line on every follow-up."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import sqlite3
from typing import Any

import pytest

from bot.settings import BotSettings
from tests.fake_discord import APP_ID, CHANNEL_ID, FakeDiscord, Request
from tests.test_bot_e2e import TIMEOUT, option, running_bot, settings, unescape  # noqa: F401  (fixture)

FIRST = "What did Japan say about the ICBM launch in November 2024?"


@pytest.fixture
def chatty(settings: BotSettings) -> BotSettings:  # noqa: F811
    """A follow-up comes seconds after its answer: no cooldown between a member's questions here."""
    return dataclasses.replace(settings, cooldown_seconds=0.0)


async def _reply_to(fake: FakeDiscord, mid: str, channel: str = CHANNEL_ID) -> Request:
    """The bot's reply to message `mid` (in the channel or thread `channel`)."""
    return await fake.wait_for(
        lambda r: (
            r.path == f"/channels/{channel}/messages"
            and r.method == "POST"
            and str((r.body or {}).get("message_reference", {}).get("message_id")) == mid
        ),
        TIMEOUT,
    )


async def _ask(
    fake: FakeDiscord, text: str, uid: str = "500", reply_to: str | None = None, channel: str = CHANNEL_ID
) -> dict[str, Any]:
    mid = await fake.say(f"<@{APP_ID}> {text}", uid=uid, reply_to=reply_to, channel_id=channel)
    answer = await _reply_to(fake, mid, channel)
    body: dict[str, Any] = answer.body
    return {**body, "id": answer.response["id"]}


def _reading(body: dict[str, Any]) -> str:
    """The "Read as" line under the question, as a reader sees it ("" when there is none)."""
    lines = [unescape(line).strip("*") for line in body["content"].split("\n")]
    return next((line for line in lines if line.startswith("Read as:")), "")


async def test_a_reply_chain_is_read_in_its_context_and_says_how(chatty: BotSettings) -> None:
    async with running_bot(chatty) as fake:
        first = await _ask(fake, FIRST)
        assert _reading(first) == "", "a question that stands on its own is read as written"
        swapped = await _ask(fake, "and the US?", reply_to=first["id"])
        assert _reading(swapped) == "Read as: what did the US say about the ICBM launch in November 2024?"
        assert "**Q:** and the US?" in swapped["content"], "the member's own words stay at the top"
        dated = await _ask(fake, "what about 2023?", reply_to=swapped["id"])
        assert _reading(dated) == "Read as: what did the US say about the ICBM launch in 2023?"
        # the US statement of 2023 is on arms transfers, not the launch: another topic finds it
        topic = await _ask(fake, "and on arms transfers to Russia?", reply_to=dated["id"])
        assert _reading(topic) == "Read as: what did the US say about arms transfers to Russia in 2023?"
        more = await _ask(fake, "more", reply_to=topic["id"])
        assert (
            _reading(more) == "Read as: more passages for “What did the US say about arms transfers to Russia in 2023?”"
        )
        shown = {e["description"] for e in topic["embeds"]}
        assert more["embeds"] and not shown & {e["description"] for e in more["embeds"]}, "the next passages"
        alone = await _ask(fake, "and the US?")
        assert _reading(alone) == "", "a mention that replies to nothing starts afresh"


async def test_a_thread_opened_by_ask_keeps_the_conversation(chatty: BotSettings) -> None:
    async with running_bot(chatty) as fake:
        iid = await fake.slash("ask", [option("question", FIRST), option("thread", True, kind=5)])
        answer = await fake.followup_to(iid, TIMEOUT)
        thread = str(answer.response["id"])
        opened = await fake.wait_for(lambda r: r.path.endswith(f"/messages/{thread}/threads"), TIMEOUT)
        assert opened.body["name"] == FIRST and fake.threads == {thread: FIRST}
        swapped = await _ask(fake, "and TASS?", channel=thread)
        assert _reading(swapped) == "Read as: what did TASS say about the ICBM launch in November 2024?"
        again = await _ask(fake, "and on arms transfers?", channel=thread)
        assert _reading(again) == "Read as: what did TASS say about arms transfers in November 2024?"


async def test_two_members_at_once_in_one_channel_never_mix(chatty: BotSettings) -> None:
    async with running_bot(chatty) as fake:
        one = await _ask(fake, FIRST, uid="601")
        two = await _ask(fake, "What did TASS say about military cooperation with Pyongyang?", uid="602")
        mids = await asyncio.gather(
            fake.say(f"<@{APP_ID}> and the US?", uid="601", reply_to=one["id"]),
            fake.say(f"<@{APP_ID}> what about 2023?", uid="602", reply_to=two["id"]),
        )
        first, second = [(await _reply_to(fake, mid)).body for mid in mids]
        assert _reading(first) == "Read as: what did the US say about the ICBM launch in November 2024?"
        assert _reading(second) == "Read as: what did TASS say about military cooperation with Pyongyang in 2023?"


async def test_a_conversation_survives_a_restart_and_expires(chatty: BotSettings) -> None:
    async with running_bot(chatty) as fake:
        first = await _ask(fake, FIRST)
    async with running_bot(chatty) as fake:  # restarted: the reply chain is in the state store
        swapped = await _ask(fake, "and the US?", reply_to=first["id"])
        assert _reading(swapped).startswith("Read as: what did the US say about the ICBM launch")
    with sqlite3.connect(chatty.core.index_dir / "verbatim.sqlite3") as db:  # two hours pass
        old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat(timespec="seconds")
        assert db.execute("UPDATE conversations SET updated_at = ?", (old,)).rowcount >= 2
    async with running_bot(chatty) as fake:
        late = await _ask(fake, "and the US?", reply_to=swapped["id"])
        assert _reading(late) == "", "past VERBATIM_CONVERSATION_MINUTES a reply starts afresh"


async def test_what_a_member_types_in_a_follow_up_is_escaped(chatty: BotSettings) -> None:
    async with running_bot(chatty) as fake:
        first = await _ask(fake, FIRST)
        tricky = await _ask(
            fake, "and what about **sanctions** <@&910000000000000123> @everyone?", reply_to=first["id"]
        )
        question, reading = tricky["content"].split("\n")[:2]
        for line in (question, reading):
            assert "<@&910000000000000123>" not in line and "@everyone" not in line, line
        assert "\\*\\*sanctions\\*\\*" in question and "\\*\\*sanctions\\*\\*" in reading
        assert reading.startswith("*Read as: what did Japan say about") and reading.endswith("in November 2024?*")


@pytest.mark.parametrize("minutes", ["0", "soon"])
def test_a_bad_conversation_setting_is_named(minutes: str) -> None:
    from embeddings.errors import VerbatimError
    from embeddings.settings import load_settings

    with pytest.raises(VerbatimError, match="VERBATIM_CONVERSATION_MINUTES"):
        load_settings({"VERBATIM_CONVERSATION_MINUTES": minutes})
