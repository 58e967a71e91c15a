"""The Discord bot: parses requests, calls the engine off the event loop, renders replies.

Everything it sends goes out with ``AllowedMentions.none()`` (set on the client, and again on each
send), and every slash command defers before any work that may take longer than Discord's three
seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.formatting import (
    HELP_TEXT,
    EmbedData,
    answer_embeds,
    answer_header,
    clip,
    decline_text,
    escape,
)
from bot.views import DYNAMIC_ITEMS, NO_MENTIONS, Refusal, answer_view, send_document, send_listing
from embeddings.answer.search import Answer, Filters, SearchEngine
from embeddings.corpus.documents import Corpus, Document
from embeddings.engine import open_engine, rebuild
from embeddings.errors import VerbatimError
from embeddings.index.embedder import Embedder, SentenceTransformerEmbedder
from embeddings.settings import Settings

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


def invite_url(application_id: int) -> str:
    """The link that adds the bot to a server with exactly the permissions it uses."""
    return discord.utils.oauth_url(application_id, permissions=REQUIRED_PERMISSIONS, scopes=SCOPES)


def resolve_document(corpus: Corpus, typed: str) -> Document:
    """The document a member meant: an id picked from autocomplete, or words typed without picking
    (title, speaker, date) that match exactly one document. Never a path: only corpus entries."""
    doc = corpus.get(typed.strip())
    if doc is not None:
        return doc
    found = corpus.matching(typed)
    shown = escape(clip(typed.strip(), 100))
    if len(found) == 1:
        return found[0]
    if not found:
        raise Refusal(f"No document matches “{shown}”. Pick one from the list as you type, or see `/sources`.")
    names = "; ".join(escape(clip(d.title, 80)) for d in found[:3])
    raise Refusal(f"“{shown}” matches {len(found)} documents ({names}…). Pick one from the list as you type.")


class EngineHolder:
    """The live engine, swapped whole by one assignment after a rebuild; one rebuild at a time."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.engine: SearchEngine | None = None
        self.lock = asyncio.Lock()
        self._rebuild_embedder: Embedder | None = None

    def _open(self) -> SearchEngine:
        return open_engine(self.settings.corpus_dir, self.settings.index_dir, self.embedder, on_notice=log.warning)

    async def get(self) -> SearchEngine:
        if self.engine is None:
            async with self.lock:
                if self.engine is None:
                    self.engine = await asyncio.to_thread(self._open)
        return self.engine

    async def reindex(self) -> str:
        async with self.lock:
            if self._rebuild_embedder is None:  # its own model, so questions never queue behind it
                self._rebuild_embedder = self.embedder.clone()
            corpus, report = await asyncio.to_thread(
                rebuild, self.settings.corpus_dir, self.settings.index_dir, self._rebuild_embedder
            )
            self.engine = await asyncio.to_thread(self._open)
        lines = [escape(report.summary())]
        lines += [f"skipped {escape(str(issue))}" for issue in corpus.issues[:10]]
        if len(corpus.issues) > 10:
            lines.append(f"… and {len(corpus.issues) - 10} more files skipped; `verbatim index` lists them all.")
        return "\n".join(lines)


def to_embed(data: EmbedData) -> discord.Embed:
    embed = discord.Embed(title=data.title, description=data.description, colour=discord.Colour.dark_teal())
    if data.footer:
        embed.set_footer(text=data.footer)
    return embed


@dataclass
class Cooldown:
    seconds: float
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._last: dict[int, float] = {}

    def retry_after(self, user_id: int) -> float:
        """Seconds to wait, or 0 and the question counted."""
        now = self.clock()
        last = self._last.get(user_id)
        if last is not None and now - last < self.seconds:
            return self.seconds - (now - last)
        self._last[user_id] = now
        return 0.0


