"""Starting the bot for real, and the deliberate global command sync: each failure to reach or be
accepted by Discord is one clear line, never a traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import aiohttp
import discord

from bot.client import create_bot
from bot.settings import BotSettings
from embeddings.types import VerbatimError

log = logging.getLogger(__name__)


def _configure_logging(settings: BotSettings) -> None:
    logging.basicConfig(level=settings.core.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("discord.http").setLevel(logging.WARNING)


@contextmanager
def discord_errors(doing: str) -> Iterator[None]:
    """Discord's refusals and an unreachable network, as one line that says what to do."""
    try:
        yield
    except discord.LoginFailure:
        raise VerbatimError(
            "Discord refused the token: copy it again from the Developer Portal (Bot → Reset Token)"
        ) from None
    except discord.PrivilegedIntentsRequired:
        raise VerbatimError("Discord refused an intent; Verbatim needs none of the privileged ones") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise VerbatimError(
            f"cannot reach Discord to {doing} ({exc.__class__.__name__}: {exc}); check the network, "
            "or try the console meanwhile: `verbatim chat`"
        ) from None
    except discord.HTTPException as exc:
        raise VerbatimError(f"Discord refused to {doing}: {exc.status} {exc.text or exc.__class__.__name__}") from None


def run_bot(settings: BotSettings) -> int:
    """Connect with the token from the settings."""
    _configure_logging(settings)
    bot = create_bot(settings)
    with discord_errors("log in"):
        bot.run(settings.discord_token, log_handler=None)
    return 0


def sync_commands(settings: BotSettings, guild_id: int | None = None, out: Callable[[str], None] = print) -> int:
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
            out(f"synced {len(synced)} commands " + (f"to server {guild_id}" if guild_id else "globally"))

    with discord_errors("publish the commands"):
        asyncio.run(go())
    return 0
