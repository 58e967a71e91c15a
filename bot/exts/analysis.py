"""For analysts: `/compare` positions side by side, `/timeline` of a topic, and `/watch` a topic so
that new statements on it are posted in the channel after each rebuild."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import VerbatimBot
from bot.exts.admin import can_administer
from bot.formatting import CONTENT_LIMIT, answer_embeds, clip, escape, passage_embeds
from bot.replies import NO_MENTIONS, defer_publicly, follow_up, reply, to_embed
from bot.views import answer_view
from embeddings.answer.analysis import MAX_GROUPS, compare, timeline
from embeddings.answer.search import Filters

Interaction = discord.Interaction[VerbatimBot]
TIMELINE_PAGE = 5
"""Statements per page of a timeline: five quotes with their citations fit one message."""
ANNOUNCED_PER_TOPIC = 3


def _speakers(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").replace(";", ",").split(",") if s.strip()]


async def timeline_page(bot: VerbatimBot, params: dict[str, str], page: int) -> tuple[str, list[discord.Embed], int]:
    """Page `page` of a timeline (content, embeds, page count), computed again from what was asked:
    the same index gives the same pages, before or after a restart."""
    engine = await bot.holder.get()
    filters = Filters.parse(since=params.get("since", ""), until=params.get("until", ""))
    line = await asyncio.to_thread(timeline, engine, params["topic"], params.get("speaker", ""), filters)
    header = f"**Timeline of:** {escape(line.topic)}, oldest first"
    if line.unknown_speaker:
        return f"{header}\nNo statement by {escape(line.unknown_speaker)} (within the dates asked).", [], 0
    if not line.entries:
        return f"{header}\nNo statement in the corpus addresses this.", [], 0
    items = [(f"{doc.date.isoformat()} · {doc.venue}", r) for doc, r in line.entries]
    count = (len(items) + TIMELINE_PAGE - 1) // TIMELINE_PAGE
    page = max(0, min(page, count - 1))
    embeds = passage_embeds(items[page * TIMELINE_PAGE : (page + 1) * TIMELINE_PAGE], engine.corpus, len(header) + 40)
    content = header if count == 1 else f"{header} (page {page + 1} of {count})"
    return clip(content, CONTENT_LIMIT), [to_embed(e) for e in embeds], count


def timeline_view(owner: int, query_id: str, page: int, count: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(TimelineButton("p", owner, max(page - 1, 0), query_id, disabled=page == 0))
    view.add_item(TimelineButton("n", owner, min(page + 1, count - 1), query_id, disabled=page >= count - 1))
    return view


class TimelineButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"vb:tl:(?P<dir>[pn]):(?P<owner>\d+):(?P<page>\d+):(?P<qid>[0-9a-f]{16})",
):
    """Older / Newer through a timeline; only whoever asked turns the pages. The question is kept in
    the state file under the id in the button, so the pages still turn after a restart."""

    def __init__(self, direction: str, owner: int, page: int, query_id: str, disabled: bool = False) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="◀ Older" if direction == "p" else "Newer ▶",
            style=discord.ButtonStyle.secondary,
            custom_id=f"vb:tl:{direction}:{owner}:{page}:{query_id}",
            disabled=disabled,
        )
        super().__init__(button)
        self.owner, self.page, self.query_id = owner, page, query_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TimelineButton:
        return cls(match["dir"], int(match["owner"]), int(match["page"]), match["qid"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # discord.py's signature
        if interaction.user.id != self.owner:
            await reply(interaction, "Only whoever asked turns these pages; run /timeline yourself.", ephemeral=True)
            return
        bot = interaction.client
        params = await asyncio.to_thread(bot.state.query, self.query_id)
        if params is None:
            await reply(interaction, "This timeline is no longer known; run /timeline again.", ephemeral=True)
            return
        content, embeds, count = await timeline_page(bot, params, self.page)
        await interaction.response.edit_message(
            content=content, embeds=embeds, view=timeline_view(self.owner, self.query_id, self.page, count)
        )


class Analysis(commands.Cog):
    def __init__(self, bot: VerbatimBot) -> None:
        self.bot = bot

    @app_commands.command(name="compare", description="Each speaker's position on a topic, quoted side by side")
    @app_commands.describe(
        topic="What to compare, e.g. Russia's arms purchases from North Korea",
        speakers="Speakers or organisations, separated by commas (default: all who address it)",
        since="Only statements on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)",
        until="Only statements on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)",
    )
    async def compare_command(
        self,
        interaction: Interaction,
        topic: str,
        speakers: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        filters = Filters.parse(since=since or "", until=until or "")
        engine = await self.bot.holder.get()
        await defer_publicly(interaction)
        result = await asyncio.to_thread(compare, engine, topic, _speakers(speakers), filters)
        quoted = [(p.speaker, p.result) for p in result.positions if p.result is not None]
        lines = [f"**Positions on:** {escape(result.topic)}"]
        if not quoted:
            lines.append("No statement in the corpus addresses this." if not speakers else "")
        if result.silent:
            lines.append("Say nothing on it in the corpus: " + ", ".join(escape(s) for s in result.silent))
        if result.out_of_range:
            lines.append("No statement within the dates asked by: " + ", ".join(escape(s) for s in result.out_of_range))
        if result.unknown:
            lines.append("No statement by: " + ", ".join(escape(s) for s in result.unknown))
        if result.left_out:
            lines.append(
                f"Not compared (at most {MAX_GROUPS} at once): " + ", ".join(escape(s) for s in result.left_out)
            )
        content = clip("\n".join(line for line in lines if line), CONTENT_LIMIT)
        embeds = passage_embeds([(speaker, r) for speaker, r in quoted], engine.corpus, reserved=len(content))
        await follow_up(
            interaction,
            content=content,
            embeds=[to_embed(e) for e in embeds],
            view=answer_view([(e.url_doc, e.title, e.paragraph) for e in embeds][:5]),
        )

    @app_commands.command(name="timeline", description="The statements on a topic, oldest first, one quote each")
    @app_commands.describe(
        topic="The topic to follow, e.g. ICBM launches",
        speaker="Only this speaker or organisation",
        since="Only statements on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)",
        until="Only statements on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)",
    )
    async def timeline_command(
        self,
        interaction: Interaction,
        topic: str,
        speaker: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        Filters.parse(since=since or "", until=until or "")  # a bad date is refused before anything else
        params = {"topic": topic, "speaker": speaker or "", "since": since or "", "until": until or ""}
        await defer_publicly(interaction)
        content, embeds, count = await timeline_page(self.bot, params, 0)
        if count <= 1:
            await follow_up(interaction, content=content, embeds=embeds)
            return
        query_id = await asyncio.to_thread(self.bot.state.remember_query, params)
        await follow_up(
            interaction, content=content, embeds=embeds, view=timeline_view(interaction.user.id, query_id, 0, count)
        )

    watch = app_commands.Group(
        name="watch", description="Post new statements on a topic in this channel", guild_only=True
    )

    @watch.command(name="add", description="Post new statements on this topic in this channel after each rebuild")
    @app_commands.describe(topic="The topic to watch, e.g. ship-to-ship transfers")
    @app_commands.check(can_administer)
    async def watch_add(self, interaction: Interaction, topic: str) -> None:
        topic = " ".join(topic.split())[:200]
        added = await asyncio.to_thread(
            self.bot.state.add_watch,
            str(interaction.guild_id),
            str(interaction.channel_id),
            topic,
            str(interaction.user.id),
        )
        text = (
            f"Watching **{escape(topic)}** here: new statements on it will be posted after each rebuild."
            if added
            else f"This channel already watches **{escape(topic)}**."
        )
        await reply(interaction, text, ephemeral=True)

    @watch.command(name="list", description="The topics watched in this server")
    async def watch_list(self, interaction: Interaction) -> None:
        watches = await asyncio.to_thread(self.bot.state.watches, str(interaction.guild_id))
        if not watches:
            await reply(interaction, "Nothing is watched yet: `/watch add topic` in a channel.", ephemeral=True)
            return
        lines = [f"`{w.watch_id}` **{escape(w.topic)}** in <#{w.channel_id}>" for w in watches]
        await reply(interaction, clip("\n".join(lines), CONTENT_LIMIT), ephemeral=True)

    @watch.command(name="remove", description="Stop watching a topic (its number is in /watch list)")
    @app_commands.check(can_administer)
    async def watch_remove(self, interaction: Interaction, number: int) -> None:
        removed = await asyncio.to_thread(self.bot.state.remove_watch, str(interaction.guild_id), number)
        await reply(interaction, f"Watch {number} removed." if removed else f"No watch {number} here.", ephemeral=True)


async def announce(bot: VerbatimBot) -> None:
    """Post, in each watching channel, what statements new since the last rebuild say on its topic."""
    engine = await bot.holder.get()
    hashes = {d.doc_id: d.content_hash for d in engine.corpus.documents.values()}
    fresh = await asyncio.to_thread(bot.state.new_documents, hashes)
    if not fresh:
        return
    for watch in await asyncio.to_thread(bot.state.watches):
        filters = Filters(documents=frozenset(fresh))
        answer = await asyncio.to_thread(engine.search, watch.topic, ANNOUNCED_PER_TOPIC, filters)
        if not answer.answered or not answer.results:
            continue
        channel = bot.get_partial_messageable(int(watch.channel_id), guild_id=int(watch.guild_id))
        embeds = answer_embeds(answer, engine.corpus)
        await channel.send(
            content=clip(f"**New on a watched topic:** {escape(watch.topic)}", CONTENT_LIMIT),
            embeds=[to_embed(e) for e in embeds],
            view=answer_view([(e.url_doc, e.title, e.paragraph) for e in embeds]),
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: VerbatimBot) -> None:
    await bot.add_cog(Analysis(bot))
    bot.add_dynamic_items(TimelineButton)