class VerbatimTree(app_commands.CommandTree):
    """Applies the channel allow-list to every slash command, not only to questions: `/source`
    posts a whole document, which the allow-list is there to keep out of other channels."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        allowed = cast(VerbatimBot, self.client).settings.allowed_channels
        if not allowed or interaction.channel_id in allowed or interaction.type is discord.InteractionType.autocomplete:
            return True
        where = ", ".join(f"<#{c}>" for c in sorted(allowed))
        await interaction.response.send_message(
            f"I only answer in {where}.", ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        return False


class VerbatimBot(commands.Bot):
    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, *, sync_only: bool = False, **options: object
    ) -> None:
        intents = discord.Intents.default()  # no privileged message-content intent: mentions carry content
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            tree_cls=VerbatimTree,
            **options,  # type: ignore[arg-type]
        )
        self.settings = settings
        self.holder = EngineHolder(settings, embedder or SentenceTransformerEmbedder())
        self.cooldown = Cooldown(settings.cooldown_seconds)
        self.sync_only = sync_only
        """Log in only to publish the commands (`verbatim sync`): no index, no guild sync."""

    async def setup_hook(self) -> None:
        await self.add_cog(VerbatimCog(self))
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        self.tree.error(self.on_app_command_error)
        reindex = self.tree.get_command("reindex")
        if isinstance(reindex, app_commands.Command) and not self.settings.admin_role:
            # Hidden from members without Manage Server in Discord's UI; the check still applies.
            reindex.default_permissions = discord.Permissions(manage_guild=True)
        if self.sync_only:
            return
        await self.holder.get()
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

    async def on_ready(self) -> None:
        log.info("logged in as %s, in %d server(s)", self.user, len(self.guilds))

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await self.report_error(interaction, error)

    async def report_error(self, interaction: discord.Interaction, error: Exception) -> None:
        """A short reply for the member; the traceback goes to the log (which never sees the token)."""
        original = getattr(error, "original", error)
        if isinstance(original, Refusal):
            message = str(original)
        elif isinstance(original, VerbatimError):
            message = escape(str(original))
        elif isinstance(original, app_commands.CheckFailure):
            message = str(original) or "You can't use this command here."
        else:
            where = interaction.command.name if interaction.command else interaction.data
            log.error("interaction %s failed", where, exc_info=error)
            message = "Sorry, something went wrong on my side; the error has been logged."
        try:
            await self.reply(interaction, message, ephemeral=True)
        except discord.HTTPException as exc:  # e.g. the interaction expired: nobody left to tell
            log.warning("could not tell the member about an error: %s", exc)

    async def reply(self, interaction: discord.Interaction, content: str, *, ephemeral: bool = False) -> None:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(content, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)

    def check_question(self, question: str, user_id: int) -> str | None:
        """A friendly reason not to answer, or None."""
        q = " ".join(question.split())
        if not q:
            return "Ask me a question, e.g. “What did Japan say about the ICBM launch in November 2024?”"
        if len(q) > self.settings.max_question_chars:
            return (
                f"That question is {len(q)} characters long; please keep it under {self.settings.max_question_chars}."
            )
        wait = self.cooldown.retry_after(user_id)
        if wait > 0:
            return f"One question at a time: please wait {wait:.0f} more second(s)."
        return None

    async def answer(self, question: str, filters: Filters) -> tuple[Answer, SearchEngine]:
        engine = await self.holder.get()
        answer = await asyncio.to_thread(engine.search, question, 3, filters)
        return answer, engine

    def answer_payload(self, question: str, answer: Answer, engine: SearchEngine) -> dict[str, object]:
        if not answer.answered or not answer.results:
            return {"content": decline_text(question, answer, engine.corpus)}
        embeds = answer_embeds(answer)
        return {
            "content": answer_header(question),
            "embeds": [to_embed(e) for e in embeds],
            "view": answer_view([(e.url_doc, e.title, e.paragraph) for e in embeds]),
        }

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None or self.user not in message.mentions:
            return
        allowed = self.settings.allowed_channels
        if allowed and message.channel.id not in allowed:
            return  # the allow-list exists to keep other channels quiet: no public refusal there
        question = message.content
        for token in (f"<@{self.user.id}>", f"<@!{self.user.id}>"):
            question = question.replace(token, " ")
        problem = self.check_question(question, message.author.id)
        if problem:
            await message.reply(problem, allowed_mentions=NO_MENTIONS)
            return
        try:
            answer, engine = await self.answer(question, Filters())
        except VerbatimError as exc:
            await message.reply(escape(str(exc)), allowed_mentions=NO_MENTIONS)
            return
        payload = self.answer_payload(question, answer, engine)
        await message.reply(allowed_mentions=NO_MENTIONS, **payload)  # type: ignore[call-overload]


def can_reindex(interaction: discord.Interaction) -> bool:
    """Manage Server, or the role named in VERBATIM_ADMIN_ROLE; checked on every call, because
    Discord's default permissions are only a hint that server admins may override."""
    settings = cast(VerbatimBot, interaction.client).settings
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
        + " can rebuild the index."
    )


