"""Verbatim's Discord front end: ``bot.create_bot(bot.load_settings())`` builds the bot.

The names are resolved on first use, so that importing ``bot.formatting`` alone (as its tests do)
does not pull in discord.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.app import create_bot
    from embeddings.settings import Settings, load_settings

__all__ = ["Settings", "create_bot", "load_settings"]


def __getattr__(name: str) -> Any:
    if name == "create_bot":
        from bot.app import create_bot

        return create_bot
    if name in ("Settings", "load_settings"):
        from embeddings import settings

        return getattr(settings, name)
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
