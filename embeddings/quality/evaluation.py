"""Answer quality on question sets, with the matching rule of the shared eval README, by style, and
with each miss explained well enough to see its class at a glance.

An excerpt answers when its quoted text (not the chunk behind it) contains an evidence phrase,
compared case-insensitively after folding curly quotes and runs of white space.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.answer.search import Answer, Candidates, SearchEngine, rank_scores
from embeddings.errors import VerbatimError

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})


def fold(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip().casefold()


@dataclass(frozen=True)
class Question:
    qid: str
    question: str
    evidence: tuple[str, ...]
    docs: tuple[str, ...] = ()
    style: str = ""
    """The question's style when its line gives one (`*styles.json` maps may give it instead)."""
    near_doc: str = ""
    """For a near miss: the statement it nearly matches (its documents, for grouping folds)."""

    @property
    def documents(self) -> tuple[str, ...]:
        """Every statement the question is about: where its evidence is, or what it nearly matches."""
        return tuple(dict.fromkeys([*self.docs, *([self.near_doc] if self.near_doc else [])]))


ANALYSIS_KINDS = frozenset({"compare", "timeline"})
"""Lines of these kinds are compare and timeline items (`embeddings.quality.positions`), not questions."""


def read_lines(path: Path) -> list[str]:
    """A JSON-lines file's lines, or an error that names the file and what is wrong with it."""
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise VerbatimError(f"cannot read {path}: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise VerbatimError(f"cannot read {path}: {exc.strerror or exc}") from exc


def strings(row: dict[str, object], key: str) -> tuple[str, ...]:
    """A list of strings from a JSON row: a bare string where a list belongs ("evidence": "phrase")
    would be read letter by letter and score anything, so it is refused."""
    value = row.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"'{key}' must be a list of strings, not {json.dumps(value)[:60]}")
    return tuple(value)