class VerbatimCog(commands.Cog):
    def __init__(self, bot: VerbatimBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask", description="Answer a question with verbatim, cited quotes")
    @app_commands.describe(
        question="What you want to know, e.g. What did Japan say about the ICBM launch?",
        document="Only this document",
        speaker="Only statements whose speaker or organisation contains this",
        venue="Only statements whose venue contains this, e.g. OSCE or Security Council",
        since="Only statements on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)",
        until="Only statements on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)",
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        question: str,
        document: str | None = None,
        speaker: str | None = None,
        venue: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        # Options are checked before the cooldown, so a typo in a date costs the member nothing.
        engine = await self.bot.holder.get()
        doc_ids = [resolve_document(engine.corpus, document).doc_id] if document else []
        filters = Filters.parse(doc_ids, speaker or "", venue or "", since or "", until or "")
        problem = self.bot.check_question(question, interaction.user.id)
        if problem:
            await self.bot.reply(interaction, problem, ephemeral=True)
            return
        await interaction.response.defer(thinking=True)
        answer, engine = await self.bot.answer(question, filters)
        await interaction.followup.send(
            allowed_mentions=NO_MENTIONS, **self.bot.answer_payload(question, answer, engine)
        )  # type: ignore[call-overload]

    @ask.autocomplete("document")
    async def _ask_document(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await self.document_choices(current)

    @app_commands.command(name="source", description="Show a document's full text")
    @app_commands.describe(document="Start typing a title, speaker or date", paragraph="Open at this paragraph")
    async def source(
        self,
        interaction: discord.Interaction,
        document: str,
        paragraph: app_commands.Range[int, 1, 10000] | None = None,
    ) -> None:
        engine = await self.bot.holder.get()
        doc = resolve_document(engine.corpus, document)
        await send_document(interaction, doc, engine.paragraphs(doc.doc_id), paragraph, ephemeral=False)

    @source.autocomplete("document")
    async def _source_document(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await self.document_choices(current)

    async def document_choices(self, current: str) -> list[app_commands.Choice[str]]:
        engine = await self.bot.holder.get()
        return [
            app_commands.Choice(name=clip(f"{d.title} ({d.date.isoformat()})", 100), value=d.doc_id)
            for d in engine.corpus.matching(current)[:25]
        ]

    @app_commands.command(name="sources", description="List the documents in the corpus")
    async def sources(self, interaction: discord.Interaction) -> None:
        engine = await self.bot.holder.get()
        await send_listing(interaction, engine.corpus)

    @app_commands.command(name="help", description="How to use Verbatim")
    async def help(self, interaction: discord.Interaction) -> None:
        await self.bot.reply(interaction, HELP_TEXT, ephemeral=True)

    @app_commands.command(name="reindex", description="Rebuild the index after statements were added")
    @app_commands.guild_only()
    @app_commands.check(can_reindex)
    async def reindex(self, interaction: discord.Interaction) -> None:
        if self.bot.holder.lock.locked():
            await self.bot.reply(
                interaction, "A rebuild is already running; I'll keep answering meanwhile.", ephemeral=True
            )
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        started = dt.datetime.now(dt.UTC)
        summary = await self.bot.holder.reindex()
        seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
        await interaction.followup.send(
            clip(f"Index rebuilt in {seconds:.1f} s.\n{summary}", 2000), ephemeral=True, allowed_mentions=NO_MENTIONS
        )


def create_bot(
    settings: Settings, embedder: Embedder | None = None, *, sync_only: bool = False, **options: object
) -> commands.Bot:
    """The bot, ready for ``start(token)``; tests pass a fake embedder and small timeouts, and
    ``options`` go to discord.py's ``Bot``."""
    return VerbatimBot(settings, embedder, sync_only=sync_only, **options)
