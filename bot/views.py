"""Buttons that keep working: their state lives in the ``custom_id`` (discord.py ``DynamicItem``),
not in memory. A "Full text" button under yesterday's answer, or a page turn after the bot was
restarted, still works; a view held in memory would answer "This interaction failed" after 15
minutes or a restart.

``custom_id`` layouts (at most 100 characters; ``REF`` is a document id, or ``#`` and a hash of a
long one; an empty ``REF`` on a page button means the list of documents):

- ``vb:full:PARAGRAPH:REF``: open a document at a paragraph, for the clicker only;
- ``vb:pg:p|n:OWNER:PAGE:REF``: show PAGE; only OWNER, who opened the pages, may turn them;
- ``vb:dl:REF``: the document as a .txt file, for the clicker only.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.formatting import PAGE_CHARS, clip, escape, pack, page_of_paragraph, source_header, source_pages, sources_lines
from bot.replies import NO_MENTIONS, Refusal, report_error
from embeddings.answer.search import SearchEngine
from embeddings.corpus.chunking import Paragraph
from embeddings.corpus.documents import Corpus, Document

if TYPE_CHECKING:
    from bot.client import VerbatimBot

    Interaction = discord.Interaction[VerbatimBot]
else:
    Interaction = discord.Interaction

MAX_REF = 60
"""Longest document id put in a custom_id as it is; longer ones are referred to by a hash."""
LISTING_FOOTER = "Newest first · /source opens one"


def doc_ref(doc_id: str) -> str:
    if len(doc_id) <= MAX_REF:
        return doc_id
    return "#" + hashlib.sha256(doc_id.encode()).hexdigest()[:20]


def find_ref(corpus: Corpus, ref: str) -> Document:
    """The document a button points at, if it is still in the corpus (it may have been removed by
    a rebuild since the button was posted)."""
    by_hash = ref.startswith("#")
    doc = next((d for d in corpus if doc_ref(d.doc_id) == ref), None) if by_hash else corpus.get(ref)
    if doc is None:
        raise Refusal("That document is no longer in the corpus; `/sources` lists what is.")
    return doc


async def _engine(interaction: Interaction) -> SearchEngine:
    return await interaction.client.holder.get()


async def _guarded(interaction: Interaction, action: Callable[[], Awaitable[None]]) -> None:
    """Errors in a button reach the member like command errors do; discord.py would only log them."""
    try:
        await action()
    except Exception as exc:
        await report_error(interaction, exc)


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


def listing_page(corpus: Corpus, page: int = 0) -> tuple[discord.Embed, int, int]:
    pages = pack(sources_lines(corpus), PAGE_CHARS) or ["The corpus is empty."]
    page = max(0, min(page, len(pages) - 1))
    return _page_embed(f"{len(corpus)} documents", pages[page], LISTING_FOOTER, page, len(pages)), page, len(pages)


def pager_view(owner: int, page: int, count: int, ref: str, download: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton("p", owner, max(page - 1, 0), ref, disabled=page == 0))
    view.add_item(PageButton("n", owner, min(page + 1, count - 1), ref, disabled=page >= count - 1))
    if download:
        view.add_item(DownloadButton(ref))
    return view


def answer_view(documents: list[tuple[str, str, int]], answer_id: str = "", declined: bool = False) -> discord.ui.View:
    """A "Full text" button per quoted document (doc id, title, cited paragraph), first citation
    wins; with an answer id, the two feedback buttons."""
    view = discord.ui.View(timeout=None)
    seen: set[str] = set()
    for doc_id, title, paragraph in documents:
        if doc_id not in seen:
            seen.add(doc_id)
            view.add_item(FullTextButton(doc_ref(doc_id), paragraph, f"Full text: {title}"))
    if answer_id:
        view.add_item(FeedbackButton("a", answer_id, row=1, declined=declined))
        view.add_item(FeedbackButton("x" if declined else "w", answer_id, row=1, declined=declined))
    return view


async def send_document(
    interaction: Interaction, doc: Document, paras: list[Paragraph], paragraph: int | None, ephemeral: bool
) -> None:
    if paragraph is not None and not 1 <= paragraph <= len(paras):
        raise Refusal(f"{escape(doc.title)} has paragraphs 1 to {len(paras)}, not {paragraph}.")
    embed, page, count = document_page(doc, paras, paragraph=paragraph)
    view = pager_view(interaction.user.id, page, count, doc_ref(doc.doc_id), download=True)
    await interaction.response.send_message(embed=embed, view=view, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)


async def send_listing(interaction: Interaction, corpus: Corpus) -> None:
    embed, page, count = listing_page(corpus)
    view = pager_view(interaction.user.id, page, count, "", download=False)
    await interaction.response.send_message(embed=embed, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS)


class FullTextButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vb:full:(?P<para>\d+):(?P<ref>.+)"):
    def __init__(self, ref: str, paragraph: int, label: str = "Full text") -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=clip(label, 80), style=discord.ButtonStyle.secondary, custom_id=f"vb:full:{paragraph}:{ref}"
        )
        super().__init__(button)
        self.ref, self.paragraph = ref, paragraph

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FullTextButton:
        return cls(match["ref"], int(match["para"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # discord.py's signature
        async def open_it() -> None:
            engine = await _engine(interaction)
            doc = find_ref(engine.corpus, self.ref)
            paras = engine.paragraphs(doc.doc_id)
            paragraph = self.paragraph if self.paragraph <= len(paras) else None  # the text may have changed
            await send_document(interaction, doc, paras, paragraph, ephemeral=True)

        await _guarded(interaction, open_it)


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vb:fb:(?P<verdict>[awx]):(?P<aid>[0-9a-f]{16})"
):
    """ "answers it" records a vote at once; "wrong passage" asks what was wrong, in a form whose
    words are stored, never posted. Both answer privately."""

    def __init__(self, verdict: str, answer_id: str, row: int | None = None, declined: bool = False) -> None:
        labels = ("right: nothing answers", "wrong: a statement does") if declined else ("answers it", "wrong passage")
        button: discord.ui.Button[Any] = discord.ui.Button(
            row=row,
            label=labels[0] if verdict == "a" else labels[1],
            emoji="✅" if verdict == "a" else "❌",
            style=discord.ButtonStyle.secondary,
            custom_id=f"vb:fb:{verdict}:{answer_id}",
        )
        super().__init__(button)
        self.verdict, self.answer_id = verdict, answer_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackButton:
        return cls(match["verdict"], match["aid"], declined=match["verdict"] == "x")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # discord.py's signature
        async def vote() -> None:
            if self.verdict in ("w", "x"):
                await interaction.response.send_modal(WrongPassageModal(self.answer_id, declined=self.verdict == "x"))
                return
            await record_vote(interaction, self.answer_id, "answers")

        await _guarded(interaction, vote)


async def record_vote(
    interaction: discord.Interaction[Any], answer_id: str, verdict: str, comment: str = "", evidence: str = ""
) -> None:
    bot = interaction.client
    args = (answer_id, str(interaction.user.id), verdict, comment, evidence)
    stored = await asyncio.to_thread(bot.state.vote, *args)
    if not stored and bot.pending():  # the answer's record may still be on its way to the disk
        await bot.settle()
        stored = await asyncio.to_thread(bot.state.vote, *args)
    text = (
        "Thanks: noted, privately. Your vote on this answer replaces any earlier one."
        if stored
        else "Sorry, this answer is too old to take votes (its record is gone)."
    )
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


class WrongPassageModal(discord.ui.Modal, title="What was wrong?"):
    """After a wrong passage the words that answer are optional (left empty: nothing does); after a
    wrong decline they are what the member is telling us, so they are required."""

    def __init__(self, answer_id: str, declined: bool = False) -> None:
        super().__init__(timeout=900)
        self.answer_id = answer_id
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

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:  # discord.py's signature
        await record_vote(interaction, self.answer_id, "wrong", self.comment.value, self.evidence.value)


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"vb:pg:(?P<dir>[pn]):(?P<owner>\d+):(?P<page>\d+):(?P<ref>.*)",
):
    def __init__(self, direction: str, owner: int, page: int, ref: str, disabled: bool = False) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="◀ Previous" if direction == "p" else "Next ▶",
            style=discord.ButtonStyle.secondary,
            custom_id=f"vb:pg:{direction}:{owner}:{page}:{ref}",
            disabled=disabled,
        )
        super().__init__(button)
        self.owner, self.page, self.ref = owner, page, ref

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        return cls(match["dir"], int(match["owner"]), int(match["page"]), match["ref"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # discord.py's signature
        async def turn() -> None:
            if interaction.user.id != self.owner:
                command = "/source" if self.ref else "/sources"
                what = "document" if self.ref else "list"
                raise Refusal(f"These buttons belong to whoever opened this {what}; use `{command}` to open your own.")
            engine = await _engine(interaction)
            if self.ref:
                doc = find_ref(engine.corpus, self.ref)
                embed, page, count = document_page(doc, engine.paragraphs(doc.doc_id), page=self.page)
            else:
                embed, page, count = listing_page(engine.corpus, self.page)
            view = pager_view(self.owner, page, count, self.ref, download=bool(self.ref))
            await interaction.response.edit_message(embed=embed, view=view, allowed_mentions=NO_MENTIONS)

        await _guarded(interaction, turn)


class DownloadButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vb:dl:(?P<ref>.+)"):
    def __init__(self, ref: str) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Download .txt", style=discord.ButtonStyle.primary, custom_id=f"vb:dl:{ref}"
        )
        super().__init__(button)
        self.ref = ref

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DownloadButton:
        return cls(match["ref"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # discord.py's signature
        async def download() -> None:
            doc = find_ref((await _engine(interaction)).corpus, self.ref)
            file = discord.File(io.BytesIO(doc.text.encode("utf-8")), filename=f"{doc.doc_id}.txt")
            await interaction.response.send_message(file=file, ephemeral=True, allowed_mentions=NO_MENTIONS)

        await _guarded(interaction, download)


DYNAMIC_ITEMS = (FullTextButton, PageButton, DownloadButton, FeedbackButton)
