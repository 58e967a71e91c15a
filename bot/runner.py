"""Starting the bot for real, and the deliberate global command sync."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from bot.app import create_bot
from embeddings.errors import VerbatimError
from embeddings.settings import Settings

log = logging.getLogger(__name__)


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("discord.http").setLevel(logging.WARNING)


def run_bot(settings: Settings) -> int:
    """Connect with the token from the settings; a bad token is one clear line, not a traceback."""
    _configure_logging(settings)
    bot = create_bot(settings)
    try:
        bot.run(settings.discord_token, log_handler=None)
    except discord.LoginFailure:
        raise VerbatimError(
            "Discord refused the token: copy it again from the Developer Portal (Bot → Reset Token)"
        ) from None
    except discord.PrivilegedIntentsRequired:
        raise VerbatimError("Discord refused an intent; Verbatim needs none of the privileged ones") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise VerbatimError(
            f"cannot reach Discord ({exc.__class__.__name__}: {exc}); check the network, "
            "or try the console meanwhile: `verbatim chat`"
        ) from None
    return 0


def sync_commands(settings: Settings, guild_id: int | None = None) -> int:
    """Publish slash commands globally (or to one guild); separate from start-up on purpose."""
    if not settings.discord_token:
        raise VerbatimError("DISCORD_TOKEN is not set (see .env.example)")
    _configure_logging(settings)

    async def go() -> None:
        bot = create_bot(settings, sync_only=True)
        async with bot:
            await bot.login(settings.discord_token)  # runs setup_hook, which installs the commands
            if guild_id:
                guild = discord.Object(id=guild_id)
                bot.tree.copy_global_to(guild=guild)
                synced = await bot.tree.sync(guild=guild)
            else:
                synced = await bot.tree.sync()
            print(f"synced {len(synced)} commands " + (f"to server {guild_id}" if guild_id else "globally"))

    asyncio.run(go())
    return 0
