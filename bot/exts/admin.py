"""Administration: `/reindex`, for members with Manage Server or the admin role."""

from __future__ import annotations

import time

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import can_administer, hide_from_members
from bot.client import VerbatimBot
from bot.formatting import clip
from bot.replies import NO_MENTIONS, reply

Interaction = discord.Interaction[VerbatimBot]


class Admin(commands.Cog):
    def __init__(self, bot: VerbatimBot) -> None:
        self.bot = bot

    @app_commands.command(name="reindex", description="Rebuild the index after statements were added")
    @app_commands.guild_only()
    @app_commands.check(can_administer)
    async def reindex(self, interaction: Interaction) -> None:
        if self.bot.rebuilding:
            await reply(interaction, "A rebuild is already running; I'll keep answering meanwhile.", ephemeral=True)
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        started = time.perf_counter()
        summary = await self.bot.reindex()
        seconds = time.perf_counter() - started
        await interaction.followup.send(
            clip(f"Index rebuilt in {seconds:.1f} s.\n{summary}", 2000), ephemeral=True, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: VerbatimBot) -> None:
    await bot.add_cog(Admin(bot))
    hide_from_members(bot, "reindex")
