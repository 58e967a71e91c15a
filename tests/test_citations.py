"""Citations: enough to find the words in the original, and never cut where they lead."""

from __future__ import annotations

import datetime as dt

from embeddings.answer.citations import citation, format_date
from embeddings.corpus.chunking import ParagraphSpan
from embeddings.corpus.documents import Document


def _doc(title: str = "Statement on sanctions", speaker: str = "Delegation of Japan", symbol: str = "") -> Document:
    return Document(
        "d", title, speaker, "OSCE Permanent Council, Vienna", dt.date(2024, 7, 5), "text", "d.txt", symbol=symbol
    )


def test_a_citation_names_title_speaker_venue_date_symbol_and_paragraph() -> None:
    text = citation(_doc(symbol="PC.DEL/1/24"), ParagraphSpan(3, 4))
    assert text == (
        "Statement on sanctions, Delegation of Japan, OSCE Permanent Council, Vienna, "
        "5 July 2024, PC.DEL/1/24, paras. 3–4"
    )
    assert citation(_doc(), ParagraphSpan(2, 2), limit=500) == citation(_doc(), ParagraphSpan(2, 2))
    assert format_date(dt.date(2018, 9, 17)) == "17 September 2018"


def test_within_a_limit_names_are_shortened_never_the_locators() -> None:
    doc = _doc(title="T" * 300, speaker="Ambassador " + "S" * 120, symbol="FSC-PC.DEL/51/24")
    for limit in (80, 120, 200, 400):
        text = citation(doc, ParagraphSpan(9, 9), limit=limit)
        assert len(text) <= limit, (limit, len(text))
        assert text.endswith("5 July 2024, FSC-PC.DEL/51/24, para. 9")
    short = citation(doc, ParagraphSpan(9, 9), limit=200)
    title, speaker, venue = short.split(", ")[:3]
    assert title.endswith("…") and speaker.endswith("…"), "the long names give way"
    assert venue == "OSCE Permanent Council", "the short one keeps its words"
    assert len(title) >= len(speaker) - 1, "the budget is shared out evenly, shortest first"


def test_a_citation_exactly_at_its_limit_is_whole_and_one_under_is_shortened() -> None:
    doc = _doc()
    full = citation(doc, ParagraphSpan(1, 1))
    assert "…" not in full
    assert citation(doc, ParagraphSpan(1, 1), limit=len(full)) == full
    shorter = citation(doc, ParagraphSpan(1, 1), limit=len(full) - 1)
    assert len(shorter) <= len(full) - 1 and "…" in shorter and shorter.endswith("5 July 2024, para. 1")
    no_symbol = citation(doc, ParagraphSpan(1, 1))
    assert ", , " not in no_symbol and no_symbol.count(",") == 5
