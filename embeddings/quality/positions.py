"""How far `compare` and `timeline` can be trusted, on labelled items (`compare_ungd.jsonl`).

A comparison makes two claims per speaker: "this passage states its position" and "it says nothing
on this in the corpus". The second is as serious as a wrong quote, since an analyst will repeat it.
A compare item names a topic and speakers, and for each the statements and exact phrases that state
its position, or nothing when none of its statements addresses the topic. A timeline item names a
topic (and maybe a speaker) and every statement that addresses it.

Measured: position found (a shown quote holds an evidence phrase), false silences (a speaker who
addresses the topic reported silent), false positions (a silent speaker quoted, even as only possibly
on the topic; and, apart, stated as a position), and over timeline statements recall and precision.

The address model (`embeddings.answer.addressing`) is learnt here from the same items, one row per
statement weighed; cross-validation keeps every topic, and every topic sharing most of its words with
it ("Kashmir", "Kashmir dispute"), in one fold, so a figure is never measured on a topic trained on.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.answer.addressing import SIGNALS, AddressModel, TopicView, statement_inputs, topic_view
from embeddings.answer.analysis import (
    TIMELINE_POOL,
    Comparison,
    Timeline,
    Verdict,
    compare,
    speaker_documents,
    timeline,
)
from embeddings.answer.search import Answer, Filters, SearchEngine
from embeddings.errors import VerbatimError
from embeddings.quality.evaluation import ANALYSIS_KINDS, fold, read_lines, strings
from embeddings.quality.learning import SEED, fit_logistic


@dataclass(frozen=True)
class SpeakerTruth:
    name: str
    docs: tuple[str, ...]
    evidence: tuple[str, ...]

    @property
    def addresses(self) -> bool:
        return bool(self.docs)


@dataclass(frozen=True)
class CompareItem:
    item_id: str
    topic: str
    speakers: tuple[SpeakerTruth, ...]

    @property
    def documents(self) -> tuple[str, ...]:
        return tuple(d for s in self.speakers for d in s.docs)


@dataclass(frozen=True)
class TimelineItem:
    item_id: str
    topic: str
    speaker: str
    statements: dict[str, tuple[str, ...]]
    """Every statement that addresses the topic, and phrases of it that do."""

    @property
    def documents(self) -> tuple[str, ...]:
        return tuple(self.statements)


def load_analysis_items(path: Path) -> list[CompareItem | TimelineItem]:
    """Compare and timeline items from a JSON-lines file (other lines, such as questions, skipped)."""
    items: list[CompareItem | TimelineItem] = []
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if isinstance(row, dict) and row.get("kind") in ANALYSIS_KINDS:
                items.append(_item(row))
        except (ValueError, KeyError, TypeError) as exc:
            raise VerbatimError(f"{path}:{number}: not a compare or timeline item ({exc})") from exc
    return items


def _item(row: dict[str, Any]) -> CompareItem | TimelineItem:
    if row["kind"] == "compare":
        speakers = tuple(
            SpeakerTruth(str(s["name"]), strings(s, "docs"), strings(s, "evidence")) for s in row["speakers"]
        )
        if not speakers:
            raise ValueError("a compare item names at least one speaker")
        return CompareItem(str(row["id"]), str(row["topic"]), speakers)
    statements = {str(s["doc"]): strings(s, "evidence") for s in row["statements"]}
    return TimelineItem(str(row["id"]), str(row["topic"]), str(row.get("speaker") or ""), statements)


def holds(quote: str, evidence: Sequence[str]) -> bool:
    text = fold(quote)
    return any(fold(e) in text for e in evidence)


@dataclass
class AnalysisReport:
    addressing: int = 0
    silent: int = 0
    found: int = 0
    false_silences: int = 0
    false_positions: int = 0
    stated_positions: int = 0
    """Silent speakers quoted as stating a position (not only as possibly on the topic)."""
    timeline_truth: int = 0
    timeline_shown: int = 0
    timeline_right: int = 0
    misses: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, float | int | None]:
        def share(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "speakers_addressing": self.addressing,
            "speakers_silent": self.silent,
            "position_found": share(self.found, self.addressing),
            "false_silences": share(self.false_silences, self.addressing),
            "false_positions": share(self.false_positions, self.silent),
            "false_positions_stated": share(self.stated_positions, self.silent),
            "timeline_statements": self.timeline_truth,
            "timeline_recall": share(self.timeline_right, self.timeline_truth),
            "timeline_precision": share(self.timeline_right, self.timeline_shown),
        }

    def table(self) -> str:
        m = self.metrics()
        return "\n".join(f"{k:<24}{'' if v is None else v}" for k, v in m.items())

    def add(self, other: AnalysisReport) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            setattr(self, name, value + getattr(other, name))


def judge_comparison(item: CompareItem, comparison: Comparison, report: AnalysisReport) -> None:
    shown: dict[str, tuple[Verdict, list[str]]] = {}
    for p in comparison.positions:
        for name in p.speaker.split(" / "):
            shown[name] = (p.verdict, [r.quote for r in p.passages])
    for truth in item.speakers:
        verdict, quotes = shown.get(truth.name, (Verdict.SILENT, []))
        where = f"{item.item_id} {truth.name} on {item.topic!r}"
        if truth.addresses:
            report.addressing += 1
            if verdict is Verdict.SILENT:
                report.false_silences += 1
                report.misses.append(f"false silence: {where}")
            elif any(holds(q, truth.evidence) for q in quotes):
                report.found += 1
            else:
                report.misses.append(f"other passage: {where}")
        else:
            report.silent += 1
            if verdict is not Verdict.SILENT:
                report.false_positions += 1
                report.stated_positions += verdict is Verdict.POSITION
                report.misses.append(f"false position ({verdict.value}): {where}")


def judge_timeline(item: TimelineItem, line: Timeline, report: AnalysisReport) -> None:
    shown = {doc.doc_id for doc, _ in line.entries}
    right = shown & set(item.statements)
    report.timeline_truth += len(item.statements)
    report.timeline_shown += len(shown)
    report.timeline_right += len(right)
    for doc_id in sorted(set(item.statements) - shown):
        report.misses.append(f"timeline missed: {item.item_id} {doc_id} on {item.topic!r}")
    for doc_id in sorted(shown - set(item.statements)):
        report.misses.append(f"timeline wrongly lists: {item.item_id} {doc_id} on {item.topic!r}")


def evaluate_analysis(
    items: Sequence[CompareItem | TimelineItem],
    compare: Callable[[str, Sequence[str]], Comparison],
    timeline: Callable[[str, str], Timeline],
) -> AnalysisReport:
    report = AnalysisReport()
    for item in items:
        if isinstance(item, CompareItem):
            judge_comparison(item, compare(item.topic, [s.name for s in item.speakers]), report)
        else:
            judge_timeline(item, timeline(item.topic, item.speaker), report)
    return report


# -- learning the address model --------------------------------------------------------------------

MAX_FALSE_SILENCES = 0.03
"""Share of the training speakers who address a topic that may fall below `silent_below`: a
silence that is not there is what an analyst repeats, so the level is set low and held-back folds
show what it gives on topics never seen."""
MAX_STATED_FALSE = 0.10
"""Share of the training speakers silent on a topic that may reach `sure_from`."""
MIN_TIMELINE_RECALL = 0.90
ADDRESS_FEATURES = ("top_score", "answer_margin", "best_cover", "below_best", "profile_cos", "near_cos", "topic_cos")
"""The signals the shipped model uses: the set that did best on held-back topics among those tried
(`benchmarks/positions.py --signals` measures another)."""
ADDRESS_C = 1.0


@dataclass(frozen=True)
class StatementRow:
    """One statement weighed against one item's topic, with what the labels say of it."""

    run: str
    """The corpus it was weighed in (one item may be asked over two)."""
    item_id: str
    kind: str
    speaker: str
    doc_id: str
    addresses: bool
    """This statement addresses the topic."""
    speaker_addresses: bool
    """Some statement of the item's speaker does (compare items)."""
    signals: dict[str, float]


