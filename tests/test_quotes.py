"""The promise: every quote shown is an exact substring of its source, at the offsets given."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.formatting import quote_markdown
from embeddings.answer.quoting import QUOTE_CHARS, choose_quote
from embeddings.answer.search import Result, SearchEngine
from embeddings.engine import open_engine
from embeddings.index.embedder import HashingEmbedder
from embeddings.presentation import marked_quote, quote_lines
from embeddings.quality.evaluation import load_questions
from tests.conftest import DEV_QUESTIONS

HEADER = "---\ntitle: {title}\nspeaker: Someone\nvenue: Somewhere\ndate: 2024-0{month}-01\n---\n"
VOCAB = [
    "sanctions",
    "missile",
    "Japan",
    "Russia",
    "DPRK",
    "treaty",
    "launch",
    "Council",
    "ship",
    "oil",
    "condemns",
    "Pyongyang",
    "“quoted”",
    "U.S.",
    "H.E.",
    "(ROK)",
    "2270(2016)",
    "—",
    "\u00a0",
]


def _check(engine: SearchEngine, question: str) -> None:
    """Every quote is the file's own text: read from disk, not from the engine's copy."""
    answer = engine.search(question, k=5)
    for r in answer.results:
        doc = engine.corpus.documents[r.doc_id]
        on_disk = (engine.corpus.root / doc.path).read_bytes().decode("utf-8")
        assert on_disk.endswith(doc.text), "the text after the header is the file's, byte for byte"
        body_start = len(on_disk) - len(doc.text)
        assert on_disk[body_start + r.start : body_start + r.end] == r.quote
        assert 0 <= r.highlight[0] < r.highlight[1] <= len(r.quote)
        assert r.quote[r.highlight[0] : r.highlight[1]].strip()


@st.composite
def documents(draw: st.DrawFn) -> list[str]:
    docs = []
    for n in range(draw(st.integers(1, 3))):
        paras = []
        for _ in range(draw(st.integers(1, 6))):
            sents = []
            for _ in range(draw(st.integers(1, 8))):
                words = draw(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=30))
                sents.append(" ".join(words) + draw(st.sampled_from([".", "?", "!", "", ";", ".”"])))
            paras.append(draw(st.sampled_from([" ", "\n"])).join(sents))
        sep = draw(st.sampled_from(["\n\n", "\n\n\n", "\r\n\r\n", "\n \n"]))
        docs.append(HEADER.format(title=f"Doc {n}", month=n + 1) + sep.join(paras) + draw(st.sampled_from(["", "\n"])))
    return docs


WORDS = [w for w in VOCAB if any(c.isalnum() for c in w)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=documents(), question=st.lists(st.sampled_from(WORDS), min_size=1, max_size=6))
def test_property_quotes_are_exact_substrings(tmp_path_factory, docs: list[str], question: list[str]) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("prop")
    corpus = root / "corpus"
    corpus.mkdir()
    for i, raw in enumerate(docs):
        (corpus / f"d{i}.txt").write_text(raw, encoding="utf-8", newline="")
    engine = open_engine(corpus, root / "index", HashingEmbedder(max_tokens=48))
    _check(engine, " ".join(question))


def test_dev_questions_quote_exactly_on_the_seed_corpus(fake_engine: SearchEngine) -> None:
    for q in load_questions(DEV_QUESTIONS):
        _check(fake_engine, q.question)


def test_quote_budget_and_highlight() -> None:
    spans = [(0, 100), (101, 250), (251, 300), (301, 700)]
    q = choose_quote(spans, [0.1, 0.9, 0.5, 0.2])
    assert (q.highlight_start, q.highlight_end) == (101, 250)
    assert q.start == 0 and q.end == 300
    alone = choose_quote([(0, 900)], [1.0])
    assert (alone.start, alone.end) == (0, 900)


def test_long_quotes_stay_within_budget(tmp_path: Path) -> None:
    spans = [(i * 150, i * 150 + 149) for i in range(10)]
    q = choose_quote(spans, [float(i % 3) for i in range(10)])
    assert q.end - q.start <= QUOTE_CHARS


def _result(quote: str, highlight: tuple[int, int]) -> Result:
    return Result("d", "T", "cite", 1, quote, highlight, 0, len(quote), 1.0)


def test_quotes_keep_their_source_lines() -> None:
    quote = "First line of the quote,\nsecond line with the **answer** here.\n\nAfter a break."
    start = quote.index("second")
    result = _result(quote, (start, quote.index("\n\n")))
    lines = quote_lines(result)
    assert ["".join(t for t, _ in line) for line in lines] == quote.split("\n"), "never re-flowed"
    assert [t for t, marked in lines[1] if marked] == ["second line with the **answer** here."]
    md = quote_markdown(result).split("\n")
    assert len(md) == 4 and all(line.startswith("> ") or line == ">" for line in md if line.strip())
    assert md[1] == "> **second line with the \\*\\*answer\\*\\* here.**", "bold piece by piece, markdown escaped"
    assert "**" not in md[0] and "**" not in md[3]


def test_bold_never_opens_next_to_a_space() -> None:
    quote = "Intro.  The answer spans\n  two lines.  Tail."
    result = _result(quote, (quote.index("The"), quote.index("  Tail")))
    md = quote_markdown(result)
    assert md.split("\n") == ["> Intro.  **The answer spans**", ">   **two lines.**  Tail."]


def test_a_quote_grows_toward_the_better_neighbour_and_stops_at_the_budget_or_three() -> None:
    spans = [(0, 50), (51, 100), (101, 150), (151, 200), (201, 250)]
    q = choose_quote(spans, [0.0, 0.8, 1.0, 0.2, 0.5])
    assert (q.start, q.end) == (51, 200), "best, then the better neighbour each time: 0.8 before 0.2, then 0.2"
    assert (q.highlight_start, q.highlight_end) == (101, 150)
    narrow = choose_quote(spans, [0.0, 0.8, 1.0, 0.2, 0.5], max_chars=100)
    assert (narrow.start, narrow.end) == (51, 150), "two sentences fit 100 characters, a third does not"
    one = choose_quote(spans, [0.0, 0.8, 1.0, 0.2, 0.5], max_sentences=1)
    assert (one.start, one.end) == (101, 150)
    given = choose_quote(spans, [0.0, 0.8, 1.0, 0.2, 0.5], best=4)
    assert (given.highlight_start, given.highlight_end) == (201, 250) and given.end == 250
    first = choose_quote(spans, [1.0, 0.8, 0.1, 0.2, 0.5])
    assert (first.start, first.end) == (0, 150) and first.highlight_start == 0


def test_a_neighbour_scored_minus_infinity_is_never_joined() -> None:
    spans = [(0, 50), (51, 100), (101, 150)]
    q = choose_quote(spans, [-math.inf, 1.0, -math.inf])
    assert (q.start, q.end) == (51, 100)
    with pytest.raises(ValueError):
        choose_quote(spans, [1.0, 2.0])
    with pytest.raises(ValueError):
        choose_quote([], [])


def test_quote_ties_and_the_exact_budget() -> None:
    spans = [(0, 100), (100, 200), (200, 300)]
    tie = choose_quote(spans, [0.5, 0.5, 0.5], max_sentences=1)
    assert tie.highlight_start == 0, "of equal scores the first sentence is the answer"
    exact = choose_quote(spans, [0.1, 1.0, 0.2], max_chars=200)
    assert (exact.start, exact.end) == (100, 300), "a quote exactly at the budget is allowed"
    left = choose_quote(spans, [0.3, 1.0, 0.2], max_chars=200)
    assert (left.start, left.end) == (0, 200)


def test_a_source_that_prints_its_own_bold_never_runs_into_the_highlight() -> None:
    quote = "**Resolution 2699** was adopted. Tunisia renews its call for **reform**."
    result = _result(quote, (0, 32))
    plain = marked_quote(result, "**", "**")
    assert "****" not in plain
    assert plain.startswith("**\\*\\*Resolution 2699\\*\\* was adopted.**") and plain.endswith("\\*\\*reform\\*\\*.")
    coloured = marked_quote(result, "\x1b[1m", "\x1b[0m")
    assert coloured == "\x1b[1m**Resolution 2699** was adopted.\x1b[0m Tunisia renews its call for **reform**."
