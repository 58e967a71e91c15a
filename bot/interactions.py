"""Base classes for everything a member clicks or fills in, with the error path built in.

A callback that raises would otherwise leave Discord's "This interaction failed" under the button,
or a form that never answers; here every persistent button does its work in `act` (the `Guarded`
mixin owns `callback`), and every view and form reports an error through the one handler
(`bot.replies.report_error`): a short private line to the member, the traceback to the log. A test
walks every item, view and form of the bot and checks it inherits these.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.replies import report_error


class Guarded:
    """Put first among the bases of a persistent button (`discord.ui.DynamicItem`, whose state is
    its custom_id): its work is `act`, and an error in it is reported, never left to discord.py's log."""

    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # discord.py's signature
        try:
            await self.act(interaction)
        except Exception as exc:
            await report_error(interaction, exc)

    async def act(self, interaction: discord.Interaction[Any]) -> None:
        raise NotImplementedError


class GuardedView(discord.ui.View):
    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await report_error(interaction, error)


class GuardedModal(discord.ui.Modal):
    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        await report_error(interaction, error)


def persistent_view() -> GuardedView:
    """A view of persistent buttons, posted once and never timing out (its buttons outlive it)."""
    return GuardedView(timeout=None)