def collect_statements(
    engine: SearchEngine, items: Sequence[CompareItem | TimelineItem], run: str = ""
) -> list[StatementRow]:
    """Every statement compare and timeline would weigh for the items, with its label: a compare
    item's speakers' statements, a timeline item's pool (and the labelled statements, if outside it)."""
    rows: list[StatementRow] = []
    for item in items:
        view = topic_view(engine, item.topic, Filters())
        if isinstance(item, CompareItem):
            for truth in item.speakers:
                for doc in speaker_documents(engine, truth.name, Filters()):
                    signals = _signals(engine, view, doc.doc_id)
                    if signals is not None:
                        yes = doc.doc_id in truth.docs
                        rows.append(
                            StatementRow(
                                run, item.item_id, "compare", truth.name, doc.doc_id, yes, truth.addresses, signals
                            )
                        )
            continue
        docs = (
            [d.doc_id for d in speaker_documents(engine, item.speaker, Filters())]
            if item.speaker
            else list(dict.fromkeys([*view.documents[:TIMELINE_POOL], *item.statements]))
        )
        for doc_id in docs:
            signals = _signals(engine, view, doc_id)
            if signals is not None:
                yes, any_ = doc_id in item.statements, bool(item.statements)
                rows.append(StatementRow(run, item.item_id, "timeline", item.speaker, doc_id, yes, any_, signals))
    return rows


