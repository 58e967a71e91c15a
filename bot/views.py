"""Buttons that keep working: their state lives in the ``custom_id`` (discord.py ``DynamicItem``,
encoded by `bot.ids`), not in memory. A "Full text" button under yesterday's answer, or a page turn
after the bot was restarted, still works; a view held in memory would answer "This interaction
failed" after 15 minutes or a restart. Every button does its work in `act` (`bot.interactions`), so
an error reaches the member as one private line."""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any

import discord

from bot.formatting import PAGE_CHARS, clip, escape, pack, page_of_paragraph, source_header, source_pages, sources_lines
from bot.ids import Direction, Download, FullText, Page, Verdict, Vote, doc_ref
from bot.interactions import Guarded, GuardedModal, persistent_view
from bot.replies import NO_MENTIONS, Refusal
from embeddings.service import Verbatim
from embeddings.types import Corpus, Document, Paragraph

Interaction = discord.Interaction[Any]
LISTING_FOOTER = "Newest first · /source opens one"


def find_ref(corpus: Corpus, ref: str) -> Document:
    """The document a button points at, if it is still in the corpus (it may have been removed by
    a rebuild since the button was posted)."""
    by_hash = ref.startswith("#")
    doc = next((d for d in corpus if doc_ref(d.doc_id) == ref), None) if by_hash else corpus.get(ref)
    if doc is None:
        raise Refusal("That document is no longer in the corpus; `/sources` lists what is.")
    return doc


def _service(interaction: Interaction) -> Verbatim:
    service: Verbatim = interaction.client.service
    return service


def _page_embed(title: str, description: str, footer: str, page: int, count: int) -> discord.Embed:
    embed = discord.Embed(title=clip(title, 256), description=description)
    embed.set_footer(text=clip(f"{footer} — page {page + 1}/{count}", 2048))
    return embed


def document_page(
    doc: Document, paras: list[Paragraph], page: int | None = None, paragraph: int | None = None
) -> tuple[discord.Embed, int, int]:
    """One page of a document (the given page, or the one holding ``paragraph``), the page shown,
    and how many there are."""
    pages = source_pages(doc, paras)
    if page is None:
        page = page_of_paragraph(pages, paragraph) if paragraph else 0
    page = max(0, min(page, len(pages) - 1))
    return _page_embed(doc.title, pages[page], source_header(doc), page, len(pages)), page, len(pages)


def listing_page(documents: list[Document], page: int = 0) -> tuple[discord.Embed, int, int]:
    pages = pack(sources_lines(documents), PAGE_CHARS) or ["The corpus is empty."]
    page = max(0, min(page, len(pages) - 1))
    return _page_embed(f"{len(documents)} documents", pages[page], LISTING_FOOTER, page, len(pages)), page, len(pages)


def pager_view(owner: int, page: int, count: int, ref: str, download: bool) -> discord.ui.View:
    view = persistent_view()
    view.add_item(PageButton(Page(Direction.PREVIOUS, owner, max(page - 1, 0), ref), disabled=page == 0))
    view.add_item(PageButton(Page(Direction.NEXT, owner, min(page + 1, count - 1), ref), disabled=page >= count - 1))
    if download:
        view.add_item(DownloadButton(Download(ref)))
    return view


def answer_view(documents: list[tuple[str, str, int]], answer_id: str = "", declined: bool = False) -> discord.ui.View:
    """A "Full text" button per quoted document (doc id, title, cited paragraph), first citation
    wins; with an answer id, the two feedback buttons."""
    view = persistent_view()
    seen: set[str] = set()
    for doc_id, title, paragraph in documents:
        if doc_id not in seen:
            seen.add(doc_id)
            view.add_item(FullTextButton(FullText(doc_ref(doc_id), paragraph), f"Full text: {title}"))
    if answer_id:
        wrong = Verdict.WRONG_DECLINE if declined else Verdict.WRONG_PASSAGE
        view.add_item(FeedbackButton(Vote(Verdict.ANSWERS, answer_id), row=1, declined=declined))
        view.add_item(FeedbackButton(Vote(wrong, answer_id), row=1, declined=declined))
    return view


async def send_document(
    interaction: Interaction, doc: Document, paras: list[Paragraph], paragraph: int | None, ephemeral: bool
) -> None:
    if paragraph is not None and not 1 <= paragraph <= len(paras):
        raise Refusal(f"{escape(doc.title)} has paragraphs 1 to {len(paras)}, not {paragraph}.")
    embed, page, count = document_page(doc, paras, paragraph=paragraph)
    view = pager_view(interaction.user.id, page, count, doc_ref(doc.doc_id), download=True)
    await interaction.response.send_message(embed=embed, view=view, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)


async def send_listing(interaction: Interaction, documents: list[Document]) -> None:
    embed, page, count = listing_page(documents)
    view = pager_view(interaction.user.id, page, count, "", download=False)
    await interaction.response.send_message(embed=embed, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS)


class FullTextButton(Guarded, discord.ui.DynamicItem[discord.ui.Button[Any]], template=FullText.PATTERN):
    def __init__(self, target: FullText, label: str = "Full text") -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=clip(label, 80), style=discord.ButtonStyle.secondary, custom_id=target.encode()
        )
        super().__init__(button)
        self.target = target

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FullTextButton:
        return cls(FullText.decode(match))

    async def act(self, interaction: Interaction) -> None:
        service = _service(interaction)
        doc = find_ref(service.corpus, self.target.ref)
        paras = await asyncio.to_thread(service.paragraphs, doc.doc_id)
        paragraph = self.target.paragraph if self.target.paragraph <= len(paras) else None  # the text may have changed
        await send_document(interaction, doc, paras, paragraph, ephemeral=True)


