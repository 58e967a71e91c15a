"""Compare and timeline as claims: the labelled items, how they are judged, the address model that
decides "does this speaker address the topic", and what `compare --json` and `timeline --json` print."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embeddings.answer.addressing import SIGNALS, AddressModel, shipped_address_model
from embeddings.answer.analysis import Verdict, compare, timeline
from embeddings.corpus.documents import load_corpus
from embeddings.errors import VerbatimError
from embeddings.presentation import checked_scope, silence_line
from embeddings.quality.positions import (
    ADDRESS_FEATURES,
    MAX_FALSE_SILENCES,
    CompareItem,
    SpeakerTruth,
    StatementRow,
    TimelineItem,
    fit_address_model,
    judge_with,
    load_analysis_items,
    topic_folds,
)

US = "003_98d10b9dfbac6c7a"
TASS = "004_98d5f114bee79a04"


def _write(path: Path, rows: list[Any]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


# ---- the labelled items ----------------------------------------------------------------------------


def test_items_are_read_beside_questions_and_a_bad_one_is_named(tmp_path: Path) -> None:
    good = _write(
        tmp_path / "items.jsonl",
        [
            {"id": "q1", "question": "Hokkaido ICBM launch", "evidence": ["Hokkaido"]},
            {"id": "c1", "kind": "compare", "topic": "arms transfers", "speakers": [
                {"name": "the US", "docs": [US], "evidence": ["arms transfers"]},
                {"name": "TASS", "docs": [], "evidence": []},
            ]},
            {"id": "t1", "kind": "timeline", "topic": "arms transfers", "statements": [
                {"doc": US, "evidence": ["arms transfers"]},
            ]},
        ],
    )  # fmt: skip
    compare_item, timeline_item = load_analysis_items(good)
    assert isinstance(compare_item, CompareItem) and isinstance(timeline_item, TimelineItem)
    assert [s.addresses for s in compare_item.speakers] == [True, False]
    assert compare_item.documents == (US,) and timeline_item.documents == (US,) and timeline_item.speaker == ""
    bare = _write(
        tmp_path / "bare.jsonl",
        ['{"id": "c", "kind": "compare", "topic": "t", "speakers": [{"name": "X", "docs": [], "evidence": "oops"}]}'],
    )
    with pytest.raises(VerbatimError, match=r"bare.jsonl:1: not a compare or timeline item"):
        load_analysis_items(bare)
    empty = _write(tmp_path / "empty.jsonl", ['{"id": "c", "kind": "compare", "topic": "t", "speakers": []}'])
    with pytest.raises(VerbatimError, match="at least one speaker"):
        load_analysis_items(empty)


def test_topics_that_share_their_words_share_a_fold() -> None:
    def item(i: str, topic: str) -> CompareItem:
        return CompareItem(i, topic, (SpeakerTruth("X", (), ()),))

    items = [item("a", "Kashmir"), item("b", "the Kashmir dispute"), item("c", "Black Sea grain exports")]
    items += [item(f"z{n}", f"subject{n} of matter{n}") for n in range(20)]
    folds = topic_folds(items, 5)
    assert folds["a"] == folds["b"], "a topic and its longer wording are one topic"
    assert set(folds.values()) == set(range(5)) and folds == topic_folds(items, 5), "every fold used, repeatably"


# ---- judging ---------------------------------------------------------------------------------------


def _levels(model: AddressModel, silent_below: float, sure_from: float, timeline_from: float) -> AddressModel:
    return dataclasses.replace(model, silent_below=silent_below, sure_from=sure_from, timeline_from=timeline_from)


def test_a_model_that_always_speaks_or_never_does_is_scored_for_it(fake_engine: Any) -> None:
    items: list[CompareItem | TimelineItem] = [
        CompareItem("c1", "arms transfers between North Korea and Russia", (
            SpeakerTruth("the US", (US,), ("arms transfers",)),
            SpeakerTruth("TASS", (), ()),
        )),
        TimelineItem("t1", "arms transfers between North Korea and Russia", "", {US: ("arms transfers",)}),
    ]  # fmt: skip
    shipped = shipped_address_model()
    always = judge_with(fake_engine, items, _levels(shipped, -math.inf, -math.inf, -math.inf))
    assert (always.addressing, always.silent, always.false_silences) == (1, 1, 0)
    assert always.false_positions == always.stated_positions == 1, "TASS quoted as stating a position"
    assert always.timeline_right == 1 and always.timeline_shown == len(fake_engine.corpus.documents)
    never = judge_with(fake_engine, items, _levels(shipped, math.inf, math.inf, math.inf))
    assert (never.false_silences, never.false_positions, never.found, never.timeline_shown) == (1, 0, 0, 0)
    assert "false silence: c1 the US" in never.misses[0] and "timeline missed: t1" in never.misses[1]
    metrics = never.metrics()
    assert metrics["false_silences"] == 1.0 and metrics["timeline_precision"] is None, "no share of nothing"


# ---- the address model -----------------------------------------------------------------------------


def _rows(n: int, seed: int = 3) -> list[StatementRow]:
    """Statements whose `best_cover` tells who addresses the topic, with noise in it."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        says = bool(i % 2)
        signals = {name: float(rng.normal()) for name in ADDRESS_FEATURES}
        signals["best_cover"] = float(says) + float(rng.normal(0, 0.4))
        kind = "compare" if i % 3 else "timeline"
        rows.append(StatementRow("r", f"i{i // 6}", kind, f"S{i}", f"d{i}", says, says, signals))
    return rows