def _signals(engine: SearchEngine, view: TopicView, doc_id: str) -> dict[str, float] | None:
    cands = engine.candidates(view.text, Filters(documents=frozenset([doc_id])))
    if isinstance(cands, Answer) or not len(cands):
        return None
    inputs = statement_inputs(engine, view, cands)
    return {name: signal(inputs) for name, signal in SIGNALS.items()}


def fit_address_model(
    rows: Sequence[StatementRow], features: Sequence[str] = ADDRESS_FEATURES, c: float = ADDRESS_C
) -> AddressModel:
    """Logistic regression on the statements' labels, then the three levels from the same rows:
    few speakers who address a topic below `silent_below`, few silent ones from `sure_from`, most
    listed statements from `timeline_from`."""
    x = np.array([[r.signals[f] for f in features] for r in rows], dtype=np.float64)
    y = np.array([r.addresses for r in rows], dtype=bool)
    linear = fit_logistic(x, y, c)
    linear = type(linear)(tuple(features), linear.mean, linear.scale, linear.coef, linear.intercept)
    decisions = linear.decision(x)
    best: dict[tuple[str, str, str], float] = defaultdict(lambda: -np.inf)
    says: dict[tuple[str, str, str], bool] = {}
    for r, d in zip(rows, decisions.tolist(), strict=True):
        if r.kind == "compare":
            key = (r.run, r.item_id, r.speaker)
            best[key] = max(best[key], d)
            says[key] = r.speaker_addresses
    levels = []
    for run in dict.fromkeys(r.run for r in rows):
        addressing = [v for k, v in best.items() if k[0] == run and says[k]]
        silent = [v for k, v in best.items() if k[0] == run and not says[k]]
        listed = [
            d
            for r, d in zip(rows, decisions.tolist(), strict=True)
            if r.run == run and r.kind == "timeline" and r.addresses
        ]
        levels.append(
            (
                _share_below(addressing, MAX_FALSE_SILENCES),
                _share_below(silent, 1 - MAX_STATED_FALSE),
                _share_below(listed, 1 - MIN_TIMELINE_RECALL),
            )
        )
    # Each level as strict as the strictest corpus needs: a small corpus and a large one differ in
    # how far the nearest passages of silent speakers reach.
    silent_below = min(level[0] for level in levels)
    sure_from = max(silent_below, max(level[1] for level in levels))
    timeline_from = max(level[2] for level in levels)
    info = {"statements": len(rows), "speakers": len(best), "features": list(features), "c": c}
    return AddressModel(linear, silent_below, sure_from, timeline_from, info)


