"""The unmodified bot against the local fake Discord: real HTTP, a real websocket, real JSON."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
import yarl

from bot.app import create_bot
from embeddings.corpus import load_corpus
from embeddings.embedder import HashingEmbedder
from embeddings.settings import Settings
from tests.fake_discord import APP_ID, GUILD_ID, FakeDiscord

TIMEOUT = 10.0


@pytest.fixture
async def discord_env(corpus_dir: Path, tmp_path: Path) -> AsyncIterator[tuple[FakeDiscord, discord.Client]]:
    fake = FakeDiscord()
    await fake.start()
    old_base, old_gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = f"http://127.0.0.1:{fake.port}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws://127.0.0.1:{fake.port}/gateway")
    settings = Settings(
        corpus_dir=corpus_dir,
        index_dir=tmp_path / "ix",
        guild_id=int(GUILD_ID),
        cooldown_seconds=30.0,
        max_question_chars=200,
    )
    bot = create_bot(settings, HashingEmbedder(), guild_ready_timeout=0.05, chunk_guilds_at_startup=False)
    task = asyncio.create_task(bot.start("test-token"))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), TIMEOUT)
        yield fake, bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, TIMEOUT)
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway
        await fake.stop()


def _sent_by_bot(req) -> bool:  # type: ignore[no-untyped-def]
    return req.method in ("POST", "PATCH") and (
        req.path.startswith("/webhooks/") or req.path.startswith("/channels/") or req.path.startswith("/interactions/")
    )


async def test_commands_sync_to_the_guild_at_start(discord_env) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_env
    req = await fake.wait_for(lambda r: r.path == f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands", TIMEOUT)
    names = {c["name"] for c in req.body}
    assert names == {"ask", "source", "sources", "help", "reindex"}
    for command in req.body:
        for option in command.get("options", []):
            assert option.get("description"), f"{command['name']}.{option['name']} has no description"
    assert not any(r.path == f"/applications/{APP_ID}/commands" for r in fake.requests), "no global sync at start"


async def test_ask_defers_then_quotes_verbatim_with_citations(discord_env, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_env
    iid = await fake.slash("ask", [{"name": "question", "type": 3, "value": "Hokkaido ICBM launch"}])
    defer = await fake.wait_for(lambda r: r.path.startswith(f"/interactions/{iid}/"), TIMEOUT)
    assert defer.body["type"] == 5
    follow = await fake.wait_for(lambda r: r.path.startswith(f"/webhooks/{APP_ID}/tok{iid}"), TIMEOUT)
    body = follow.body
    assert body["allowed_mentions"] == {"parse": []}
    assert 1 <= len(body["embeds"]) <= 3
    texts = {d.doc_id: d.text for d in load_corpus(corpus_dir).documents.values()}
    embed = body["embeds"][0]
    assert "001_9a301a089a780dac" in embed["footer"]["text"] or "Delegation of Japan" in embed["footer"]["text"]
    assert "**" in embed["description"]
    shown = embed["description"].removeprefix("> ").replace("**", "").replace("\\", "")
    assert any(" ".join(shown.split()) in " ".join(t.split()) for t in texts.values()), "quote must be verbatim"
    assert body["components"], "a Full text button per source"


async def test_mention_gets_a_reply_with_no_pings(discord_env) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_env
    mid = await fake.say(f"<@{APP_ID}> Yoshimasa Hayashi briefing")
    reply = await fake.wait_for(lambda r: r.path.endswith("/messages") and r.method == "POST", TIMEOUT)
    assert str(reply.body["message_reference"]["message_id"]) == mid
    assert reply.body["allowed_mentions"]["parse"] == []
    assert reply.body["embeds"]


async def test_long_question_and_cooldown_get_friendly_replies(discord_env) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_env
    iid = await fake.slash("ask", [{"name": "question", "type": 3, "value": "x " * 150}])
    req = await fake.wait_for(lambda r: r.path.startswith(f"/interactions/{iid}/"), TIMEOUT)
    assert req.body["type"] == 4 and req.body["data"]["flags"] == 64
    assert "keep it under 200" in req.body["data"]["content"]
    first = await fake.slash("ask", [{"name": "question", "type": 3, "value": "sanctions"}], uid="777")
    await fake.wait_for(lambda r: r.path.startswith(f"/webhooks/{APP_ID}/tok{first}"), TIMEOUT)
    second = await fake.slash("ask", [{"name": "question", "type": 3, "value": "sanctions again"}], uid="777")
    req = await fake.wait_for(lambda r: r.path.startswith(f"/interactions/{second}/"), TIMEOUT)
    assert "please wait" in req.body["data"]["content"]


async def test_unanswerable_question_says_so(discord_env) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_env
    iid = await fake.slash("ask", [{"name": "question", "type": 3, "value": "zzzz qqqq"}])
    follow = await fake.wait_for(lambda r: r.path.startswith(f"/webhooks/{APP_ID}/tok{iid}"), TIMEOUT)
    assert "Nothing in the corpus answers this" in follow.body["content"]
    assert follow.body["allowed_mentions"] == {"parse": []}


async def test_source_autocomplete_is_capped_and_matches_words(discord_env) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_env
    iid = await fake.slash("source", [{"name": "document", "type": 3, "value": "tass tokyo", "focused": True}], kind=4)
    req = await fake.wait_for(lambda r: r.path.startswith(f"/interactions/{iid}/"), TIMEOUT)
    assert req.body["type"] == 8
    choices = req.body["data"]["choices"]
    assert [c["value"] for c in choices] == ["004_98d5f114bee79a04"]


async def test_source_pages_only_for_the_invoker(discord_env) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_env
    iid = await fake.slash(
        "source",
        [
            {"name": "document", "type": 3, "value": "001_9a301a089a780dac"},
            {"name": "paragraph", "type": 4, "value": 9},
        ],
    )
    req = await fake.wait_for(lambda r: r.path.startswith(f"/interactions/{iid}/"), TIMEOUT)
    assert req.body["type"] == 4
    data = req.body["data"]
    assert "**[9]**" in data["embeds"][0]["description"]
    assert data["allowed_mentions"] == {"parse": []}
    buttons = [c for row in data["components"] for c in row["components"]]
    assert [b["label"] for b in buttons] == ["◀ Previous", "Next ▶", "Download .txt"]


async def test_reindex_refused_for_a_plain_member(discord_env) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_env
    iid = await fake.slash("reindex", [])
    req = await fake.wait_for(lambda r: r.path.startswith(f"/interactions/{iid}/"), TIMEOUT)
    assert "Manage Server" in req.body["data"]["content"] and req.body["data"]["flags"] == 64


async def test_reindex_by_admin_reports_changes(discord_env, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    fake, _ = discord_env
    (corpus_dir / "new.txt").write_text(
        "---\ntitle: New\nspeaker: S\nvenue: V\ndate: 2025-01-01\n---\n"
        "A new statement about maritime monitoring of tankers near the coast.\n"
    )
    iid = await fake.slash("reindex", [], uid="1", admin=True)
    follow = await fake.wait_for(lambda r: r.path.startswith(f"/webhooks/{APP_ID}/tok{iid}"), TIMEOUT)
    assert "1 added" in follow.body["content"]