def test_the_model_learns_its_signal_and_orders_its_levels(tmp_path: Path) -> None:
    rows = _rows(600)
    model = fit_address_model(rows)
    weights = dict(zip(model.linear.features, model.linear.coef.tolist(), strict=True))
    assert max(weights, key=lambda k: abs(weights[k])) == "best_cover" and weights["best_cover"] > 0
    assert model.silent_below <= model.sure_from
    speaking = [model.decision(r.signals) for r in rows if r.kind == "compare" and r.speaker_addresses]
    below = sum(d < model.silent_below for d in speaking) / len(speaking)
    assert below <= MAX_FALSE_SILENCES + 1 / len(speaking), "few speakers who address a topic fall below it"
    again = AddressModel.from_json(json.loads(model.dumps()))
    assert again.silent_below == pytest.approx(model.silent_below, abs=1e-5)
    assert [again.decision(r.signals) for r in rows[:20]] == pytest.approx(
        [model.decision(r.signals) for r in rows[:20]], abs=1e-4
    )


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d.pop("sure_from"), "damaged"),
        (lambda d: d["model"].update(features=["no_such_signal"]), "does not compute"),
        (lambda d: d.update(silent_below=5.0, sure_from=1.0), "out of order"),
    ],
)
def test_a_damaged_address_model_is_refused(damage: Any, message: str) -> None:
    data = shipped_address_model().to_json()
    damage(data)
    with pytest.raises(VerbatimError, match=message):
        AddressModel.from_json(data)


def test_the_shipped_model_reads_only_signals_the_code_computes() -> None:
    model = shipped_address_model()
    assert set(model.linear.features) <= set(SIGNALS) and model.silent_below <= model.sure_from


# ---- what a reader is told -------------------------------------------------------------------------


def test_a_silence_says_what_was_read(fake_engine: Any) -> None:
    docs = sorted(fake_engine.corpus.documents.values(), key=lambda d: d.date)
    one_each = [d for d in docs if d.date.year in (2018, 2023)]
    assert checked_scope([]) == "none checked"
    assert checked_scope(one_each) == "2 checked, 2018 and 2023"
    same_year = [dataclasses.replace(docs[0], date=date(2024, m, 1)) for m in (3, 7)]
    assert checked_scope(same_year) == "2 checked, 2024-03-01 and 2024-07-01"
    many = [dataclasses.replace(docs[0], date=date(2010 + y, 1, 1)) for y in range(7)]
    assert checked_scope(many) == "7 checked, 2010 to 2016"
    silent = compare(fake_engine, "arms transfers", ["TASS"], model=_levels(shipped_address_model(), 9e9, 9e9, 9e9))
    (tass,) = silent.positions
    assert tass.verdict is Verdict.SILENT and not tass.passages
    assert silence_line(tass) == "No statement by TASS in the corpus addresses this: 1 checked, 2024."


