"""Sending, and the one error handler that slash commands, buttons and mentions share.

Everything goes out with ``AllowedMentions.none()``. An error reaches the member as one short line,
privately where Discord allows it; the traceback goes to the log, which never sees the token.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.formatting import EmbedData, escape
from embeddings.types import VerbatimError

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
SORRY = "Sorry, something went wrong on my side; the error has been logged."
AFTER_PUBLIC_DEFERRAL = "I couldn't answer that one; I've sent the reason to whoever asked."


class Refusal(app_commands.AppCommandError):
    """A reply for the member, already formatted and escaped by the bot (unlike engine errors, whose
    text may echo raw user input and is escaped before it is shown)."""


def to_embed(data: EmbedData) -> discord.Embed:
    embed = discord.Embed(title=data.title, description=data.description, colour=discord.Colour.dark_teal())
    if data.footer:
        embed.set_footer(text=data.footer)
    return embed


PUBLIC_DEFERRAL = "verbatim.public_deferral"
"""Kept in the interaction's own `extras` while a public "thinking" message awaits its follow-up."""


async def defer_publicly(interaction: discord.Interaction[Any]) -> None:
    """Acknowledge now (Discord allows three seconds) and answer for everyone to see later."""
    await interaction.response.defer(thinking=True)
    interaction.extras[PUBLIC_DEFERRAL] = True


async def follow_up(interaction: discord.Interaction[Any], **payload: Any) -> discord.WebhookMessage:
    """The public answer to a publicly deferred interaction, as sent (a thread can open on it)."""
    interaction.extras.pop(PUBLIC_DEFERRAL, None)
    return await interaction.followup.send(allowed_mentions=NO_MENTIONS, wait=True, **payload)


async def reply(interaction: discord.Interaction[Any], content: str, *, ephemeral: bool = False) -> None:
    """Answer an interaction whether or not it was acknowledged already.

    After a *public* deferral Discord turns the first follow-up into the public "thinking" message,
    whatever its flags say. A private reply then settles that message first, publicly and without
    detail, and goes out as a second, private follow-up.
    """
    if not interaction.response.is_done():
        await interaction.response.send_message(content, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)
        return
    if interaction.extras.pop(PUBLIC_DEFERRAL, False) and ephemeral:
        await interaction.edit_original_response(content=AFTER_PUBLIC_DEFERRAL, allowed_mentions=NO_MENTIONS)
    await interaction.followup.send(content, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)


def user_message(error: BaseException) -> str | None:
    """What to tell the member about an error they can act on; None for a fault of ours."""
    original = getattr(error, "original", error)
    if isinstance(original, Refusal):
        return str(original)
    if isinstance(original, VerbatimError):
        return escape(str(original))
    if isinstance(original, app_commands.CommandOnCooldown):
        return f"One question at a time: please wait {original.retry_after:.0f} more second(s)."
    if isinstance(original, app_commands.CheckFailure):
        return str(original) or "You can't use this command here."
    return None


async def report_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """The one place an error becomes a reply: for commands, buttons, and (through `report_to_message`)
    mentions."""
    message = user_message(error)
    if message is None:
        where = interaction.command.name if interaction.command else interaction.data
        log.error("interaction %s failed", where, exc_info=error)
        message = SORRY
    try:
        await reply(interaction, message, ephemeral=True)
    except discord.HTTPException as exc:  # e.g. the interaction expired: nobody left to tell
        log.warning("could not tell the member about an error: %s", exc)


async def report_to_message(message: discord.Message, error: BaseException) -> None:
    """The same for a question asked by mention: the reply goes to the message, publicly, since
    that is where the question was asked."""
    text = user_message(error)
    if text is None:
        log.error("answering a mention failed", exc_info=error)
        text = SORRY
    try:
        await message.reply(text, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.warning("could not tell the member about an error: %s", exc)
