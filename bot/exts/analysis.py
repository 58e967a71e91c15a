"""For analysts: `/compare` positions side by side, `/timeline` of a topic, and `/watch` a topic so
that new statements on it are posted in the channel after each rebuild (heard as the client's
`statements_added` event)."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import can_administer
from bot.client import VerbatimBot
from bot.formatting import (
    CONTENT_LIMIT,
    answer_embeds,
    clip,
    comparison_text,
    escape,
    passage_embeds,
    position_embeds,
)
from bot.ids import Direction, TimelinePage
from bot.interactions import Guarded, persistent_view
from bot.replies import NO_MENTIONS, Refusal, defer_publicly, follow_up, reply, to_embed
from bot.views import answer_view
from embeddings.presentation import (
    NOTHING_ADDRESSES,
    no_statement_by,
    positions_title,
    timeline_scope,
    timeline_title,
)
from embeddings.types import Filters

log = logging.getLogger(__name__)
Interaction = discord.Interaction[VerbatimBot]
TIMELINE_PAGE = 5
"""Statements per page of a timeline: five quotes with their citations fit one message."""
ANNOUNCED_PER_TOPIC = 3


def _speakers(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").replace(";", ",").split(",") if s.strip()]


async def timeline_page(bot: VerbatimBot, params: dict[str, str], page: int) -> tuple[str, list[discord.Embed], int]:
    """Page `page` of a timeline (content, embeds, page count), computed again from what was asked:
    the same index gives the same pages, before or after a restart."""
    service = bot.service
    filters = Filters.parse(since=params.get("since", ""), until=params.get("until", ""))
    line = await asyncio.to_thread(service.timeline, params["topic"], params.get("speaker", ""), filters)
    header = escape(timeline_title(line.topic))
    if line.unknown_speaker:
        return f"{header}\n{escape(no_statement_by(line.unknown_speaker))}", [], 0
    if not line.entries:
        return f"{header}\n{NOTHING_ADDRESSES}", [], 0
    items = [(f"{doc.date.isoformat()} · {doc.speaker} · {doc.venue}", r) for doc, r in line.entries]
    count = (len(items) + TIMELINE_PAGE - 1) // TIMELINE_PAGE
    page = max(0, min(page, count - 1))
    embeds = passage_embeds(items[page * TIMELINE_PAGE : (page + 1) * TIMELINE_PAGE], service.corpus, len(header) + 120)
    content = (header if count == 1 else f"{header} (page {page + 1} of {count})") + "\n" + escape(timeline_scope(line))
    return clip(content, CONTENT_LIMIT), [to_embed(e) for e in embeds], count


def timeline_view(owner: int, query_id: str, page: int, count: int) -> discord.ui.View:
    view = persistent_view()
    older = TimelinePage(Direction.PREVIOUS, owner, max(page - 1, 0), query_id)
    newer = TimelinePage(Direction.NEXT, owner, min(page + 1, count - 1), query_id)
    view.add_item(TimelineButton(older, disabled=page == 0))
    view.add_item(TimelineButton(newer, disabled=page >= count - 1))
    return view


class TimelineButton(Guarded, discord.ui.DynamicItem[discord.ui.Button[Any]], template=TimelinePage.PATTERN):
    """Older / Newer through a timeline; only whoever asked turns the pages. The question is kept in
    the state file under the id in the button, so the pages still turn after a restart."""

    def __init__(self, target: TimelinePage, disabled: bool = False) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="◀ Older" if target.direction is Direction.PREVIOUS else "Newer ▶",
            style=discord.ButtonStyle.secondary,
            custom_id=target.encode(),
            disabled=disabled,
        )
        super().__init__(button)
        self.target = target

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TimelineButton:
        return cls(TimelinePage.decode(match))

    async def act(self, interaction: Interaction) -> None:
        target = self.target
        if interaction.user.id != target.owner:
            raise Refusal("Only whoever asked turns these pages; run /timeline yourself.")
        bot = interaction.client
        params = await asyncio.to_thread(bot.service.state.query, target.query_id)
        if params is None:
            raise Refusal("This timeline is no longer known; run /timeline again.")
        content, embeds, count = await timeline_page(bot, params, target.page)
        await interaction.response.edit_message(
            content=content, embeds=embeds, view=timeline_view(target.owner, target.query_id, target.page, count)
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
        service = self.bot.service
        await defer_publicly(interaction)
        result = await asyncio.to_thread(service.compare, topic, _speakers(speakers), filters)
        content = comparison_text(result, positions_title(result.topic), NOTHING_ADDRESSES, named=bool(speakers))
        embeds = position_embeds(result.positions, service.corpus, reserved=len(content))
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
        query_id = await asyncio.to_thread(self.bot.service.state.remember_query, params)
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
            self.bot.service.state.add_watch,
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
        watches = await asyncio.to_thread(self.bot.service.state.watches, str(interaction.guild_id))
        if not watches:
            await reply(interaction, "Nothing is watched yet: `/watch add topic` in a channel.", ephemeral=True)
            return
        lines = [f"`{w.watch_id}` **{escape(w.topic)}** in <#{w.channel_id}>" for w in watches]
        await reply(interaction, clip("\n".join(lines), CONTENT_LIMIT), ephemeral=True)

    @watch.command(name="remove", description="Stop watching a topic (its number is in /watch list)")
    @app_commands.check(can_administer)
    async def watch_remove(self, interaction: Interaction, number: int) -> None:
        removed = await asyncio.to_thread(self.bot.service.state.remove_watch, str(interaction.guild_id), number)
        await reply(interaction, f"Watch {number} removed." if removed else f"No watch {number} here.", ephemeral=True)

    @commands.Cog.listener()
    async def on_statements_added(self) -> None:
        """After a rebuild (and at start-up, for statements added from the terminal meanwhile)."""
        try:
            await announce(self.bot)
        except Exception:  # a failed announcement must never fail a rebuild or the start-up
            log.exception("announcing new statements to watching channels failed")


async def announce(bot: VerbatimBot) -> None:
    """Post, in each watching channel, what statements new since the last rebuild say on its topic."""
    service = bot.service
    fresh = await asyncio.to_thread(service.unannounced)
    if not fresh:
        return
    for watch in await asyncio.to_thread(service.state.watches):
        filters = Filters(documents=frozenset(fresh))
        answer = await asyncio.to_thread(service.ask, watch.topic, ANNOUNCED_PER_TOPIC, filters)
        if not answer.answered or not answer.results:
            continue
        channel = bot.get_partial_messageable(int(watch.channel_id), guild_id=int(watch.guild_id))
        embeds = answer_embeds(answer, service.corpus)
        await channel.send(
            content=clip(f"**New on a watched topic:** {escape(watch.topic)}", CONTENT_LIMIT),
            embeds=[to_embed(e) for e in embeds],
            view=answer_view([(e.url_doc, e.title, e.paragraph) for e in embeds]),
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: VerbatimBot) -> None:
    await bot.add_cog(Analysis(bot))
    bot.add_dynamic_items(TimelineButton)
