"""How well follow-ups are read: conversations of two to four turns, each turn with its evidence
and the same question written out in full (`benchmarks/questions/conversations.jsonl`).

Each conversation is played as a member would: every turn read against the previous turn's
question and what its answer showed (so one misreading carries on, as it would in a channel).
A follow-up is scored twice, as typed and as written out in full by the set's author: the gap
between the two is what reading follow-ups costs. The reading is right when the question it
produced names the same speaker and years as the one written out in full, and no word that one
lacks ("What did Russia say about the ICBM launch in 2024?" is a right reading of "Did Russia's
2024 statement mention the ICBM launch?", whose author wrote out more than the follow-up said).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from embeddings.answer.conversation import IsSpeaker, Turn, content_words, parse
from embeddings.answer.search import Answer
from embeddings.errors import VerbatimError
from embeddings.quality.evaluation import Tally, rank_of_answer, read_lines, strings

CONVERSATION = "conversation"


@dataclass(frozen=True)
class ConversationTurn:
    question: str
    full: str
    kind: str
    evidence: tuple[str, ...]
    docs: tuple[str, ...]


@dataclass(frozen=True)
class Conversation:
    conversation_id: str
    turns: tuple[ConversationTurn, ...]


def load_conversations(path: Path) -> list[Conversation]:
    """Conversation items from a JSON-lines file (other lines skipped), each turn checked."""
    found: list[Conversation] = []
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or row.get("kind") != CONVERSATION:
                continue
            turns = tuple(
                ConversationTurn(
                    str(t["question"]),
                    str(t.get("full") or t["question"]),
                    str(t.get("kind", "")),
                    strings(t, "evidence"),
                    strings(t, "docs"),
                )
                for t in row["turns"]
            )
            if len(turns) < 2:
                raise ValueError("a conversation has at least two turns")
            found.append(Conversation(str(row["id"]), turns))
        except (ValueError, KeyError, TypeError) as exc:
            raise VerbatimError(f"{path}:{number}: not a conversation ({exc})") from exc
    return found


@dataclass
class ConversationReport:
    followed: dict[str, Tally] = field(default_factory=dict)
    """Follow-up turns as typed, by kind and "all"."""
    written_out: dict[str, Tally] = field(default_factory=dict)
    """The same turns written out in full by the set's author, searched on their own."""
    read_right: dict[str, list[int]] = field(default_factory=dict)
    """Kind -> [readings like the question written out, follow-up turns]."""
    misses: list[str] = field(default_factory=list)

    def add(self, kind: str, typed: int | None, full: int | None, same: bool) -> None:
        for key in ("all", kind):
            self.followed.setdefault(key, Tally()).add(True, typed is not None, typed)
            self.written_out.setdefault(key, Tally()).add(True, full is not None, full)
            right = self.read_right.setdefault(key, [0, 0])
            right[0] += same
            right[1] += 1

    def metrics(self) -> dict[str, dict[str, float | int | None]]:
        out: dict[str, dict[str, float | int | None]] = {}
        for key, tally in self.followed.items():
            typed, full = tally.metrics(), self.written_out[key].metrics()
            right, n = self.read_right[key]
            out[key] = {
                "turns": n,
                "hit@1": typed["hit@1"],
                "hit@3": typed["hit@3"],
                "written_out_hit@1": full["hit@1"],
                "written_out_hit@3": full["hit@3"],
                "read_right": round(right / n, 4) if n else None,
            }
        return out

    def table(self) -> str:
        rows = self.metrics()
        head = f"{'follow-ups':<12}{'n':>5}{'hit@1':>8}{'hit@3':>8}{'full@1':>8}{'full@3':>8}{'read':>8}"
        lines = [head]
        for key in sorted(rows, key=lambda k: (k != "all", k)):
            m = rows[key]
            cells = [m["hit@1"], m["hit@3"], m["written_out_hit@1"], m["written_out_hit@3"], m["read_right"]]
            lines.append(f"{key:<12}{m['turns']:>5}" + "".join(f"{'' if v is None else f'{v:.3f}':>8}" for v in cells))
        return "\n".join(lines)


def same_reading(read: str, full: str, tokenize: Callable[[str], list[str]], is_speaker: IsSpeaker) -> bool:
    """Whether a follow-up was read as the question written out in full: the same speaker (as the
    keyword tokens of its name), the same years, and every keyword of the reading in the full one."""
    a, b = parse(read, is_speaker), parse(full, is_speaker)
    years = [set(re.findall(r"\b(?:19|20)\d\d\b", q)) for q in (read, full)]
    words = [set(tokenize(" ".join(content_words(q)))) for q in (read, full)]
    return set(tokenize(a.speaker)) == set(tokenize(b.speaker)) and years[0] == years[1] and words[0] <= words[1]


Follow = Callable[[str, Turn | None], tuple[str, Answer, Turn | None]]
"""A message and the previous turn -> (the question as read, its answer, the next turn)."""


def evaluate_conversations(
    conversations: Sequence[Conversation],
    follow: Follow,
    search: Callable[[str], Answer],
    same: Callable[[str, str], bool],
) -> ConversationReport:
    """Every conversation played turn by turn; follow-up turns scored as typed and as written out."""
    report = ConversationReport()
    for conversation in conversations:
        previous: Turn | None = None
        for number, turn in enumerate(conversation.turns):
            read_as, answer, previous = follow(turn.question, previous)
            if number == 0:
                continue
            typed = rank_of_answer(answer, turn.evidence) if answer.answered else None
            full_answer = search(turn.full)
            full = rank_of_answer(full_answer, turn.evidence) if full_answer.answered else None
            alike = same(read_as, turn.full)
            report.add(turn.kind or "follow-up", typed, full, alike)
            if typed is None or typed > 3 or not alike:
                where = f"{conversation.conversation_id}/{number + 1} [{turn.kind}] {turn.question!r}"
                report.misses.append(
                    f"{where}: read as {read_as!r}; in full {turn.full!r}; rank {typed}, in full {full}"
                )
    return report