def _share_below(values: Sequence[float], share: float) -> float:
    """The level with `share` of the values below it (-inf for none: a level no value decides)."""
    if not values:
        return -np.inf
    ordered = np.sort(values)
    return float(ordered[min(len(ordered) - 1, int(share * len(ordered)))]) - 1e-9


def judge_with(
    engine: SearchEngine, items: Sequence[CompareItem | TimelineItem], model: AddressModel | None = None
) -> AnalysisReport:
    """The items answered by `compare` and `timeline` with this address model (else the shipped one)."""
    return evaluate_analysis(
        items,
        lambda topic, speakers: compare(engine, topic, speakers, model=model),
        lambda topic, speaker: timeline(engine, topic, speaker, model=model),
    )


def topic_folds(items: Sequence[CompareItem | TimelineItem], k: int, seed: int = SEED) -> dict[str, int]:
    """Fold per item id, topics that share most of their words ("Kashmir", "Kashmir dispute") in one."""
    words = {it.item_id: _topic_words(it.topic) for it in items}
    parent = {i: i for i in words}

    def find(i: str) -> str:
        while parent[i] != i:
            i = parent[i]
        return i

    ids = sorted(words)
    for n, a in enumerate(ids):
        for b in ids[n + 1 :]:
            wa, wb = words[a], words[b]
            if wa and wb and (wa <= wb or wb <= wa or len(wa & wb) / len(wa | wb) >= 0.5):
                parent[find(a)] = find(b)
    groups = sorted({find(i) for i in ids})
    random.Random(seed).shuffle(groups)
    fold_of = {g: n % k for n, g in enumerate(groups)}
    return {i: fold_of[find(i)] for i in ids}


_STOP = frozenset(["the", "of", "and", "in", "on", "a", "an", "to", "for", "s", "from", "by", "with"])


def _topic_words(topic: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"[a-z0-9]+", topic.casefold()) if w not in _STOP)


@dataclass(frozen=True)
class Run:
    """Items answered over one corpus: the 305 documents, or the five seeds alone (where most topics
    are addressed by no statement at all, which a large corpus never shows the model)."""

    name: str
    engine: SearchEngine
    items: list[CompareItem | TimelineItem]


def within(engine: SearchEngine, items: Sequence[CompareItem | TimelineItem]) -> list[CompareItem | TimelineItem]:
    """The items as they read over this corpus: speakers with no statement in it dropped, and the
    statements it lacks dropped from the labels (a speaker whose labelled statements are all missing
    is silent here)."""
    present = set(engine.corpus.documents)
    kept: list[CompareItem | TimelineItem] = []
    for item in items:
        if isinstance(item, CompareItem):
            speakers = tuple(
                SpeakerTruth(
                    s.name, tuple(d for d in s.docs if d in present), s.evidence if set(s.docs) & present else ()
                )
                for s in item.speakers
                if speaker_documents(engine, s.name, Filters())
            )
            if speakers:
                kept.append(CompareItem(item.item_id, item.topic, speakers))
        elif not item.speaker or speaker_documents(engine, item.speaker, Filters()):
            statements = {d: e for d, e in item.statements.items() if d in present}
            kept.append(TimelineItem(item.item_id, item.topic, item.speaker, statements))
    return kept


def crossvalidate(
    runs: Sequence[Run],
    rows: Sequence[StatementRow],
    k: int = 5,
    seed: int = SEED,
    features: Sequence[str] = ADDRESS_FEATURES,
) -> dict[str, AnalysisReport]:
    """Held-back figures of compare and timeline per run: each fold's items answered by a model
    fitted on the other folds' statements only (of every run: one topic is in one fold everywhere)."""
    fold_of = topic_folds([it for run in runs for it in run.items], k, seed)
    reports = {run.name: AnalysisReport() for run in runs}
    for f in range(k):
        model = fit_address_model([r for r in rows if fold_of[r.item_id] != f], features)
        for run in runs:
            held = [it for it in run.items if fold_of[it.item_id] == f]
            reports[run.name].add(judge_with(run.engine, held, model))
    return reports