class FeedbackButton(Guarded, discord.ui.DynamicItem[discord.ui.Button[Any]], template=Vote.PATTERN):
    """ "answers it" records a vote at once; "wrong passage" asks what was wrong, in a form whose
    words are stored, never posted. Both answer privately."""

    def __init__(self, vote: Vote, row: int | None = None, declined: bool = False) -> None:
        labels = ("right: nothing answers", "wrong: a statement does") if declined else ("answers it", "wrong passage")
        agrees = vote.verdict is Verdict.ANSWERS
        button: discord.ui.Button[Any] = discord.ui.Button(
            row=row,
            label=labels[0] if agrees else labels[1],
            emoji="✅" if agrees else "❌",
            style=discord.ButtonStyle.secondary,
            custom_id=vote.encode(),
        )
        super().__init__(button)
        self.vote = vote

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackButton:
        vote = Vote.decode(match)
        return cls(vote, declined=vote.verdict is Verdict.WRONG_DECLINE)

    async def act(self, interaction: Interaction) -> None:
        if self.vote.verdict is Verdict.ANSWERS:
            await record_vote(interaction, self.vote.answer_id, self.vote.verdict)
            return
        declined = self.vote.verdict is Verdict.WRONG_DECLINE
        await interaction.response.send_modal(WrongPassageModal(self.vote.answer_id, declined=declined))


async def record_vote(
    interaction: Interaction, answer_id: str, verdict: Verdict, comment: str = "", evidence: str = ""
) -> None:
    bot = interaction.client
    state = _service(interaction).state
    args = (answer_id, str(interaction.user.id), verdict.stored, comment, evidence)
    stored = await asyncio.to_thread(state.vote, *args)
    if not stored and bot.pending():  # the answer's record may still be on its way to the disk
        await bot.settle()
        stored = await asyncio.to_thread(state.vote, *args)
    text = (
        "Thanks: noted, privately. Your vote on this answer replaces any earlier one."
        if stored
        else "Sorry, this answer is too old to take votes (its record is gone)."
    )
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


class WrongPassageModal(GuardedModal, title="What was wrong?"):
    """After a wrong passage the words that answer are optional (left empty: nothing does); after a
    wrong decline they are what the member is telling us, so they are required."""

    def __init__(self, answer_id: str, declined: bool = False) -> None:
        super().__init__(timeout=900)
        self.answer_id = answer_id
        self.verdict = Verdict.WRONG_DECLINE if declined else Verdict.WRONG_PASSAGE
        self.comment: discord.ui.TextInput[WrongPassageModal] = discord.ui.TextInput(
            label="What was wrong?", style=discord.TextStyle.paragraph, required=False, max_length=1000
        )
        self.evidence: discord.ui.TextInput[WrongPassageModal] = discord.ui.TextInput(
            label="Words from a statement that answer it" if declined else "Words that answer it (empty: nothing does)",
            style=discord.TextStyle.paragraph,
            required=declined,
            max_length=500,
        )
        self.add_item(self.comment)
        self.add_item(self.evidence)

    async def on_submit(self, interaction: Interaction) -> None:
        await record_vote(interaction, self.answer_id, self.verdict, self.comment.value, self.evidence.value)


class PageButton(Guarded, discord.ui.DynamicItem[discord.ui.Button[Any]], template=Page.PATTERN):
    def __init__(self, target: Page, disabled: bool = False) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="◀ Previous" if target.direction is Direction.PREVIOUS else "Next ▶",
            style=discord.ButtonStyle.secondary,
            custom_id=target.encode(),
            disabled=disabled,
        )
        super().__init__(button)
        self.target = target

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        return cls(Page.decode(match))

    async def act(self, interaction: Interaction) -> None:
        target = self.target
        if interaction.user.id != target.owner:
            command = "/source" if target.ref else "/sources"
            what = "document" if target.ref else "list"
            raise Refusal(f"These buttons belong to whoever opened this {what}; use `{command}` to open your own.")
        service = _service(interaction)
        if target.ref:
            doc = find_ref(service.corpus, target.ref)
            paras = await asyncio.to_thread(service.paragraphs, doc.doc_id)
            embed, page, count = document_page(doc, paras, page=target.page)
        else:
            embed, page, count = listing_page(service.documents(), target.page)
        view = pager_view(target.owner, page, count, target.ref, download=bool(target.ref))
        await interaction.response.edit_message(embed=embed, view=view, allowed_mentions=NO_MENTIONS)


class DownloadButton(Guarded, discord.ui.DynamicItem[discord.ui.Button[Any]], template=Download.PATTERN):
    def __init__(self, target: Download) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Download .txt", style=discord.ButtonStyle.primary, custom_id=target.encode()
        )
        super().__init__(button)
        self.target = target

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DownloadButton:
        return cls(Download.decode(match))

    async def act(self, interaction: Interaction) -> None:
        doc = find_ref(_service(interaction).corpus, self.target.ref)
        file = discord.File(io.BytesIO(doc.text.encode("utf-8")), filename=f"{doc.doc_id}.txt")
        await interaction.response.send_message(file=file, ephemeral=True, allowed_mentions=NO_MENTIONS)


DYNAMIC_ITEMS = (FullTextButton, PageButton, DownloadButton, FeedbackButton)
