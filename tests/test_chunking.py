from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.corpus.chunking import chunk_document, is_formulaic, paragraphs, word_count_tokens
from embeddings.corpus.documents import load_corpus
from tests.conftest import CORPUS, SEED_FILES

DOCS = {k: v for k, v in load_corpus(CORPUS).documents.items() if f"{k}.txt" in SEED_FILES}


def test_sentence_broken_across_blank_line_is_one_paragraph() -> None:
    for doc_id, tail, head in [
        ("000_4a0e896c0c50d79f", "2270(2016)", "that are binding"),
        ("001_9a301a089a780dac", "deployed to Russia and have", "engaged in military training"),
    ]:
        text = DOCS[doc_id].text
        para = next(p for p in paragraphs(text) if tail in text[p.start : p.end])
        assert head in text[para.start : para.end]
        chunk = next(c for c in chunk_document(text, word_count_tokens, 250) if c.start <= text.index(tail) < c.end)
        sentence = next((s, e) for s, e in chunk.sentences if s <= text.index(tail) < e)
        assert head in text[sentence[0] : sentence[1]], "the broken sentence must stay one sentence"


def test_ceremony_is_numbered_but_never_a_chunk() -> None:
    text = DOCS["001_9a301a089a780dac"].text
    paras = paragraphs(text)
    chair = [p for p in paras if text[p.start : p.end] == "Madam Chair,"]
    assert chair and all(p.formulaic for p in chair)
    for chunk in chunk_document(text, word_count_tokens, 250):
        quotable = " ".join(text[s:e] for s, e in chunk.sentences)
        assert not is_formulaic(quotable)
        assert "Thank you, Madam Chair." not in quotable


def test_short_lead_paragraphs_travel_with_the_next_one() -> None:
    text = DOCS["001_9a301a089a780dac"].text
    chunk = next(c for c in chunk_document(text, word_count_tokens, 250) if "FSC-PC.DEL/51/24" in text[c.start : c.end])
    assert "STATEMENT BY THE DELEGATION OF JAPAN" in text[chunk.start : chunk.end]
    assert chunk.paragraph.first < chunk.paragraph.last


def test_long_paragraph_is_split_into_overlapping_windows_never_truncated() -> None:
    sentences = [f"Sentence number {i} talks about sanctions and missiles in some detail." for i in range(60)]
    text = "Heading of the thing\n\n" + " ".join(sentences) + "\n"
    chunks = chunk_document(text, word_count_tokens, 120)
    assert len(chunks) > 3
    covered = {span for c in chunks for span in c.sentences}
    body_start = text.index("Sentence number 0")
    expected = {text.index(s, body_start) for s in sentences}
    assert {s for s, _ in covered} >= expected
    assert "Heading" in text[chunks[0].start : chunks[0].end], "the heading leads the first window"
    for a, b in itertools.pairwise(chunks):
        assert a.sentences[-1] in b.sentences, "consecutive windows share a sentence"
    for c in chunks:
        assert word_count_tokens(text[c.start : c.end]) <= 120 or len(c.sentences) == 1


def test_paragraph_numbers_count_blocks_as_a_reader_does() -> None:
    text = DOCS["004_98d5f114bee79a04"].text
    paras = paragraphs(text)
    assert text[paras[0].start : paras[0].end] == "All news"
    assert text[paras[4].start : paras[4].end].startswith("This topic was raised")


words = st.text(alphabet=st.sampled_from("abcdefghij  .,;:\n?!\u00a0’“”"), min_size=0, max_size=400)


@settings(max_examples=200, deadline=None)
@given(words)
def test_every_chunk_and_sentence_is_an_exact_span_of_the_text(text: str) -> None:
    for chunk in chunk_document(text, word_count_tokens, 40):
        assert 0 <= chunk.start < chunk.end <= len(text)
        for s, e in chunk.sentences:
            assert chunk.start <= s < e <= chunk.end
            assert text[s:e].strip() == text[s:e]


def test_a_long_paragraph_reaches_the_sentence_splitter_in_bounded_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """pysbd takes time quadratic in its input; the chunker keeps that input bounded, so chunking
    time grows linearly with the paragraph (benchmarks/chunking.py measures it)."""
    from embeddings.corpus import chunking

    seen: list[int] = []
    real = chunking._segmenter()

    class Recording:
        def processor(self, text: str) -> object:
            seen.append(len(text))
            return real.processor(text)  # type: ignore[attr-defined]

    monkeypatch.setattr(chunking, "_segmenter", lambda: Recording())
    sentence = "The delegation condemns the launch of yet another ballistic missile by the DPRK. "
    text = sentence * 1200  # one paragraph of about 100 KB
    spans = chunking.sentences(text, 0, len(text))
    assert len(spans) == 1200
    assert [text[s:e] for s, e in spans[:2]] == [sentence.strip()] * 2
    assert max(seen) <= chunking.SEGMENT_CHARS and sum(seen) == len(text)


def test_paragraph_numbering_follows_the_rule_in_corpus_readme() -> None:
    text = (
        "TITLE OF THE STATEMENT\n"  # 1: a heading is a numbered paragraph
        "\n"
        "Thank you, Madam Chair.\n"  # 2: ceremony is numbered too
        " \t\n"  # a line of spaces and tabs is blank
        "Japan has confirmed that soldiers were deployed and have\n"  # 3: no closing punctuation ...
        "\n"
        "engaged in training. This is a violation.\n"  # ... and a lower-case start: joined into 3
        "\n"
        "It said “the talks failed”\n"  # 4: no closing punctuation, but a capital follows
        "\n"
        "Another paragraph (closing bracket.)\n"  # 5
        "\n"
        "ends here after a closing bracket.\n"  # 6: the previous block was closed, so not joined
    )
    numbered = [(p.number, text[p.start : p.end].split()[0]) for p in paragraphs(text)]
    assert numbered == [(1, "TITLE"), (2, "Thank"), (3, "Japan"), (4, "It"), (5, "Another"), (6, "ends")]
    assert paragraphs(text)[1].formulaic
