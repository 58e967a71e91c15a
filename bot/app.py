"""The Discord bot: parses requests, calls the engine off the event loop, renders replies.

Everything it sends goes out with ``AllowedMentions.none()`` (set on the client, and again on each
send), and every slash command defers before any work that may take longer than Discord's three
seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

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
    pack,
    page_of_paragraph,
    source_header,
    source_pages,
    sources_lines,
)
from embeddings.chunking import paragraphs
from embeddings.cli import find_document, parse_date_bound
from embeddings.embedder import Embedder, SentenceTransformerEmbedder
from embeddings.engine import open_engine
from embeddings.errors import VerbatimError
from embeddings.search import Answer, Filters, SearchEngine
from embeddings.settings import Settings

log = logging.getLogger(__name__)
NO_MENTIONS = discord.AllowedMentions.none()
VIEW_TIMEOUT = 900.0


class EngineHolder:
    """The live engine, swapped whole by one assignment after a rebuild; one rebuild at a time."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.engine: SearchEngine | None = None
        self.lock = asyncio.Lock()

    def _open(self) -> SearchEngine:
        return open_engine(self.settings.corpus_dir, self.settings.index_dir, self.embedder, on_notice=log.warning)

    async def get(self) -> SearchEngine:
        if self.engine is None:
            async with self.lock:
                if self.engine is None:
                    self.engine = await asyncio.to_thread(self._open)
        return self.engine

    async def reindex(self) -> str:
        from embeddings.engine import rebuild

        async with self.lock:
            corpus, report = await asyncio.to_thread(
                rebuild, self.settings.corpus_dir, self.settings.index_dir, self.embedder
            )
            self.engine = await asyncio.to_thread(self._open)
        lines = [report.summary()]
        lines += [f"skipped {issue}" for issue in corpus.issues[:10]]
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


class FullTextView(discord.ui.View):
    """One "Full text" button per quoted document; the text opens only for whoever clicked."""

    def __init__(self, bot: VerbatimBot, embeds: list[EmbedData]) -> None:
        super().__init__(timeout=VIEW_TIMEOUT)
        seen: set[str] = set()
        for data in embeds:
            if data.url_doc in seen:
                continue
            seen.add(data.url_doc)
            self.add_item(FullTextButton(bot, data))


class FullTextButton(discord.ui.Button["FullTextView"]):
    def __init__(self, bot: VerbatimBot, data: EmbedData) -> None:
        super().__init__(label=clip(f"Full text: {data.title}", 80), style=discord.ButtonStyle.secondary)
        self.bot, self.doc_id, self.paragraph = bot, data.url_doc, data.paragraph

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.bot.send_source(interaction, self.doc_id, self.paragraph, ephemeral=True)


