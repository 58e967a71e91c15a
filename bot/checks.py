"""Who may do what, checked on every call: the checks the extensions share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.formatting import escape

if TYPE_CHECKING:
    from bot.client import VerbatimBot


def can_administer(interaction: discord.Interaction[Any]) -> bool:
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


def hide_from_members(bot: VerbatimBot, name: str) -> None:
    """Hidden from members without Manage Server in Discord's UI (unless an admin role is set, which
    Discord's defaults cannot express); `can_administer` still checks every call."""
    command = bot.tree.get_command(name)
    if isinstance(command, app_commands.Command) and not bot.settings.admin_role:
        command.default_permissions = discord.Permissions(manage_guild=True)
