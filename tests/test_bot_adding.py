"""`/add` end to end through the fake Discord: an attachment or a link, a private preview of what
was detected, an edit form, Save (the statement is then answerable) or Cancel, and refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.settings import BotSettings
from embeddings.corpus.documents import load_corpus
from embeddings.service import Verbatim
from embeddings.types import IndexWriteError
from tests.documents_fixtures import image_only_pdf, osce_pdf
from tests.fake_discord import APP_ID, FakeDiscord
from tests.test_bot_e2e import TIMEOUT, ask, option, running_bot, settings  # noqa: F401  (fixture)

FREEDONIA = [
    "STATEMENT BY THE DELEGATION OF FREEDONIA",
    "Freedonia is gravely concerned by the overfishing of cod in the northern waters and calls for a "
    "moratorium on industrial trawling until the stocks recover.",
    "Freedonia will contribute three million euros to the monitoring programme.",
]


def _fields(message: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message["embeds"][0]["fields"]}


async def _preview(fake: FakeDiscord, iid: str) -> dict[str, Any]:
    assert (await fake.answer_to(iid, TIMEOUT)).body["type"] == 5, "acknowledged at once, privately"
    preview = await fake.followup_to(iid, TIMEOUT)
    assert preview.body["flags"] == 64, "the preview is private to the moderator"
    message: dict[str, Any] = preview.response
    return message


async def test_an_attached_pdf_is_previewed_edited_saved_and_then_answers(
    settings: BotSettings,  # noqa: F811
    corpus_dir: Path,
) -> None:
    async with running_bot(settings) as fake:
        pdf = fake.upload("freedonia.pdf", osce_pdf(FREEDONIA, symbol="PC.DEL/555/24", circulated="2 May 2024"))
        iid = await fake.slash("add", [option("file", pdf["id"], kind=11)], uid="1", admin=True, attachments=[pdf])
        message = await _preview(fake, iid)
        fields = _fields(message)
        assert "Delegation of Freedonia" in fields["Speaker"] and "PC.DEL/555/24" in fields["Symbol"]
        assert "2024-05-02" in fields["Date"] and "inferred" in fields["Venue"]
        assert "overfishing of cod" in message["embeds"][0]["description"]

        edit = await fake.click(message, "Edit", uid="1")
        await fake.answer_to(edit, TIMEOUT)
        assert fake.modals[edit]["title"] == "Statement details"
        submit = await fake.submit_modal(edit, {"Date (YYYY-MM-DD)": "2024-04-30"}, message, uid="1")
        edited = (await fake.answer_to(submit, TIMEOUT)).response["resource"]["message"]
        assert _fields(edited)["Date"] == "2024-04-30", "an edited field is no longer marked inferred"

        save = await fake.click(edited, "Save", uid="1")
        await fake.answer_to(save, TIMEOUT)
        done = await fake.wait_for(
            lambda r: (
                r.path.startswith(f"/webhooks/{APP_ID}/tok{save}/messages/@original")
                and "Added" in (r.body or {}).get("content", "")
            ),
            TIMEOUT,
        )
        assert "1 added" in done.body["content"]
        added = [d for d in load_corpus(corpus_dir).documents.values() if d.symbol == "PC.DEL/555/24"]
        assert len(added) == 1 and added[0].date.isoformat() == "2024-04-30"
        assert added[0].source == "Discord attachment freedonia.pdf" and added[0].checksum.startswith("sha256:")
        answer = await ask(fake, "What did Freedonia say about the overfishing of cod?", uid="700")
        assert any("Freedonia" in e["footer"]["text"] or "Freedonia" in e["title"] for e in answer["embeds"])

        again = await fake.slash("add", [option("file", pdf["id"], kind=11)], uid="1", admin=True, attachments=[pdf])
        await fake.answer_to(again, TIMEOUT)
        refusal = (await fake.followup_to(again, TIMEOUT)).body["content"]
        assert f"already in the corpus as {added[0].path}" in refusal.replace("\\", ""), refusal


async def test_cancel_saves_nothing(settings: BotSettings, corpus_dir: Path) -> None:  # noqa: F811
    before = sorted(p.name for p in corpus_dir.iterdir())
    async with running_bot(settings) as fake:
        pdf = fake.upload("freedonia.pdf", osce_pdf(FREEDONIA))
        iid = await fake.slash("add", [option("file", pdf["id"], kind=11)], uid="1", admin=True, attachments=[pdf])
        message = await _preview(fake, iid)
        cancel = await fake.click(message, "Cancel", uid="1")
        assert "nothing was saved" in (await fake.answer_to(cancel, TIMEOUT)).body["data"]["content"]
    assert sorted(p.name for p in corpus_dir.iterdir()) == before


async def test_bad_input_gets_one_private_line_and_changes_nothing(
    settings: BotSettings,  # noqa: F811
    corpus_dir: Path,
) -> None:
    before = sorted(p.name for p in corpus_dir.iterdir())
    async with running_bot(settings) as fake:
        scan = fake.upload("scan.pdf", image_only_pdf())
        iid = await fake.slash("add", [option("file", scan["id"], kind=11)], uid="1", admin=True, attachments=[scan])
        await fake.answer_to(iid, TIMEOUT)
        refusal = (await fake.followup_to(iid, TIMEOUT)).body
        assert "OCR is not supported" in refusal["content"] and refusal["flags"] == 64

        inside = await fake.slash("add", [option("link", "http://127.0.0.1:9/statement")], uid="1", admin=True)
        await fake.answer_to(inside, TIMEOUT)
        refusal = (await fake.followup_to(inside, TIMEOUT)).body
        assert "private, loopback or link-local" in refusal["content"] and refusal["flags"] == 64

        seed = fake.upload("seed-copy.txt", (corpus_dir / "002_78125fb04298b027.txt").read_bytes(), "text/plain")
        again = await fake.slash("add", [option("file", seed["id"], kind=11)], uid="1", admin=True, attachments=[seed])
        await fake.answer_to(again, TIMEOUT)
        refusal = (await fake.followup_to(again, TIMEOUT)).body
        assert "already has a corpus header" in refusal["content"]

        neither = await fake.slash("add", [], uid="1", admin=True)
        assert "Attach a file or give a link" in (await fake.answer_to(neither, TIMEOUT)).body["data"]["content"]
    assert sorted(p.name for p in corpus_dir.iterdir()) == before


async def test_add_is_refused_for_a_member_without_permission(settings: BotSettings) -> None:  # noqa: F811
    async with running_bot(settings) as fake:
        pdf = fake.upload("freedonia.pdf", osce_pdf(FREEDONIA))
        iid = await fake.slash("add", [option("file", pdf["id"], kind=11)], uid="5", attachments=[pdf])
        body = (await fake.answer_to(iid, TIMEOUT)).body
        assert "Manage Server" in body["data"]["content"] and body["data"]["flags"] == 64
        assert not fake.modals


async def test_a_rebuild_that_fails_after_save_ends_with_a_clear_private_line(
    settings: BotSettings,  # noqa: F811
    corpus_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def full_disk(self: Verbatim, *, verify: bool = False) -> None:
        raise IndexWriteError("cannot write the index in .index: No space left on device")

    monkeypatch.setattr(Verbatim, "reindex", full_disk)
    async with running_bot(settings) as fake:
        pdf = fake.upload("freedonia.pdf", osce_pdf(FREEDONIA, symbol="PC.DEL/556/24"))
        iid = await fake.slash("add", [option("file", pdf["id"], kind=11)], uid="1", admin=True, attachments=[pdf])
        message = await _preview(fake, iid)
        save = await fake.click(message, "Save", uid="1")
        await fake.answer_to(save, TIMEOUT)
        done = await fake.wait_for(
            lambda r: (
                r.path.startswith(f"/webhooks/{APP_ID}/tok{save}/messages/@original")
                and "could not be updated" in (r.body or {}).get("content", "")
            ),
            TIMEOUT,
        )
        assert "No space left on device" in done.body["content"] and "Run /reindex" in done.body["content"]
    assert [d for d in load_corpus(corpus_dir).documents.values() if d.symbol == "PC.DEL/556/24"], "the file is saved"