class SourceView(discord.ui.View):
    """Previous / Next / Download for a document; only the member who asked can turn its pages."""

    def __init__(
        self, owner_id: int, title: str, header: str, pages: list[str], page: int, text: str, filename: str
    ) -> None:
        super().__init__(timeout=VIEW_TIMEOUT)
        self.owner_id, self.title, self.header, self.pages, self.page = owner_id, title, header, pages, page
        self.text, self.filename = text, filename
        self._sync()

    def embed(self) -> discord.Embed:
        embed = discord.Embed(title=clip(self.title, 256), description=self.pages[self.page])
        embed.set_footer(text=clip(f"{self.header} — page {self.page + 1}/{len(self.pages)}", 2048))
        return embed

    def _sync(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= len(self.pages) - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "These buttons belong to whoever opened this document; use `/source` to open your own.",
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return False
        return True

    @discord.ui.button(label="◀ Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button[SourceView]) -> None:
        self.page = max(0, self.page - 1)
        self._sync()
        await interaction.response.edit_message(embed=self.embed(), view=self, allowed_mentions=NO_MENTIONS)

    @discord.ui.button(label="Next ▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button[SourceView]) -> None:
        self.page = min(len(self.pages) - 1, self.page + 1)
        self._sync()
        await interaction.response.edit_message(embed=self.embed(), view=self, allowed_mentions=NO_MENTIONS)

    @discord.ui.button(label="Download .txt", style=discord.ButtonStyle.primary)
    async def download(self, interaction: discord.Interaction, button: discord.ui.Button[SourceView]) -> None:
        file = discord.File(io.BytesIO(self.text.encode("utf-8")), filename=self.filename)
        await interaction.response.send_message(file=file, ephemeral=True, allowed_mentions=NO_MENTIONS)


class VerbatimBot(commands.Bot):
    def __init__(self, settings: Settings, embedder: Embedder | None = None, **options: object) -> None:
        intents = discord.Intents.default()  # no privileged message-content intent: mentions carry content
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            **options,  # type: ignore[arg-type]
        )
        self.settings = settings
        self.holder = EngineHolder(settings, embedder or SentenceTransformerEmbedder())
        self.cooldown = Cooldown(settings.cooldown_seconds)

    async def setup_hook(self) -> None:
        await self.add_cog(VerbatimCog(self))
        self.tree.error(self.on_app_command_error)
        await self.holder.get()
        if self.settings.guild_id:
            guild = discord.Object(id=self.settings.guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
            log.info("slash commands synced to guild %s", self.settings.guild_id)

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        if isinstance(original, VerbatimError):
            message = str(original)
        elif isinstance(original, app_commands.CheckFailure):
            message = str(original) or "You can't use this command here."
        else:
            log.error("command %s failed", interaction.command and interaction.command.name, exc_info=error)
            message = "Sorry, something went wrong on my side; the error has been logged."
        await self.reply(interaction, message, ephemeral=True)

    async def reply(self, interaction: discord.Interaction, content: str, *, ephemeral: bool = False) -> None:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(content, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)

    def check_question(self, question: str, user_id: int, channel_id: int | None) -> str | None:
        """A friendly reason not to answer, or None."""
        allowed = self.settings.allowed_channels
        if allowed and channel_id not in allowed:
            return "I only answer in " + ", ".join(f"<#{c}>" for c in sorted(allowed)) + "."
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
            "view": FullTextView(self, embeds),
        }

    async def send_source(
        self, interaction: discord.Interaction, doc_id: str, paragraph: int | None, ephemeral: bool
    ) -> None:
        engine = await self.holder.get()
        doc_key = find_document(list(engine.corpus.documents), doc_id)
        doc = engine.corpus.documents[doc_key]
        paras = paragraphs(doc.text)
        if paragraph is not None and not 1 <= paragraph <= len(paras):
            raise VerbatimError(f"{doc.title} has paragraphs 1 to {len(paras)}, not {paragraph}.")
        pages = source_pages(doc, paras)
        page = page_of_paragraph(pages, paragraph) if paragraph else 0
        view = SourceView(
            interaction.user.id, doc.title, source_header(doc), pages, page, doc.text, f"{doc.doc_id}.txt"
        )
        await interaction.response.send_message(
            embed=view.embed(), view=view, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS
        )

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None or self.user not in message.mentions:
            return
        question = message.content
        for token in (f"<@{self.user.id}>", f"<@!{self.user.id}>"):
            question = question.replace(token, " ")
        problem = self.check_question(question, message.author.id, message.channel.id)
        if problem:
            await message.reply(problem, allowed_mentions=NO_MENTIONS)
            return
        try:
            answer, engine = await self.answer(question, Filters())
        except VerbatimError as exc:
            await message.reply(str(exc), allowed_mentions=NO_MENTIONS)
            return
        payload = self.answer_payload(question, answer, engine)
        await message.reply(allowed_mentions=NO_MENTIONS, **payload)  # type: ignore[call-overload]


def _can_reindex(settings: Settings) -> Callable[[discord.Interaction], bool]:
    def predicate(interaction: discord.Interaction) -> bool:
        member = interaction.user
        perms = getattr(member, "guild_permissions", None)
        if perms is not None and perms.manage_guild:
            return True
        roles = getattr(member, "roles", [])
        if settings.admin_role and any(r.name == settings.admin_role for r in roles):
            return True
        raise app_commands.CheckFailure(
            "Only members with Manage Server"
            + (f" or the {settings.admin_role} role" if settings.admin_role else "")
            + " can rebuild the index."
        )

    return predicate


class VerbatimCog(commands.Cog):
    def __init__(self, bot: VerbatimBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask", description="Answer a question with verbatim, cited quotes")
    @app_commands.describe(
        question="What you want to know, e.g. What did Japan say about the ICBM launch?",
        document="Only this document",
        speaker="Only statements whose speaker or organisation contains this",
        since="Only statements on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)",
        until="Only statements on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)",
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        question: str,
        document: str | None = None,
        speaker: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        problem = self.bot.check_question(question, interaction.user.id, interaction.channel_id)
        if problem:
            await self.bot.reply(interaction, problem, ephemeral=True)
            return
        filters = Filters(
            documents=frozenset({document}) if document else frozenset(),
            speaker=speaker or "",
            since=parse_date_bound(since, end=False) if since else None,
            until=parse_date_bound(until, end=True) if until else None,
        )
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
        await self.bot.send_source(interaction, document, paragraph, ephemeral=False)

    @source.autocomplete("document")
    async def _source_document(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await self.document_choices(current)

    async def document_choices(self, current: str) -> list[app_commands.Choice[str]]:
        engine = await self.bot.holder.get()
        words = current.casefold().split()
        docs = sorted(engine.corpus.documents.values(), key=lambda d: d.date, reverse=True)
        choices = []
        for d in docs:
            hay = f"{d.title} {d.speaker} {d.date.isoformat()} {d.doc_id}".casefold()
            if all(w in hay for w in words):
                choices.append(app_commands.Choice(name=clip(f"{d.title} ({d.date.isoformat()})", 100), value=d.doc_id))
            if len(choices) == 25:
                break
        return choices

    @app_commands.command(name="sources", description="List the documents in the corpus")
    async def sources(self, interaction: discord.Interaction) -> None:
        engine = await self.bot.holder.get()
        pages = pack(sources_lines(engine.corpus))
        embeds = [
            discord.Embed(title=f"{len(engine.corpus)} documents" if i == 0 else None, description=p)
            for i, p in enumerate(pages[:10])
        ]
        await interaction.response.send_message(embeds=embeds[:1], ephemeral=True, allowed_mentions=NO_MENTIONS)
        for embed in embeds[1:]:
            await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="help", description="How to use Verbatim")
    async def help(self, interaction: discord.Interaction) -> None:
        await self.bot.reply(interaction, HELP_TEXT, ephemeral=True)

    @app_commands.command(name="reindex", description="Rebuild the index after statements were added")
    @app_commands.guild_only()
    async def reindex(self, interaction: discord.Interaction) -> None:
        _can_reindex(self.bot.settings)(interaction)
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


def create_bot(settings: Settings, embedder: Embedder | None = None, **options: object) -> commands.Bot:
    """The bot, ready for ``start(token)``; tests pass a fake embedder and small timeouts."""
    return VerbatimBot(settings, embedder, **options)