def test_compare_and_timeline_json_carry_verbatim_offsets_and_silences(run, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("compare", "--json", "arms transfers", "Japan", "TASS", "Freedonia")
    assert code == 0
    data = json.loads(out)
    assert data["unknown"] == ["Freedonia"] and [s["speaker"] for s in data["speakers"]] == ["Japan", "TASS"]
    texts = {d.doc_id: d.text for d in load_corpus(corpus_dir).documents.values()}
    for speaker in data["speakers"]:
        assert speaker["verdict"] in {v.value for v in Verdict} and speaker["checked"]
        assert bool(speaker["passages"]) == (speaker["verdict"] != "silent")
        assert ("silence" in speaker) == (speaker["verdict"] == "silent")
        for passage in speaker["passages"]:
            body = texts[passage["doc_id"]]
            assert body[passage["start"] : passage["end"]] == passage["quote"]
    code, out, _ = run("timeline", "--json", "arms transfers", "--speaker", "Japan")
    line = json.loads(out)
    assert code == 0 and line["unknown_speaker"] is None and line["checked"] == 4
    dates = [e["date"] for e in line["entries"]]
    assert dates == sorted(dates)
    for entry in line["entries"]:
        passage = entry["passage"]
        assert texts[entry["doc_id"]][passage["start"] : passage["end"]] == passage["quote"]
    code, out, _ = run("timeline", "--json", "arms transfers", "--speaker", "Freedonia")
    assert code == 0 and json.loads(out)["unknown_speaker"] == "Freedonia"


def test_eval_reads_compare_and_timeline_items(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    items = _write(
        tmp_path / "items.jsonl",
        [
            {"id": "c1", "kind": "compare", "topic": "arms transfers", "speakers": [
                {"name": "the US", "docs": [US], "evidence": ["arms transfers"]},
                {"name": "TASS", "docs": [], "evidence": []},
            ]},
            {"id": "t1", "kind": "timeline", "topic": "arms transfers", "statements": [
                {"doc": US, "evidence": ["arms transfers"]},
            ]},
            {"id": "t2", "kind": "timeline", "topic": "arms transfers", "statements": [
                {"doc": "ungd99_XXX_2030", "evidence": ["nothing"]},
            ]},
        ],
    )  # fmt: skip
    code, out, err = run("eval", str(items), "--json")
    assert code == 0
    figures = json.loads(out)["compare_timeline"]
    assert figures["speakers_addressing"] == 1 and figures["speakers_silent"] == 1
    assert figures["timeline_statements"] == 2
    assert {"position_found", "false_silences", "false_positions", "timeline_recall", "timeline_precision"} <= set(
        figures
    )
    assert "ungd99_XXX_2030" in err, "a statement the corpus lacks is named, not silently scored"


# ---- the real model over the seeds -----------------------------------------------------------------


@pytest.mark.model
def test_a_stated_position_is_quoted_verbatim_from_each_speaker(real_engine: Any) -> None:
    named = compare(real_engine, "DPRK-Russia arms transfers", ["Japan", "the US"])
    assert [p.verdict for p in named.positions] == [Verdict.POSITION, Verdict.POSITION]
    for p in named.positions:
        assert p.passages and {r.doc_id for r in p.passages} <= set(p.documents)
        for r in p.passages:
            assert real_engine.corpus.documents[r.doc_id].text[r.start : r.end] == r.quote
    line = timeline(real_engine, "North Korea's ballistic missile launches")
    assert len(line.entries) >= 3 and line.checked >= len(line.entries)
    assert [d.date for d, _ in line.entries] == sorted(d.date for d, _ in line.entries)
    for doc, r in line.entries:
        assert doc.text[r.start : r.end] == r.quote and r.doc_id == doc.doc_id
