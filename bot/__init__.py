"""Verbatim's Discord front end: ``bot.create_bot(bot.load_bot_settings())`` builds the bot.

The names are resolved on first use, so that importing ``bot.formatting`` alone (as its tests do)
does not pull in discord.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.client import create_bot
    from bot.settings import BotSettings, load_bot_settings

__all__ = ["BotSettings", "create_bot", "load_bot_settings"]


def __getattr__(name: str) -> Any:
    if name == "create_bot":
        from bot.client import create_bot

        return create_bot
    if name in ("BotSettings", "load_bot_settings"):
        from bot import settings

        return getattr(settings, name)
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
