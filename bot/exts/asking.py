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
from embeddings.types import Answer, BadQuestionError, Corpus, Filters

Interaction = discord.Interaction[VerbatimBot]
TOO_MANY = "One question at a time: please wait {wait:.0f} more second(s)."


class Asking(commands.Cog):
    def __init__(self, bot: VerbatimBot) -> None:
        self.bot = bot

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

    async def payload(self, question: str, answer: Answer, corpus: Corpus) -> dict[str, object]:
        # What was shown is kept so that a member's vote on it can become a test case. It is written
        # in the background: the reply does not wait for the disk, and a vote comes seconds later.
        state = self.bot.service.state
        answer_id = state.new_answer_id()
        self.bot.in_background(asyncio.to_thread(state.record_answer, answer, answer_id))
        if not answer.answered or not answer.results:
            return {
                "content": decline_text(question, answer, corpus),
                "view": answer_view([], answer_id, declined=True),
            }
        embeds = answer_embeds(answer, corpus)
        return {
            "content": answer_header(question),
            "embeds": [to_embed(e) for e in embeds],
            "view": answer_view([(e.url_doc, e.title, e.paragraph) for e in embeds], answer_id),
        }

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
        interaction: Interaction,
        question: str,
        document: str | None = None,
        speaker: str | None = None,
        venue: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        # Options are checked before the cooldown, so a typo in a date costs the member nothing.
        doc_ids = [resolve_document(self.bot.service.corpus, document).doc_id] if document else []
        filters = Filters.parse(doc_ids, speaker or "", venue or "", since or "", until or "")
        cleaned = self.admit(question, interaction.user.id)
        await defer_publicly(interaction)
        answer, corpus = await self.answer(cleaned, filters)
        await follow_up(interaction, **(await self.payload(cleaned, answer, corpus)))

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
            async with message.channel.typing():  # the member sees that an answer is coming
                answer, corpus = await self.answer(cleaned, Filters())
            await message.reply(allowed_mentions=NO_MENTIONS, **(await self.payload(cleaned, answer, corpus)))  # type: ignore[call-overload]
        except Exception as exc:
            await report_to_message(message, exc)


async def setup(bot: VerbatimBot) -> None:
    await bot.add_cog(Asking(bot))
