"""Answering a question: find the chunks that answer it, quote the sentences that do, or decline.

Three signals are fused per chunk, each catching what the others miss:
- the chunk's own vector (what the paragraph is about),
- its best sentence's vector (a one-line answer inside a long paragraph),
- BM25 over alias-normalised words (symbols, numbers, names the model has never seen).
The quote comes from the same sentence scores, so the excerpt shown is the part that matched.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from embeddings.chunking import Paragraph, paragraphs
from embeddings.citations import citation
from embeddings.corpus import Corpus, Document
from embeddings.embedder import Embedder
from embeddings.errors import BadQuestionError, VerbatimError
from embeddings.index import Index
from embeddings.lexical import KeywordIndex, Tokenizer
from embeddings.quoting import choose_quote

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500
CANDIDATES = 50
W_CHUNK = 0.35
W_SENTENCE = 0.45
W_KEYWORD = 0.20
LEXICAL_IN_QUOTE = 0.3
ANSWER_THRESHOLD = 0.52
"""Best dense similarity (chunk or sentence) a question needs before anything is quoted.

Calibrated on the development set, where answerable questions score at least 0.56 and the
unanswerable ones at most 0.47; the threshold sits in the middle of that gap."""
RESULT_FLOOR = 0.35
"""Once a question is answerable, each result must still clear this, so a good answer does not drag
unrelated passages along; the ranking itself is the fused score."""
KEYWORD_COVERAGE = 0.9
"""A chunk holding (IDF-weighted) this share of the question's words answers it even when the
model finds the wording unfamiliar: a bare document symbol or a rare name."""


def parse_date_bound(value: str, *, end: bool) -> dt.date:
    """YYYY, YYYY-MM or YYYY-MM-DD; a partial date covers its whole year or month."""
    parts = value.strip().split("-")
    try:
        if len(parts) == 1:
            year = int(parts[0])
            return dt.date(year, 12, 31) if end else dt.date(year, 1, 1)
        if len(parts) == 2:
            year, month = int(parts[0]), int(parts[1])
            return dt.date(year, month, calendar.monthrange(year, month)[1] if end else 1)
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise VerbatimError(f"{value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD") from None


@dataclass(frozen=True)
class Filters:
    """Restrictions a user can put on a question; matching is case-insensitive on substrings."""

    documents: frozenset[str] = frozenset()
    speaker: str = ""
    venue: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    @classmethod
    def parse(
        cls, documents: Sequence[str] = (), speaker: str = "", venue: str = "", since: str = "", until: str = ""
    ) -> Filters:
        """Filters from what a person typed (command line or slash command), with one clear error
        for a bad or inverted date range."""
        since_date = parse_date_bound(since, end=False) if since else None
        until_date = parse_date_bound(until, end=True) if until else None
        if since_date and until_date and since_date > until_date:
            raise VerbatimError(f"since {since_date} is after until {until_date}")
        return cls(frozenset(documents), speaker.strip(), venue.strip(), since_date, until_date)

    def active(self) -> bool:
        return bool(self.documents or self.speaker or self.venue or self.since or self.until)

    def accepts(self, doc: Document) -> bool:
        if self.documents and doc.doc_id not in self.documents:
            return False
        if self.speaker and self.speaker.casefold() not in f"{doc.speaker} {doc.organisation}".casefold():
            return False
        if self.venue and self.venue.casefold() not in doc.venue.casefold():
            return False
        if self.since and doc.date < self.since:
            return False
        return not (self.until and doc.date > self.until)


@dataclass(frozen=True)
class Result:
    doc_id: str
    title: str
    citation: str
    paragraph: int | list[int]
    quote: str
    highlight: tuple[int, int]
    start: int
    end: int
    score: float

    def to_json(self) -> dict[str, object]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "citation": self.citation,
            "paragraph": self.paragraph,
            "quote": self.quote,
            "highlight": list(self.highlight),
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
        }


@dataclass
class Answer:
    question: str
    answered: bool
    results: list[Result] = field(default_factory=list)
    note: str = ""
    """Why nothing is quoted, when nothing is."""

    def to_json(self) -> dict[str, object]:
        return {"question": self.question, "answered": self.answered, "results": [r.to_json() for r in self.results]}


def clean_question(question: str) -> str:
    text = " ".join(question.split())
    if not text:
        raise BadQuestionError("the question is empty: ask something like “What did Japan say about the ICBM launch?”")
    if len(text) > MAX_QUESTION_CHARS:
        raise BadQuestionError(f"the question is {len(text)} characters long; keep it under {MAX_QUESTION_CHARS}")
    if not any(ch.isalnum() for ch in text):
        raise BadQuestionError("the question has no words in it")
    return text


class SearchEngine:
    """Everything a question needs, loaded once: corpus texts, index, keyword index, model."""

    def __init__(self, corpus: Corpus, index: Index, embedder: Embedder, tokenizer: Tokenizer) -> None:
        self.corpus = corpus
        self.index = index
        self.embedder = embedder
        self.tokenizer = tokenizer
        texts = [corpus.documents[c.doc_id].text[c.start : c.end] for c in index.chunks]
        self.keywords = KeywordIndex(texts, tokenizer)
        self._paragraphs: dict[str, list[Paragraph]] = {}

    def search(self, question: str, k: int = 3, filters: Filters | None = None) -> Answer:
        question = clean_question(question)
        filters = filters or Filters()
        allowed = self._allowed_chunks(filters)
        if allowed is not None and not len(allowed):
            return Answer(question, False, note="no document matches those filters")
        qvec = self.embedder.encode([question])[0]
        bm25 = self.keywords.scores(question)
        candidates, chunk_cos, sent_cos = self._candidates(qvec, bm25, allowed)
        if not candidates:
            return Answer(question, False, note="the corpus is empty")
        top_bm25 = float(bm25.max()) if len(bm25) else 0.0
        qtokens = self.keywords.tokenizer(question)
        scored = []
        for ci in candidates:
            kw = float(bm25[ci]) / top_bm25 if top_bm25 > 0 else 0.0
            fused = W_CHUNK * chunk_cos[ci] + W_SENTENCE * sent_cos[ci] + W_KEYWORD * kw
            evidence = max(chunk_cos[ci], sent_cos[ci])
            if evidence < ANSWER_THRESHOLD and bm25[ci] > 0 and self._coverage(qtokens, ci) >= KEYWORD_COVERAGE:
                evidence = ANSWER_THRESHOLD
            scored.append((fused, evidence, ci))
        scored.sort(reverse=True)
        if max(e for _, e, _ in scored) < ANSWER_THRESHOLD:
            return Answer(question, False, note="nothing in the corpus answers this")
        known = self.keywords.known(qtokens)
        results: list[Result] = []
        taken: list[tuple[str, int, int]] = []
        for fused, evidence, ci in scored:
            if len(results) >= k:
                break
            if evidence < RESULT_FLOOR:
                continue
            rec = self.index.chunks[ci]
            if any(d == rec.doc_id and not (rec.last_paragraph < a or rec.first_paragraph > b) for d, a, b in taken):
                continue
            results.append(self._result(rec_index=ci, qvec=qvec, qtokens=known, score=fused))
            taken.append((rec.doc_id, rec.first_paragraph, rec.last_paragraph))
        return Answer(question, True, results)

    def paragraphs(self, doc_id: str) -> list[Paragraph]:
        """Paragraphs of a document, computed once: citations and `/source` number them alike."""
        cached = self._paragraphs.get(doc_id)
        if cached is None:
            cached = self._paragraphs[doc_id] = paragraphs(self.corpus.documents[doc_id].text)
        return cached

    def _paragraphs_of(self, doc: Document, start: int, end: int) -> int | list[int]:
        """The paragraph numbers the quote itself spans (a chunk may span more than the quote)."""
        numbers = [p.number for p in self.paragraphs(doc.doc_id) if p.start < end and p.end > start]
        if not numbers:
            raise ValueError(f"quote {start}:{end} lies in no paragraph of {doc.doc_id}")
        return numbers[0] if len(numbers) == 1 else [numbers[0], numbers[-1]]

    def _coverage(self, qtokens: Sequence[str], chunk: int) -> float:
        """IDF-weighted share of the question's words found in the chunk; unknown words weigh most."""
        rec = self.index.chunks[chunk]
        words = set(self.tokenizer(self.corpus.documents[rec.doc_id].text[rec.start : rec.end]))
        weights = {t: self.keywords.idf(t) for t in set(qtokens)}
        total = sum(weights.values())
        return sum(w for t, w in weights.items() if t in words) / total if total else 0.0

    def _allowed_chunks(self, filters: Filters) -> np.ndarray | None:
        if not filters.active():
            return None
        ids: list[int] = []
        for doc in self.corpus.documents.values():
            if filters.accepts(doc):
                ids.extend(self.index.doc_chunks.get(doc.doc_id, []))
        return np.asarray(sorted(ids), dtype=np.int64)

    def _candidates(
        self, qvec: np.ndarray, bm25: np.ndarray, allowed: np.ndarray | None
    ) -> tuple[list[int], dict[int, float], dict[int, float]]:
        idx = self.index
        chunk_cos: dict[int, float] = {}
        sent_cos: dict[int, float] = {}
        if allowed is not None:
            chunk_ids = allowed
            sent_ids = (
                np.concatenate(
                    [
                        np.arange(
                            idx.chunks[c].sentence_start, idx.chunks[c].sentence_start + idx.chunks[c].sentence_count
                        )
                        for c in allowed
                    ]
                )
                if len(allowed)
                else np.zeros(0, np.int64)
            )
            c_scores = idx.chunk_vectors[chunk_ids] @ qvec
            s_scores = idx.sentence_vectors[sent_ids] @ qvec
        else:
            c_scores, chunk_ids = idx.chunk_index.search(qvec, CANDIDATES)
            s_scores, sent_ids = idx.sentence_index.search(qvec, CANDIDATES * 3)
        for c, s in zip(chunk_ids, c_scores, strict=True):
            chunk_cos[int(c)] = float(s)
        for sid, s in zip(sent_ids, s_scores, strict=True):
            c = int(idx.sentence_chunk[sid])
            sent_cos[c] = max(sent_cos.get(c, -1.0), float(s))
        if allowed is not None:
            masked = np.full_like(bm25, -1.0)
            masked[allowed] = bm25[allowed]
            bm25 = masked
        for c in np.argsort(-bm25)[:CANDIDATES]:
            if bm25[c] > 0:
                chunk_cos.setdefault(int(c), -1.0)
        candidates = sorted(set(chunk_cos) | set(sent_cos))
        # Fill in the exact similarity for candidates that only one signal surfaced.
        for c in candidates:
            rec = idx.chunks[c]
            if chunk_cos.get(c, -1.0) == -1.0:
                chunk_cos[c] = float(idx.chunk_vectors[c] @ qvec)
            if c not in sent_cos:
                sent_cos[c] = float(np.max(idx.sentence_vectors[rec.sentence_ids.start : rec.sentence_ids.stop] @ qvec))
        return candidates, chunk_cos, sent_cos

    def _result(self, rec_index: int, qvec: np.ndarray, qtokens: Sequence[str], score: float) -> Result:
        idx = self.index
        rec = idx.chunks[rec_index]
        doc = self.corpus.documents[rec.doc_id]
        sids = rec.sentence_ids
        spans = [(int(idx.sentences[i][0]), int(idx.sentences[i][1])) for i in sids]
        dense = idx.sentence_vectors[sids.start : sids.stop] @ qvec
        weights = {t: self.keywords.idf(t) for t in set(qtokens)}
        total = sum(weights.values()) or 1.0
        scores = []
        for (s, e), d in zip(spans, dense, strict=True):
            words = set(self.tokenizer(doc.text[s:e]))
            lexical = sum(w for t, w in weights.items() if t in words) / total
            scores.append(float(d) + LEXICAL_IN_QUOTE * lexical)
        quote = choose_quote(spans, scores)
        text = doc.text[quote.start : quote.end]
        paragraph = self._paragraphs_of(doc, quote.start, quote.end)
        return Result(
            doc_id=doc.doc_id,
            title=doc.title,
            citation=citation(doc, paragraph),
            paragraph=paragraph,
            quote=text,
            highlight=(quote.highlight_start - quote.start, quote.highlight_end - quote.start),
            start=quote.start,
            end=quote.end,
            score=score,
        )
