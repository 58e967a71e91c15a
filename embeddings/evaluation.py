"""Retrieval quality on a question set, with the matching rule of the shared eval README.

An excerpt answers when its quoted text (not the chunk behind it) contains an evidence phrase,
compared case-insensitively after folding curly quotes and runs of white space.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from embeddings.errors import VerbatimError
from embeddings.search import Answer

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})


def fold(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip().casefold()


@dataclass(frozen=True)
class Question:
    qid: str
    question: str
    evidence: tuple[str, ...]


@dataclass
class EvalReport:
    answerable: int = 0
    unanswerable: int = 0
    hit1: int = 0
    hit3: int = 0
    reciprocal_ranks: float = 0.0
    declined_unanswerable: int = 0
    wrongly_declined: int = 0
    rows: list[dict[str, object]] = field(default_factory=list)

    def metrics(self) -> dict[str, float | int]:
        a = self.answerable or 1
        u = self.unanswerable or 1
        return {
            "questions": self.answerable + self.unanswerable,
            "answerable": self.answerable,
            "unanswerable": self.unanswerable,
            "hit@1": round(self.hit1 / a, 4),
            "hit@3": round(self.hit3 / a, 4),
            "mrr@10": round(self.reciprocal_ranks / a, 4),
            "declined_unanswerable": round(self.declined_unanswerable / u, 4),
            "wrongly_declined": round(self.wrongly_declined / a, 4),
        }


def load_questions(path: Path) -> list[Question]:
    questions = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise VerbatimError(f"cannot read {path}: {exc.strerror or exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(Question(str(row["id"]), str(row["question"]), tuple(row.get("evidence", []))))
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


def evaluate(questions: Iterable[Question], ask: Callable[[str], Answer]) -> EvalReport:
    report = EvalReport()
    for q in questions:
        answer = ask(q.question)
        row: dict[str, object] = {"id": q.qid, "answered": answer.answered}
        if q.evidence:
            report.answerable += 1
            rank = rank_of_answer(answer, q.evidence) if answer.answered else None
            row["rank"] = rank
            if not answer.answered:
                report.wrongly_declined += 1
            if rank is not None:
                report.hit1 += rank == 1
                report.hit3 += rank <= 3
                report.reciprocal_ranks += 1.0 / rank
        else:
            report.unanswerable += 1
            report.declined_unanswerable += not answer.answered
        report.rows.append(row)
    return report
