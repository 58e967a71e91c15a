"""Reading the sources: `/source` (a document's full text, paged), `/sources` (the list), `/help`,
and the buttons that open, page and download documents."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import VerbatimBot
from bot.documents import document_choices, resolve_document
from bot.formatting import HELP_TEXT
from bot.replies import reply
from bot.views import DYNAMIC_ITEMS, send_document, send_listing

Interaction = discord.Interaction[VerbatimBot]


class Sources(commands.Cog):
    def __init__(self, bot: VerbatimBot) -> None:
        self.bot = bot

    @app_commands.command(name="source", description="Show a document's full text")
    @app_commands.describe(document="Start typing a title, speaker or date", paragraph="Open at this paragraph")
    async def source(
        self,
        interaction: Interaction,
        document: str,
        paragraph: app_commands.Range[int, 1, 10000] | None = None,
    ) -> None:
        service = self.bot.service
        doc = resolve_document(service.corpus, document)
        paras = await asyncio.to_thread(service.paragraphs, doc.doc_id)
        await send_document(interaction, doc, paras, paragraph, ephemeral=False)

    @source.autocomplete("document")
    async def _document(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return document_choices(self.bot.service, current)

    @app_commands.command(name="sources", description="List the documents in the corpus")
    async def sources(self, interaction: Interaction) -> None:
        await send_listing(interaction, self.bot.service.documents())

    @app_commands.command(name="help", description="How to use Verbatim")
    async def help(self, interaction: Interaction) -> None:
        await reply(interaction, HELP_TEXT, ephemeral=True)


async def setup(bot: VerbatimBot) -> None:
    await bot.add_cog(Sources(bot))
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
