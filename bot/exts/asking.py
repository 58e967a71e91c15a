"""Asking: `/ask` with its filters, and questions put by mentioning the bot."""

from __future__ import annotations

import asyncio
import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import VerbatimBot
from bot.documents import document_choices, resolve_document
from bot.formatting import answer_embeds, answer_header, decline_text
from bot.replies import NO_MENTIONS, Refusal, defer_publicly, follow_up, report_to_message, to_embed
from bot.views import answer_view
from embeddings.service import Followed
from embeddings.types import Answer, BadQuestionError, Corpus, Filters, Turn

Interaction = discord.Interaction[VerbatimBot]
TOO_MANY = "One question at a time: please wait {wait:.0f} more second(s)."


def thread_name(question: str) -> str:
    """A thread's name from its first question (Discord allows 100 characters)."""
    return question if len(question) <= 90 else question[:89].rstrip() + "…"


class Asking(commands.Cog):
    def __init__(self, bot: VerbatimBot) -> None:
        self.bot = bot
        self._turns: dict[int, asyncio.Lock] = {}

    def in_turn(self, channel_id: int) -> asyncio.Lock:
        """One message of a channel (or thread) at a time through reading and remembering: a reply
        sent the moment an answer appears is read against that answer, never before it is kept."""
        return self._turns.setdefault(channel_id, asyncio.Lock())

    def admit(self, question: str, user_id: int) -> str:
        """The cleaned question, or a Refusal that says what to change; the cooldown is spent only
        on a question that can be asked."""
        try:
            cleaned = self.bot.service.check_question(question)
        except BadQuestionError as exc:
            raise Refusal(f"Sorry, {exc}. Ask, for example, “What did Japan say about the ICBM launch?”") from None
        wait = self.bot.retry_after(user_id)
        if wait > 0:
            raise Refusal(TOO_MANY.format(wait=wait))
        return cleaned

    async def answer(self, question: str, filters: Filters) -> tuple[Answer, Corpus]:
        service = self.bot.service
        answer = await asyncio.to_thread(service.ask, question, 3, filters)
        return answer, service.corpus

    async def payload(self, question: str, answer: Answer, corpus: Corpus, reading: str = "") -> dict[str, object]:
        # What was shown is kept so that a member's vote on it can become a test case. It is written
        # in the background: the reply does not wait for the disk, and a vote comes seconds later.
        state = self.bot.service.state
        answer_id = state.new_answer_id()
        self.bot.in_background(asyncio.to_thread(state.record_answer, answer, answer_id))
        if not answer.answered or not answer.results:
            return {
                "content": decline_text(question, answer, corpus, reading),
                "view": answer_view([], answer_id, declined=True),
            }
        embeds = answer_embeds(answer, corpus)
        return {
            "content": answer_header(question, reading),
            "embeds": [to_embed(e) for e in embeds],
            "view": answer_view([(e.url_doc, e.title, e.paragraph) for e in embeds], answer_id),
        }

    async def remember(self, turn: Turn, keys: list[str]) -> None:
        """Keep a conversation's last question under every key a next message may arrive by (the
        answer it replies to, the thread it is in)."""
        state = self.bot.service.state

        def keep() -> None:
            for key in keys:
                state.keep_turn(key, turn)

        await asyncio.to_thread(keep)

    async def converse(self, message: discord.Message, question: str) -> tuple[Followed, list[str]]:
        """A mention read in its conversation: the answer it replies to, else the thread it is in
        (a thread opened on an answer has the answer's id); anything else starts afresh. Returns
        the keys the next message of the same conversation will arrive by."""
        service = self.bot.service
        channel = message.channel.id
        in_channel = [f"thread:{channel}", f"message:{channel}"]
        reference = message.reference
        replied = [f"message:{reference.message_id}"] if reference and reference.message_id else []

        def previous() -> tuple[str, Turn] | None:
            return next(((k, t) for k in replied + in_channel if (t := service.conversation(k)) is not None), None)

        found = await asyncio.to_thread(previous)
        followed = await asyncio.to_thread(service.follow, question, found[1] if found else None, 3)
        in_thread = isinstance(message.channel, discord.Thread) or (found is not None and found[0] in in_channel)
        return followed, [f"thread:{channel}"] if in_thread else []

    @app_commands.command(name="ask", description="Answer a question with verbatim, cited quotes")
    @app_commands.describe(
        question="What you want to know, e.g. What did Japan say about the ICBM launch?",
        document="Only this document",
        speaker="Only statements whose speaker or organisation contains this",
        venue="Only statements whose venue contains this, e.g. OSCE or Security Council",
        since="Only statements on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)",
        until="Only statements on or before this date (YYYY, YYYY-MM or YYYY-MM-DD)",
        thread="Open a thread on the answer, where follow-ups (“and Russia?”) keep its context",
    )
    async def ask(
        self,
        interaction: Interaction,
        question: str,
        document: str | None = None,
        speaker: str | None = None,
        venue: str | None = None,
        since: str | None = None,
        until: str | None = None,
        thread: bool = False,
    ) -> None:
        # Options are checked before the cooldown, so a typo in a date costs the member nothing.
        doc_ids = [resolve_document(self.bot.service.corpus, document).doc_id] if document else []
        filters = Filters.parse(doc_ids, speaker or "", venue or "", since or "", until or "")
        cleaned = self.admit(question, interaction.user.id)
        await defer_publicly(interaction)
        async with self.in_turn(interaction.channel_id or 0):
            answer, corpus = await self.answer(cleaned, filters)
            sent = await follow_up(interaction, **(await self.payload(cleaned, answer, corpus)))
            turn = await asyncio.to_thread(self.bot.service.turn_for, cleaned, answer)
            # Kept before a thread opens on it: the thread has the answer's id, and a member can
            # write in it the moment it exists.
            await self.remember(turn, [f"message:{sent.id}"])
            channel = interaction.channel
            if thread and isinstance(channel, discord.TextChannel):  # in a thread already, it goes on there
                opened = await channel.create_thread(
                    name=thread_name(cleaned), message=sent, auto_archive_duration=1440
                )
                await self.remember(turn, [f"thread:{opened.id}"])

    @ask.autocomplete("document")
    async def _document(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return document_choices(self.bot.service, current)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if message.author.bot or me is None or me not in message.mentions:
            return
        allowed = self.bot.settings.allowed_channels
        if allowed and message.channel.id not in allowed:
            return  # the allow-list exists to keep other channels quiet: no public refusal there
        question = re.sub(rf"<@!?{me.id}>", " ", message.content)
        try:
            cleaned = self.admit(question, message.author.id)
            async with self.in_turn(message.channel.id):
                async with message.channel.typing():  # the member sees that an answer is coming
                    followed, keys = await self.converse(message, cleaned)
                payload = await self.payload(cleaned, followed.answer, self.bot.service.corpus, followed.reading.line)
                sent = await message.reply(allowed_mentions=NO_MENTIONS, **payload)  # type: ignore[call-overload]
                if followed.turn is not None:  # a follow-up with nothing before it starts nothing
                    await self.remember(followed.turn, [f"message:{sent.id}", *keys])
        except Exception as exc:
            await report_to_message(message, exc)


async def setup(bot: VerbatimBot) -> None:
    await bot.add_cog(Asking(bot))
