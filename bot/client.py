"""The bot itself: start-up, command sync, the channel allow-list and the shared question cooldown.
What members can do lives in the extensions under `bot/exts/` (asking, sources, administration,
adding, analysis), which never import each other: they share the service (`bot.service`, the
core's one surface) and hear about new statements through the `statements_added` event.

Everything it sends goes out with ``AllowedMentions.none()`` (set on the client, and again on each
send).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.formatting import escape
from bot.replies import NO_MENTIONS, report_error
from bot.settings import BotSettings
from embeddings.service import Verbatim
from embeddings.types import Embedder

log = logging.getLogger(__name__)
REQUIRED_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,  # answers are embeds
    attach_files=True,  # the .txt download
    read_message_history=True,  # Discord requires it to reply to a mention
)
SCOPES = ("bot", "applications.commands")
EXTENSIONS = ("bot.exts.asking", "bot.exts.sources", "bot.exts.admin", "bot.exts.adding", "bot.exts.analysis")


def invite_url(application_id: int) -> str:
    """The link that adds the bot to a server with exactly the permissions it uses."""
    return discord.utils.oauth_url(application_id, permissions=REQUIRED_PERMISSIONS, scopes=SCOPES)


class VerbatimTree(app_commands.CommandTree["VerbatimBot"]):
    """Applies the channel allow-list to every slash command, not only to questions: `/source`
    posts a whole document, which the allow-list is there to keep out of other channels."""

    async def interaction_check(self, interaction: discord.Interaction[VerbatimBot], /) -> bool:
        allowed = interaction.client.settings.allowed_channels
        if not allowed or interaction.channel_id in allowed or interaction.type is discord.InteractionType.autocomplete:
            return True
        where = ", ".join(f"<#{c}>" for c in sorted(allowed))
        await interaction.response.send_message(
            f"I only answer in {where}.", ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        return False


class VerbatimBot(commands.Bot):
    def __init__(
        self, settings: BotSettings, embedder: Embedder | None = None, *, sync_only: bool = False, **options: Any
    ) -> None:
        # Verbatim never joins voice: discord.py's warnings about missing voice libraries are noise.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.default()  # no privileged message-content intent: mentions carry content
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            tree_cls=VerbatimTree,
            **options,
        )
        self.settings = settings
        # Rebuilds run the model on one core, so questions (on ONNX Runtime) keep the other.
        self.service = Verbatim(settings.core, embedder, rebuild_threads=1)
        self._rebuilding = asyncio.Lock()
        self.question_cooldown: commands.CooldownMapping[int] = commands.CooldownMapping(
            commands.Cooldown(1, settings.cooldown_seconds), lambda user_id: user_id
        )
        """One question per member per period, shared by /ask and mentions."""
        self.sync_only = sync_only
        """Log in only to publish the commands (`verbatim sync`): no index, no guild sync."""
        self._background: set[asyncio.Task[object]] = set()
        self._stop_listening = threading.Event()
        self._listener: threading.Thread | None = None
        self._catching_up = False
        self._published_again = False

    def pending(self) -> bool:
        return bool(self._background)

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait (at most `timeout`) for the background work started so far."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout)

    def in_background(self, work: Coroutine[Any, Any, object]) -> None:
        """Run `work` without waiting for it, keeping a reference until it ends and logging a failure."""
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(work)
        self._background.add(task)

        def done(finished: asyncio.Task[object]) -> None:
            self._background.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("background work failed", exc_info=finished.exception())

        task.add_done_callback(done)

    @property
    def rebuilding(self) -> bool:
        return self._rebuilding.locked()

    async def reindex(self) -> str:
        """Rebuild (questions keep being answered meanwhile from the previous build), then let the
        extensions know (`statements_added`, heard by the watches). The summary, escaped."""
        async with self._rebuilding:
            done = await asyncio.to_thread(self.service.reindex)
        self.dispatch("statements_added")
        lines = [escape(done.report.summary())]
        lines += [f"skipped {escape(str(issue))}" for issue in done.issues[:10]]
        if len(done.issues) > 10:
            lines.append(f"… and {len(done.issues) - 10} more files skipped; `verbatim index` lists them all.")
        return "\n".join(lines)

    def _statement_published(self, path: str) -> None:
        """From the listener thread: another process (or this one) published a statement."""
        log.info("statement published by a process sharing the store: %s", path)
        asyncio.run_coroutine_threadsafe(self._catch_up(), self.loop)

    async def _catch_up(self) -> None:
        """Sync and rebuild after statements published elsewhere, once for a burst of them: the new
        build answers within seconds, and the watches hear of it as after `/reindex`."""
        if self._catching_up:
            self._published_again = True
            return
        self._catching_up = True
        try:
            while True:
                self._published_again = False
                try:
                    await self.reindex()
                except Exception:
                    log.exception("rebuilding after a published statement failed; the previous build still answers")
                if not self._published_again:
                    break
        finally:
            self._catching_up = False

    def retry_after(self, user_id: int) -> float:
        """Seconds this member must still wait, or 0 (and the question counted)."""
        bucket = self.question_cooldown.get_bucket(user_id)
        return (bucket.update_rate_limit() or 0.0) if bucket is not None else 0.0

    async def setup_hook(self) -> None:
        for name in EXTENSIONS:
            await self.load_extension(name)
        self.tree.error(self.on_app_command_error)
        if self.sync_only:
            return
        # The model loads while the gateway connects, so the first question is answered at once.
        await asyncio.to_thread(self.service.warm_up)
        log.info("engine ready: %d documents", len(self.service.corpus))
        self.dispatch("statements_added")  # statements added from the terminal while it was down
        if self.service.state.shares_statements:  # several processes: hear what the others add
            listening = threading.Event()
            self._listener = threading.Thread(
                target=self.service.listen_for_statements,
                args=(self._statement_published, self._stop_listening, listening),
                name="verbatim-statements",
                daemon=True,
            )
            self._listener.start()
            # Ready means listening: a statement published from now on is heard.
            if not await asyncio.to_thread(listening.wait, 10.0):
                log.warning("not yet listening for statements published elsewhere; still trying in the background")
        invite = invite_url(self.application_id) if self.application_id else "(unknown application)"
        log.info("invite link: %s", invite)
        if self.settings.guild_id:
            guild = discord.Object(id=self.settings.guild_id)
            self.tree.copy_global_to(guild=guild)
            try:
                await self.tree.sync(guild=guild)
            except discord.Forbidden:
                log.error(
                    "cannot register slash commands in server %s (DISCORD_GUILD_ID): the bot is not in it, "
                    "or was invited without the applications.commands scope. Invite it with %s",
                    self.settings.guild_id,
                    invite,
                )
            else:
                log.info("slash commands synced to server %s", self.settings.guild_id)
        else:
            log.warning(
                "DISCORD_GUILD_ID is not set: slash commands appear only after `verbatim sync` registers them "
                "globally; mentions work now"
            )

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: a mention is a question, answered by the asking extension's listener."""

    async def close(self) -> None:
        self._stop_listening.set()
        if self._listener is not None:
            await asyncio.to_thread(self._listener.join, 5.0)
        await self.settle()  # answers' records still being written are not lost at shutdown
        await super().close()

    async def on_ready(self) -> None:
        log.info("logged in as %s, in %d server(s)", self.user, len(self.guilds))

    async def on_app_command_error(
        self, interaction: discord.Interaction[VerbatimBot], error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


class ShardedVerbatimBot(VerbatimBot, commands.AutoShardedBot):
    """The same bot running a range of shards (`VERBATIM_SHARD_IDS` of `VERBATIM_SHARD_COUNT`), so
    that several processes share one large community; they share state through PostgreSQL."""


def create_bot(
    settings: BotSettings, embedder: Embedder | None = None, *, sync_only: bool = False, **options: Any
) -> VerbatimBot:
    """The bot, ready for ``start(token)``; tests pass a fake embedder and small timeouts, and
    ``options`` go to discord.py's ``Bot``. With shards configured, the sharded bot."""
    if settings.shard_count is not None:
        shards = {"shard_count": settings.shard_count, "shard_ids": list(settings.shard_ids) or None}
        return ShardedVerbatimBot(settings, embedder, sync_only=sync_only, **shards, **options)
    return VerbatimBot(settings, embedder, sync_only=sync_only, **options)