def load_questions(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise TypeError("a line must be a JSON object")
            if row.get("kind") in ANALYSIS_KINDS or row.get("kind") == "conversation":
                continue  # judged by `quality.positions` and `quality.conversations`
            questions.append(
                Question(
                    str(row["id"]),
                    str(row["question"]),
                    strings(row, "evidence"),
                    strings(row, "docs"),
                    str(row.get("style", "")),
                    str(row.get("near_doc", "")),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise VerbatimError(f"{path}:{number}: not a question object ({exc})") from exc
    return questions


def rank_of_answer(answer: Answer, evidence: Iterable[str], depth: int = 10) -> int | None:
    phrases = [fold(e) for e in evidence]
    for rank, result in enumerate(answer.results[:depth], 1):
        quoted = fold(result.quote)
        if any(p in quoted for p in phrases):
            return rank
    return None


def load_styles(paths: Iterable[Path]) -> dict[str, str]:
    """Question id -> style, from JSON maps such as the eval set's `lab_styles.json`."""
    styles: dict[str, str] = {}
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise VerbatimError(f"cannot read styles from {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise VerbatimError(f"{path}: styles must be a JSON object of question id -> style")
        styles.update({str(k): str(v) for k, v in data.items()})
    return styles


def style_of(question: Question, styles: dict[str, str]) -> str:
    """A question's style: from a styles map, else from its own line, else "-"."""
    return styles.get(question.qid) or question.style or "-"


def styles_beside(question_files: Sequence[Path]) -> list[Path]:
    """Style maps that sit beside the question files (`*styles.json`), found without being named."""
    found: dict[Path, None] = {}
    for path in question_files:
        for candidate in sorted(path.parent.glob("*styles.json")):
            found[candidate] = None
    return list(found)


@dataclass
class Tally:
    """Counts for one group of questions (a style, or all)."""

    answerable: int = 0
    unanswerable: int = 0
    hit1: int = 0
    hit3: int = 0
    rr: float = 0.0
    declined: int = 0
    wrongly_declined: int = 0

    def add(self, answerable: bool, answered: bool, rank: int | None) -> None:
        if answerable:
            self.answerable += 1
            self.wrongly_declined += not answered
            if rank is not None:
                self.hit1 += rank == 1
                self.hit3 += rank <= 3
                self.rr += 1.0 / rank
        else:
            self.unanswerable += 1
            self.declined += not answered

    def metrics(self) -> dict[str, float | int | None]:
        a, u = self.answerable, self.unanswerable
        return {
            "questions": a + u,
            "answerable": a,
            "unanswerable": u,
            "hit@1": round(self.hit1 / a, 4) if a else None,
            "hit@3": round(self.hit3 / a, 4) if a else None,
            "mrr@10": round(self.rr / a, 4) if a else None,
            "declined_unanswerable": round(self.declined / u, 4) if u else None,
            "wrongly_declined": round(self.wrongly_declined / a, 4) if a else None,
        }


COLUMNS = ("questions", "hit@1", "hit@3", "mrr@10", "declined_unanswerable", "wrongly_declined")


def table(tallies: dict[str, Tally]) -> str:
    """One line per style, "all" first; a blank where a measure does not apply to the style."""
    heads = ("style", "n", "hit@1", "hit@3", "mrr@10", "declined", "wrongly declined")
    lines = [f"{heads[0]:<8}" + "".join(f"{h:>17}" for h in heads[1:])]
    for key in ["all", *sorted(k for k in tallies if k != "all")]:
        m = tallies[key].metrics()
        cells = ["" if m[c] is None else str(m[c]) for c in COLUMNS]
        lines.append(f"{key:<8}" + "".join(f"{c:>17}" for c in cells))
    return "\n".join(lines)


@dataclass
class Outcome:
    """What happened to one question."""

    question: Question
    style: str
    answer: Answer
    rank: int | None
    """Rank of the first shown excerpt that holds the evidence (None: none does, or declined)."""

    @property
    def answerable(self) -> bool:
        return bool(self.question.evidence)

    @property
    def miss(self) -> bool:
        if self.answerable:
            return self.rank != 1
        return self.answer.answered


@dataclass
class Report:
    tallies: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        for key in ("all", outcome.style):
            self.tallies[key].add(outcome.answerable, outcome.answer.answered, outcome.rank)

    def metrics(self) -> dict[str, float | int | None]:
        return self.tallies["all"].metrics()


def evaluate(
    questions: Iterable[Question], ask: Callable[[Question], Answer], styles: dict[str, str] | None = None
) -> Report:
    report = Report()
    for q in questions:
        answer = ask(q)
        rank = rank_of_answer(answer, q.evidence) if answer.answered and q.evidence else None
        report.add(Outcome(q, style_of(q, styles or {}), answer, rank))
    return report


# -- explaining misses ------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """Where an evidence phrase lies in the corpus, and how the ranking treated it."""

    doc_id: str
    paragraph: int
    candidate_rank: int | None
    """Rank of the sentence holding it among all candidates (None: never a candidate)."""
    heading: bool


def holds_evidence(text: str, start: int, end: int, lo: int, hi: int, phrases: Sequence[str]) -> bool:
    """Whether the sentence text[start:end] answers: it holds a (folded) evidence phrase, or a phrase
    runs across its boundary within text[lo:hi] (the quote around it will include both sides).
    The one rule for labelling training candidates and for locating evidence in a miss."""
    sentence = fold(text[start:end])
    if any(p in sentence for p in phrases):
        return True
    window, before, after = fold(text[lo:hi]), fold(text[lo:start]), fold(text[end:hi])
    return any(p in window and p not in before and p not in after for p in phrases)


def locate(engine: SearchEngine, question: Question, cands: Candidates | None) -> list[Evidence]:
    """Every sentence of the index that holds an evidence phrase, with its rank under the engine's
    ranker, best first."""
    phrases = [fold(e) for e in question.evidence]
    if not phrases:
        return []
    idx = engine.index
    ranks: dict[int, int] = {}
    if cands is not None and len(cands):
        scores = rank_scores(cands, engine.models)
        for r, i in enumerate(np.argsort(-scores, kind="stable"), 1):
            ranks.setdefault(int(cands.sentence_ids[i]), r)
    found: dict[tuple[str, int], Evidence] = {}
    docs = [d for d in question.docs if d in engine.corpus.documents] or list(engine.corpus.documents)
    for doc_id in docs:
        doc = engine.corpus.documents[doc_id]
        folded = fold(doc.text)
        if not any(p in folded for p in phrases):
            continue
        for c in idx.doc_chunks.get(doc_id, []):
            rec = idx.chunks[c]
            for sid in rec.sentence_ids:
                s, e = idx.span(sid)
                if not holds_evidence(doc.text, s, e, max(rec.start, s - 300), min(rec.end, e + 300), phrases):
                    continue
                ev = Evidence(doc_id, engine.paragraph_at(doc, s).number, ranks.get(sid), engine.is_heading(doc, s))
                old = found.get((doc_id, s))
                if old is None or (ev.candidate_rank or 10**9) < (old.candidate_rank or 10**9):
                    found[(doc_id, s)] = ev
    return sorted(found.values(), key=lambda ev: (ev.candidate_rank or 10**9, ev.doc_id, ev.paragraph))


def miss_class(outcome: Outcome, evidence: Sequence[Evidence]) -> str:
    """The kind of miss, for grouping: the classes a change is aimed at."""
    answer = outcome.answer
    if not outcome.answerable:
        return "unanswerable, answered"
    if not answer.answered:
        return "answerable, declined"
    if not evidence:
        return "evidence not in the index (ceremony, or outside every chunk)"
    if all(ev.candidate_rank is None for ev in evidence):
        return "evidence never a candidate" + (" (heading)" if all(ev.heading for ev in evidence) else "")
    top = answer.results[0]
    if any(ev.doc_id == top.doc_id for ev in evidence):
        return "right document, another passage first"
    return "another document first"


def explain(engine: SearchEngine, outcome: Outcome, evidence: Sequence[Evidence]) -> str:
    """A few lines: the question, what was shown first, and where the evidence lies."""
    q = outcome.question
    lines = [f"{q.qid} [{outcome.style}] {q.question}"]
    if outcome.answer.answered and outcome.answer.results:
        r = outcome.answer.results[0]
        shown = " ".join(r.quote.split())
        lines.append(f"    shown:    {r.doc_id} para {r.paragraph}: “{shown[:160]}{'…' if len(shown) > 160 else ''}”")
        if outcome.rank:
            lines.append(f"    evidence shown at rank {outcome.rank}")
    else:
        reason = outcome.answer.reason.value if outcome.answer.reason else "no reason"
        lines.append(f"    declined ({reason})")
    for ev in evidence[:2]:
        where = f"candidate rank {ev.candidate_rank}" if ev.candidate_rank else "not a candidate"
        lines.append(f"    evidence: {ev.doc_id} para {ev.paragraph} ({where}{', heading' if ev.heading else ''})")
    if q.evidence and not evidence:
        lines.append(f"    evidence: “{q.evidence[0]}” is in no indexed sentence")
    return "\n".join(lines)


def misses_by_class(engine: SearchEngine, report: Report) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for outcome in report.outcomes:
        if not outcome.miss:
            continue
        cands = engine.candidates(outcome.question.question) if outcome.answerable else None
        evidence = locate(engine, outcome.question, cands if isinstance(cands, Candidates) else None)
        groups[miss_class(outcome, evidence)].append(explain(engine, outcome, evidence))
    return dict(sorted(groups.items(), key=lambda kv: -len(kv[1])))
