"""`/add`: a statement from an attached file or a link, previewed privately to the moderator who
added it, with its detected header to confirm or correct, then saved and indexed while questions
keep being answered."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import can_administer, hide_from_members
from bot.client import VerbatimBot
from bot.formatting import clip, draft_fields, escape
from bot.interactions import GuardedModal, GuardedView
from bot.replies import NO_MENTIONS, SORRY, reply, user_message
from embeddings.types import MAX_STATEMENT_BYTES, Draft, IngestError

log = logging.getLogger(__name__)
Interaction = discord.Interaction[VerbatimBot]
PREVIEW_TIMEOUT = 900.0
"""How long the Save / Edit / Cancel buttons of a preview work (15 minutes), after which nothing
was saved and the moderator runs /add again."""


def preview_embed(draft: Draft) -> discord.Embed:
    """The header as it will be saved (inferred fields say how), and the first paragraphs."""
    embed = discord.Embed(
        title="New statement: check, then save",
        description=clip("\n\n".join(escape(p) for p in draft.preview(6, 300)), 2000),
    )
    for name, shown in draft_fields(draft):
        embed.add_field(name=name.capitalize(), value=clip(shown, 1000), inline=name not in ("title", "source"))
    if draft.cleaning is not None:
        embed.set_footer(text=clip(f"Cleaned: {draft.cleaning.summary()}", 2000))
    return embed


class FieldsModal(GuardedModal, title="Statement details"):
    def __init__(self, view: DraftView) -> None:
        super().__init__(timeout=PREVIEW_TIMEOUT)
        self.draft_view = view
        fields = view.draft.fields
        self.inputs: dict[str, discord.ui.TextInput[FieldsModal]] = {
            "title": discord.ui.TextInput(label="Title", default=fields.get("title", ""), max_length=300),
            "speaker": discord.ui.TextInput(label="Speaker", default=fields.get("speaker", ""), max_length=300),
            "venue": discord.ui.TextInput(label="Venue", default=fields.get("venue", ""), max_length=200),
            "date": discord.ui.TextInput(
                label="Date (YYYY-MM-DD)", default=fields.get("date", ""), min_length=10, max_length=10
            ),
            "symbol": discord.ui.TextInput(
                label="Document symbol", default=fields.get("symbol", ""), required=False, max_length=100
            ),
        }
        for item in self.inputs.values():
            self.add_item(item)

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        values = {name: item.value.strip() for name, item in self.inputs.items()}
        try:
            dt.date.fromisoformat(values["date"])
        except ValueError:
            await interaction.response.edit_message(
                content=f"{escape(values['date'])} is not a date as YYYY-MM-DD; nothing changed.",
                embed=preview_embed(self.draft_view.draft),
                view=self.draft_view,
            )
            return
        self.draft_view.draft = self.draft_view.draft.with_fields(values)
        await interaction.response.edit_message(
            content=None, embed=preview_embed(self.draft_view.draft), view=self.draft_view
        )


class DraftView(GuardedView):
    """Save, Edit or Cancel one draft; only the moderator who ran /add sees it (it is private)."""

    def __init__(self, bot: VerbatimBot, draft: Draft, owner: int) -> None:
        super().__init__(timeout=PREVIEW_TIMEOUT)
        self.bot = bot
        self.draft = draft
        self.owner = owner

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        return interaction.user.id == self.owner

    @discord.ui.button(label="Save", style=discord.ButtonStyle.success)
    async def save_button(self, interaction: Interaction, _: discord.ui.Button[DraftView]) -> None:
        if self.draft.missing:
            await interaction.response.edit_message(
                content=f"Fill in the {', '.join(self.draft.missing)} first (Edit).", view=self
            )
            return
        self.stop()
        await interaction.response.edit_message(content="Saving and updating the index…", view=None)
        try:
            path = await asyncio.to_thread(self.bot.service.save, self.draft)
        except IngestError as exc:
            await interaction.edit_original_response(content=f"Not saved: {escape(str(exc))}", embed=None)
            return
        try:
            summary = await self.bot.reindex()
        except Exception as exc:
            # The message the moderator is looking at says what happened, never "Saving…" for ever.
            reason = user_message(exc)
            if reason is None:
                log.error("updating the index after /add failed", exc_info=exc)
            await interaction.edit_original_response(
                content=clip(
                    f"Saved as `{path.stem}`, but the index could not be updated: {reason or SORRY} "
                    "Run /reindex once that is fixed.",
                    2000,
                ),
                embed=None,
            )
            return
        await interaction.edit_original_response(
            content=clip(
                f"Added **{escape(self.draft.fields['title'])}** as `{path.stem}`. Members can ask about it now.\n"
                + summary,
                2000,
            ),
            embed=None,
        )

    @discord.ui.button(label="Edit", style=discord.ButtonStyle.secondary)
    async def edit_button(self, interaction: Interaction, _: discord.ui.Button[DraftView]) -> None:
        await interaction.response.send_modal(FieldsModal(self))

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.danger)
    async def cancel_button(self, interaction: Interaction, _: discord.ui.Button[DraftView]) -> None:
        self.stop()
        await interaction.response.edit_message(content="Cancelled: nothing was saved.", embed=None, view=None)


class Adding(commands.Cog):
    def __init__(self, bot: VerbatimBot) -> None:
        self.bot = bot

    @app_commands.command(name="add", description="Add a statement from a PDF, web page or text file, or a link")
    @app_commands.describe(file="a PDF, an HTML page or a .txt file", link="an http(s) link to the statement")
    @app_commands.guild_only()
    @app_commands.check(can_administer)
    async def add(
        self, interaction: Interaction, file: discord.Attachment | None = None, link: str | None = None
    ) -> None:
        if (file is None) == (link is None):
            await reply(interaction, "Attach a file or give a link (one of the two).", ephemeral=True)
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        try:
            service = self.bot.service
            if file is not None:
                if file.size > MAX_STATEMENT_BYTES:
                    raise IngestError(f"{file.filename} is over the {MAX_STATEMENT_BYTES / 1e6:.0f} MB limit")
                data = await file.read()
                source = f"Discord attachment {file.filename}"
                draft = await asyncio.to_thread(service.prepare, source, None, data=data, name=file.filename)
            else:
                assert link is not None
                draft = await asyncio.to_thread(service.prepare, link.strip())
        except (IngestError, discord.HTTPException) as exc:
            await interaction.followup.send(
                f"Not added: {escape(str(exc))}", ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        view = DraftView(self.bot, draft, interaction.user.id)
        await interaction.followup.send(
            embed=preview_embed(draft), view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: VerbatimBot) -> None:
    await bot.add_cog(Adding(bot))
    hide_from_members(bot, "add")
