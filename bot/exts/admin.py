"""Administration: `/reindex`, for members with Manage Server or the admin role."""

from __future__ import annotations

import time

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import VerbatimBot
from bot.formatting import clip, escape
from bot.replies import NO_MENTIONS, reply

Interaction = discord.Interaction[VerbatimBot]


def can_administer(interaction: Interaction) -> bool:
    """Manage Server, or the role named in VERBATIM_ADMIN_ROLE; checked on every call, because
    Discord's default permissions are only a hint that server admins may override."""
    settings = interaction.client.settings
    member = interaction.user
    perms = getattr(member, "guild_permissions", None)
    if perms is not None and perms.manage_guild:
        return True
    roles = getattr(member, "roles", [])
    if settings.admin_role and any(r.name == settings.admin_role for r in roles):
        return True
    raise app_commands.CheckFailure(
        "Only members with Manage Server"
        + (f" or the {escape(settings.admin_role)} role" if settings.admin_role else "")
        + " can rebuild the index or add statements."
    )


class Admin(commands.Cog):
    def __init__(self, bot: VerbatimBot) -> None:
        self.bot = bot

    @app_commands.command(name="reindex", description="Rebuild the index after statements were added")
    @app_commands.guild_only()
    @app_commands.check(can_administer)
    async def reindex(self, interaction: Interaction) -> None:
        if self.bot.holder.lock.locked():
            await reply(interaction, "A rebuild is already running; I'll keep answering meanwhile.", ephemeral=True)
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        started = time.perf_counter()
        summary = await self.bot.reindex()
        seconds = time.perf_counter() - started
        await interaction.followup.send(
            clip(f"Index rebuilt in {seconds:.1f} s.\n{summary}", 2000), ephemeral=True, allowed_mentions=NO_MENTIONS
        )


def hide_from_members(bot: VerbatimBot, name: str) -> None:
    """Hidden from members without Manage Server in Discord's UI (unless an admin role is set, which
    Discord's defaults cannot express); `can_administer` still checks every call."""
    command = bot.tree.get_command(name)
    if isinstance(command, app_commands.Command) and not bot.settings.admin_role:
        command.default_permissions = discord.Permissions(manage_guild=True)


async def setup(bot: VerbatimBot) -> None:
    await bot.add_cog(Admin(bot))
    hide_from_members(bot, "reindex")
