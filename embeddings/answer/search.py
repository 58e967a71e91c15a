"""Answering a question: gather candidate sentences, rank them, decide whether any answers, quote.

Candidates come from several directions, each catching what the others miss: the sentences nearest
the question, the sentences of the nearest paragraphs (a one-line answer needs its paragraph's
context), the paragraphs that share the question's rare words (symbols, numbers, names the model has
never seen), and the documents whose header names the speaker, country, venue or date the question
names. A learned ranker (`embeddings.answer.ranking`) scores them, an answerability model decides whether
the best of them answers at all, and the quote is sliced by offsets around the chosen sentence.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import enum
import logging
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from embeddings.answer.casing import GENERIC, Casing, everyday_words, header_names
from embeddings.answer.citations import citation
from embeddings.answer.conversation import asked_of
from embeddings.answer.features import (
    RANK_REGISTRY,
    CandidateView,
    QuestionView,
    answer_row,
    either,
    rank_matrix,
    weighted_share,
)
from embeddings.answer.headers import (
    HeaderScores,
    MetadataIndex,
    QuestionTerms,
    Vocabulary,
    state_of_capital,
    with_misspelt_countries,
)
from embeddings.answer.question import DateMention, QuestionInfo, dates_in, name_phrases, slashed, understand
from embeddings.answer.quoting import choose_quote
from embeddings.answer.ranking import Models, shipped_models
from embeddings.corpus import facts
from embeddings.corpus.chunking import Paragraph, ParagraphSpan, is_heading, paragraphs
from embeddings.corpus.documents import Corpus, Document
from embeddings.errors import BadQuestionError, VerbatimError
from embeddings.index.embedder import QuestionEncoder
from embeddings.index.keywords import KeywordIndex, Tokenizer, stopwords
from embeddings.index.layout import ChunkTable, keyword_texts, sentence_texts
from embeddings.index.loading import Index
from embeddings.settings import Settings

log = logging.getLogger(__name__)

DENSE_SENTENCES = 150
"""Nearest sentences taken from the vector index for every question."""
DENSE_CHUNKS = 40
KEYWORD_CHUNKS = 40
HEADER_DOCUMENTS = 5
"""Documents whose header best matches the question, searched inside even when none of their
passages is near the question corpus-wide."""
HEADER_DOC_SENTENCES = 40
LEXICAL_IN_QUOTE = 0.3


_DATE_BOUND = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def parse_date_bound(value: str, *, end: bool) -> dt.date:
    """YYYY, YYYY-MM or YYYY-MM-DD, written so and nothing else ("24", "20240105" and ISO week
    dates are refused); a partial date covers its whole year or month."""
    m = _DATE_BOUND.fullmatch(value.strip())
    try:
        if m is None:
            raise ValueError(value)
        year, month, day = int(m.group(1)), m.group(2), m.group(3)
        if month is None:
            return dt.date(year, 12, 31) if end else dt.date(year, 1, 1)
        if day is None:
            last = calendar.monthrange(year, int(month))[1] if 1 <= int(month) <= 12 else 0
            return dt.date(year, int(month), last if end else 1)
        return dt.date(year, int(month), int(day))
    except ValueError:
        raise VerbatimError(f"{value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD") from None


@dataclass(frozen=True)
class Filters:
    """Restrictions a user can put on a question. Venue is matched case-insensitively as a
    substring; the speaker is matched by `SearchEngine.speaker_matches` (words and aliases), which
    the engine applies, since it needs the tokenizer."""

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
        """Documents, venue and dates; the speaker needs the tokenizer (`SearchEngine.accepts`)."""
        if self.documents and doc.doc_id not in self.documents:
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
    paragraph: ParagraphSpan
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
            "paragraph": self.paragraph.to_json(),
            "quote": self.quote,
            "highlight": list(self.highlight),
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
        }


class Decline(enum.Enum):
    """Why nothing is quoted; the value is what a reader is told."""

    NO_MATCHING_DOCUMENTS = "no document matches those filters"
    EMPTY_CORPUS = "the corpus is empty"
    NOTHING_ANSWERS = "nothing in the corpus answers this"
    NO_MORE = "no further passage answers this"
    NOTHING_TO_FOLLOW = "there is no earlier question here to follow up"


@dataclass
class Answer:
    question: str
    answered: bool
    results: list[Result] = field(default_factory=list)
    reason: Decline | None = None
    """Why nothing is quoted, when nothing is."""
    nearest: list[Result] = field(default_factory=list)
    """When declining: the passages nearest the question, to say what the corpus does cover."""
    scope: str = ""
    """When declining because the corpus lacks what the question names: what it has instead
    ("it has no statement by Albania from 2019; Albania's are from 2022, 2023 and 2024")."""

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "question": self.question,
            "answered": self.answered,
            "results": [r.to_json() for r in self.results],
        }
        if not self.answered and self.reason is not None:
            out["declined"] = self.reason.value + (f": {self.scope}" if self.scope else "")
        return out


def clean_question(question: str, max_chars: int = Settings.max_question_chars, what: str = "question") -> str:
    """The question (or, for compare and timeline, the topic: `what`) with runs of white space
    folded, or a BadQuestionError saying what to change: the one check every front end applies."""
    bad = next((i for i, ch in enumerate(question) if "\udc80" <= ch <= "\udcff"), None)
    if bad is not None:
        byte = ord(question[bad]) - 0xDC00
        raise BadQuestionError(
            f"the {what} is not valid UTF-8 text (byte 0x{byte:02x} at character {bad + 1}); "
            "type it again or save it as UTF-8"
        )
    text = " ".join(question.split())
    example = "ask something like “What did Japan say about the ICBM launch?”"
    if not text:
        raise BadQuestionError(
            f"the {what} is empty: " + (example if what == "question" else "name one, like “ICBM launches”")
        )
    if len(text) > max_chars:
        raise BadQuestionError(f"the {what} is {len(text)} characters long; please keep it to {max_chars} at most")
    if not any(ch.isalnum() for ch in text):
        raise BadQuestionError(f"the {what} has no words in it")
    return text


@dataclass
class Candidates:
    """Every sentence considered for one question, with every registered rank feature; cheap to
    re-rank, so that cross-validation computes them once per question and tries models on them."""

    view: CandidateView
    features: np.ndarray
    """One row per candidate, one column per registered rank feature (`columns` picks by name)."""
    windows: list[tuple[str, int, int]]
    """(doc_id, start, end) of each candidate's sentence with its neighbours: what labels are read from."""
    missing: str = ""
    """What the question asks for that the corpus lacks ("it has no statement by Japan from 2019;
    Japan's are from 2018 and 2024"): the question is declined with it, whatever the models say."""

    @property
    def question(self) -> str:
        return self.view.question.text

    @property
    def info(self) -> QuestionInfo:
        return self.view.question.info

    @property
    def sentence_ids(self) -> np.ndarray:
        return self.view.sentence_ids

    @property
    def chunk_ids(self) -> np.ndarray:
        return self.view.chunk_ids

    @property
    def query_vector(self) -> np.ndarray:
        return self.view.question.vector

    def columns(self, names: Sequence[str]) -> np.ndarray:
        """The features named, in that order: what a model trained on those names reads."""
        return self.features[:, [_RANK_COLUMN[n] for n in names]]

    def __len__(self) -> int:
        return len(self.view)


_RANK_COLUMN = {name: i for i, name in enumerate(RANK_REGISTRY)}


def rank_scores(cands: Candidates, models: Models) -> np.ndarray:
    return models.ranker.decision(cands.columns(models.ranker.features))


def answer_features(cands: Candidates, scores: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Question-level features (by name, see `embeddings.answer.features`) from the ranked candidates."""
    return answer_row(cands.view, scores, tuple(names))


@dataclass(frozen=True)
class Name:
    """A name a question mentions, as tokens: its alias groups, and its other words in order."""

    groups: frozenset[str]
    words: tuple[str, ...]

    def found_in(self, present: Vocabulary) -> bool:
        """A text has the name when it has the token of every alias group in it ("South Korea" and
        "Republic of Korea" share one), some form of its last word (a surname, "Yoon"; "Western"
        for "West"), and at least half of its words: "Vladimir Putin" is there when the text says
        "Putin", "President Yoon" is not there when it says only "President"."""
        if not all(t in present.tokens for t in self.groups):
            return False
        if not self.words:
            return True
        found = [present.has_form(t) for t in self.words]
        return found[-1] and 2 * sum(found) >= len(found)


def top_keyword_chunks(scores: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[int]:
    """The k best-scoring chunks with a score above zero, by partial selection among those only:
    most chunks share no word with a question, and sorting a million zeros costs more than the rest
    of the search."""
    hits = np.flatnonzero(scores > 0)
    if allowed is not None:
        hits = np.intersect1d(hits, allowed, assume_unique=False)
    if len(hits) > k:
        hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
    return [int(c) for c in hits[np.argsort(-scores[hits], kind="stable")]]


def join_words(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c": how a reply lists years, names and dates."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


_SHORT_WORD = re.compile(r"\b[a-z]{2,4}\b")


def _upper(match: re.Match[str]) -> str:
    return match.group(0).upper()


MAX_ASKED_STATEMENTS = 60
"""Statements a question asking one speaker is limited to, at most: every passage of each is a
candidate, so beyond this (a speaker with hundreds of statements) the header match, which weighs
the speaker among all candidates, is left to find them."""
MAX_DATES_SAID = 6
"""Statements whose days a decline lists when a question names a month; beyond, their years."""


def _on(day: dt.date, mention: DateMention) -> bool:
    """Whether a statement's date is the year, month or day a question names."""
    return (
        (mention.year is None or mention.year == day.year)
        and (mention.month is None or mention.month == day.month)
        and (mention.day is None or mention.day == day.day)
    )


def describe_date(d: DateMention) -> str:
    """A date as the question gave it: "2019", "July 2023", "5 August 2023", "31 May"."""
    month = calendar.month_name[d.month] if d.month else ""
    return " ".join(str(part) for part in (d.day, month, d.year) if part)


def _sentence_rows(table: np.ndarray, chunks: np.ndarray) -> np.ndarray:
    """The sentence rows of these chunks, chunk after chunk, in one array."""
    if not len(chunks):
        return np.zeros(0, dtype=np.int64)
    starts, counts = table[chunks, ChunkTable.FIRST_SENTENCE], table[chunks, ChunkTable.SENTENCES]
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + within


class SearchEngine:
    """Everything a question needs, loaded once: corpus texts, index, keyword and header indexes,
    the model and the ranking models."""

    def __init__(
        self,
        corpus: Corpus,
        index: Index,
        embedder: QuestionEncoder,
        tokenizer: Tokenizer,
        models: Models | None = None,
        max_question_chars: int = Settings.max_question_chars,
    ) -> None:
        self.corpus = corpus
        self.max_question_chars = max_question_chars
        self.index = index
        self.embedder = embedder
        self.tokenizer = tokenizer
        self._models = models
        # Stored with the build; rebuilt here only when the alias list changed since.
        self.keywords = index.keyword_index(tokenizer) or KeywordIndex.build(
            keyword_texts(corpus, index.chunks), tokenizer, sentence_texts(corpus, index.chunks, index.sentences)
        )
        if self.keywords.sentences is None or len(self.keywords.sentences) != len(index.sentences):
            raise VerbatimError("the keyword index has no sentence tokens for this build: run `verbatim index`")
        self._speaker_tokens: dict[str, frozenset[str]] = {}
        self._venue_tokens: set[frozenset[str]] | None = None
        self.headers = MetadataIndex(corpus.documents.values(), tokenizer)
        # The index numbers documents in its manifest's order; the header index in the corpus's.
        self._header_position = np.asarray(
            [self.headers.position.get(d, -1) for d in index.chunks.doc_ids], dtype=np.int64
        )
        gone = (
            self._header_position[index.chunks.table[:, ChunkTable.DOC]] < 0
            if len(index.chunks)
            else np.zeros(0, dtype=bool)
        )
        self._gone: np.ndarray | None = gone if gone.any() else None
        """Chunks of statements the corpus given no longer holds as indexed (an index that could not be
        updated answers for the rest): never candidates."""
        self._paragraphs: dict[str, tuple[list[Paragraph], list[int]]] = {}
        self._lock = threading.Lock()

    @property
    def models(self) -> Models:
        """The shipped ranking models unless others were given (cross-validation gives its own)."""
        if self._models is None:
            self._models = shipped_models()
        return self._models

    # -- public -------------------------------------------------------------------------------

    def search(self, question: str, k: int = 3, filters: Filters | None = None) -> Answer:
        cands = self.candidates(question, filters)
        if isinstance(cands, Answer):
            return cands
        return self.answer(cands, k)

    def candidates(
        self, question: str, filters: Filters | None = None, *, by_speaker: bool = True
    ) -> Candidates | Answer:
        """The candidate sentences and their features, or an Answer when there is nothing to rank.
        With `by_speaker`, a question asking what a speaker said is answered from that speaker's
        statements (a topic, as compare and timeline weigh one, is not a question)."""
        question = self.with_names(clean_question(question, self.max_question_chars))
        filters = filters or Filters()
        missing = ""
        if by_speaker:
            filters, missing = self._asked_of(question, filters)
        allowed = self._allowed_chunks(filters)
        if allowed is not None and not len(allowed):
            return Answer(question, False, reason=Decline.NO_MATCHING_DOCUMENTS)
        if not self.index.chunks:
            return Answer(question, False, reason=Decline.EMPTY_CORPUS)
        qvec = self.embedder.encode([question])[0]
        cands = self._collect(question, qvec, allowed)
        return replace(cands, missing=missing) if missing else cands

    def _asked_of(self, question: str, filters: Filters) -> tuple[Filters, str]:
        """The statements a question asks about when it asks what a speaker said ("What did Japan
        say about ... in November 2024?"): that speaker's, from the dates it names. With none from
        those dates, the speaker's others, and what is missing, said in the decline. A name after
        the topic begins is the topic's ("what did Japan say about Russia?"); a question that asks
        no speaker, or a member who chose the statements, keeps the filters as they are."""
        if filters.documents or filters.speaker:
            return filters, ""
        name, date = asked_of(question, self.names_a_speaker)
        if not name:
            return filters, ""
        spoken = self._spoken_by(name)
        docs = [self.corpus.documents[d] for d in sorted(spoken)]
        within = [d for d in docs if self.accepts(d, filters)]
        if docs and not within:
            return filters, f"it has no statement by {name} within those dates"
        docs = within
        if not docs:
            return filters, ""
        asked = dates_in(date)
        dated = [d for d in docs if not asked or any(_on(d.date, m) for m in asked)]
        if len(dated) > MAX_ASKED_STATEMENTS:
            return filters, ""  # a prolific speaker: its statements are found by the header match
        if dated:
            return replace(filters, documents=frozenset(d.doc_id for d in dated)), ""
        when = join_words([describe_date(m) for m in asked])
        if any(m.month for m in asked) and len(docs) <= MAX_DATES_SAID:
            # "no statement by Russia from November 2024; Russia's is from 20 June 2024"
            days = sorted({d.date for d in docs})
            have = join_words([describe_date(DateMention(d.year, d.month, d.day)) for d in days])
        else:
            have = join_words(sorted({str(d.date.year) for d in docs}))
        verb = "is" if len(docs) == 1 else "are"
        missing = f"it has no statement by {name} from {when}; {name}'s {verb} from {have}"
        if len(docs) > MAX_ASKED_STATEMENTS:
            return filters, missing
        return replace(filters, documents=frozenset(d.doc_id for d in docs)), missing

    def answer(self, cands: Candidates, k: int = 3, models: Models | None = None) -> Answer:
        """Rank, decide, quote: the part of answering that cross-validation repeats with other models."""
        models = models or self.models
        if not len(cands):
            return Answer(cands.question, False, reason=Decline.NOTHING_ANSWERS)
        scores = rank_scores(cands, models)
        answered, _margin = models.answers(answer_features(cands, scores, models.answerable.features))
        order = np.argsort(-scores, kind="stable")
        if not answered or cands.missing:
            # Point to the nearest passages only when the question shares words with the corpus: for
            # a question about something else entirely, "nearest" would mean nothing.
            nearest = (
                self._pick(cands, scores, order, 2, heading_ok=False) if cands.view.question.unknown_words < 1.0 else []
            )
            return Answer(
                cands.question,
                False,
                reason=Decline.NOTHING_ANSWERS,
                nearest=nearest,
                scope=cands.missing or self._scope(cands.view),
            )
        results = self._pick(cands, scores, order, k, heading_ok=cands.info.about_document)
        return Answer(cands.question, True, results)

    def passages(self, cands: Candidates, scores: np.ndarray, k: int) -> list[Result]:
        """The `k` best passages (sharing no text, no heading) whether or not they answer: a
        comparison decides on its own whether a statement addresses its topic."""
        return self._pick(cands, scores, np.argsort(-scores, kind="stable"), k, heading_ok=False)

    def paragraphs(self, doc_id: str) -> list[Paragraph]:
        """Paragraphs of a document, computed once: citations and `/source` number them alike."""
        return self._paragraph_table(doc_id)[0]

    def _paragraph_table(self, doc_id: str) -> tuple[list[Paragraph], list[int]]:
        """A document's paragraphs and their start offsets, published together (threads share it)."""
        cached = self._paragraphs.get(doc_id)
        if cached is None:
            paras = paragraphs(self.corpus.documents[doc_id].text)
            cached = (paras, [p.start for p in paras])
            with self._lock:
                cached = self._paragraphs.setdefault(doc_id, cached)
        return cached

    # -- candidates ---------------------------------------------------------------------------

    def _collect(self, question: str, qvec: np.ndarray, allowed: np.ndarray | None) -> Candidates:
        idx = self.index
        info = understand(question)
        bm25 = self.keywords.scores(question)
        terms = self.headers.question_terms(question)
        header = self.headers.scores(terms, info.dates)
        table = idx.chunks.table

        pools: list[np.ndarray] = []
        chunk_pool: list[int] = []
        if allowed is None:
            _, s_ids = idx.sentence_index.search(qvec, DENSE_SENTENCES)
            _, c_ids = idx.chunk_index.search(qvec, DENSE_CHUNKS)
            pools.append(np.asarray(s_ids, dtype=np.int64))
            chunk_pool.extend(int(c) for c in c_ids)
        else:
            chunk_pool.extend(int(c) for c in allowed)
        chunk_pool.extend(top_keyword_chunks(bm25, KEYWORD_CHUNKS, allowed))
        if terms.who_terms or terms.all_terms or info.dates:
            for doc_id in self.headers.best(header, HEADER_DOCUMENTS):
                span = idx.doc_chunks.get(doc_id, range(0))
                rows = np.arange(span.start, span.stop, dtype=np.int64)
                if allowed is not None:
                    rows = np.intersect1d(rows, allowed)
                if not len(rows):
                    continue
                sids = _sentence_rows(table, rows)
                if len(sids) > HEADER_DOC_SENTENCES:
                    sims = idx.sentence_vectors[sids] @ qvec
                    sids = sids[np.argsort(-sims, kind="stable")[:HEADER_DOC_SENTENCES]]
                pools.append(sids)
        pools.append(_sentence_rows(table, np.asarray(list(dict.fromkeys(chunk_pool)), dtype=np.int64)))
        pool = np.concatenate(pools)
        if self._gone is not None:
            pool = pool[~self._gone[idx.sentence_chunk[pool]]]
        if allowed is not None:
            pool = pool[np.isin(idx.sentence_chunk[pool], allowed)]
        # One candidate per sentence span (overlapping windows of a long paragraph repeat
        # sentences): the first row met stands for it.
        _, first = np.unique(idx.sentence_canonical[pool], return_index=True)
        sids = pool[np.sort(first)]
        if not info.about_document:
            # A heading, or a fragment such as a dateline ("TOKYO, June 20."), answers questions
            # about the document, never about its content; it may still be quoted beside one.
            sids = sids[(idx.sentence_flags[sids] & (facts.HEADING | facts.FRAGMENT)) == 0]
        phrases = name_phrases(question)
        names = [self._name(phrase) for phrase in phrases]
        question_view = self._question_view(question, info, qvec, terms, phrases, names, header)
        view = self._view(question_view, sids, bm25, terms, names)
        return Candidates(view, rank_matrix(view), self._windows(view))

    def _question_view(
        self,
        question: str,
        info: QuestionInfo,
        qvec: np.ndarray,
        terms: QuestionTerms,
        phrases: Sequence[str],
        names: Sequence[Name],
        header: HeaderScores,
    ) -> QuestionView:
        tokens = tuple(dict.fromkeys(self.tokenizer(question)))
        weights = np.asarray([self.keywords.idf(t) for t in tokens], dtype=np.float64)
        date_tokens = set(self.tokenizer(info.date_words))
        counted = set(self.tokenizer(info.counted))
        unknown = sum(
            w
            for t, w in zip(tokens, weights, strict=True)
            if t not in self.keywords.doc_freq and t not in terms.all_terms and t not in date_tokens
        )
        absent = [
            p
            for p, name in zip(phrases, names, strict=True)
            if not name.found_in(self.corpus_vocabulary) and not state_of_capital(p)  # "Baku" names Azerbaijan
        ]
        return QuestionView(
            text=question,
            info=info,
            vector=qvec,
            tokens=tokens,
            weights=weights,
            date_tokens=np.asarray([t in date_tokens for t in tokens], dtype=bool),
            counted=np.asarray([t in counted for t in tokens], dtype=bool),
            unknown_words=float(unknown / weights.sum()) if weights.sum() else 0.0,
            names_absent=len(absent) / len(names) if names else 0.0,
            absent_names=tuple(absent),
            header=header,
            who_phrases=terms.who_phrases,
            alternatives=self._alternatives(question, tokens),
        )

    def _alternatives(self, question: str, tokens: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
        position = {t: i for i, t in enumerate(tokens)}
        groups = []
        for parts in slashed(question):
            group = {position[t] for part in parts for t in self.tokenizer(part) if t in position}
            if len(group) > 1:
                groups.append(tuple(sorted(group)))
        return tuple(groups)

    def _scope(self, view: CandidateView) -> str:
        """What the corpus lacks of what the question names, said so a reader sees what was
        searched: a speaker's statement from the date asked, or a name no statement mentions."""
        question = view.question
        header = question.header
        speaking = header.who > 0
        if question.info.dates and question.who_phrases and speaking.any() and not (speaking & (header.date > 0)).any():
            when = join_words([describe_date(d) for d in question.info.dates])
            if len(question.who_phrases) > 1:
                return f"it has no statement from {when} by any of {join_words(question.who_phrases)}"
            who = question.who_phrases[0]
            years = sorted(
                {self.headers.documents[self.headers.doc_ids[i]].date.year for i in np.flatnonzero(speaking)}
            )
            return f"it has no statement by {who} from {when}; {who}'s are from {join_words([str(y) for y in years])}"
        if question.absent_names:
            return f"no statement mentions {join_words(question.absent_names)}"
        return ""

    def _view(
        self, question: QuestionView, sids: np.ndarray, bm25: np.ndarray, terms: QuestionTerms, names: Sequence[Name]
    ) -> CandidateView:
        """Every per-candidate array the features read, computed for all candidates at once."""
        idx = self.index
        qvec = question.vector
        chunk_ids = idx.sentence_chunk[sids]
        table = idx.chunks.table[chunk_ids] if len(sids) else np.zeros((0, 7), dtype=np.int64)
        doc_positions = self._header_position[table[:, ChunkTable.DOC]]
        # The sentence before and after each candidate, where its chunk has one.
        first, count = table[:, ChunkTable.FIRST_SENTENCE], table[:, ChunkTable.SENTENCES]
        has_prev = sids > first
        has_next = sids + 1 < first + count
        prev_rows = np.where(has_prev, sids - 1, sids)
        next_rows = np.where(has_next, sids + 1, sids)
        vectors = idx.sentence_vectors
        s_vec = vectors[sids]
        prev_vec = vectors[prev_rows] * has_prev[:, None]
        next_vec = vectors[next_rows] * has_next[:, None]
        s_cos = s_vec @ qvec
        prev_cos = np.where(has_prev, prev_vec @ qvec, -np.inf)
        next_cos = np.where(has_next, next_vec @ qvec, -np.inf)
        window = s_vec + prev_vec + next_vec
        flags = idx.sentence_flags
        top_bm25 = float(bm25.max()) if len(bm25) else 0.0
        sentence_has = self._question_holds(question, sids)
        window_has = sentence_has | (self._question_holds(question, prev_rows) & has_prev[:, None])
        window_has |= self._question_holds(question, next_rows) & has_next[:, None]
        spans = idx.sentences[sids] if len(sids) else np.zeros((0, 2), dtype=np.int64)
        return CandidateView(
            question=question,
            sentence_ids=sids,
            chunk_ids=chunk_ids,
            doc_positions=doc_positions,
            sentence_cos=s_cos,
            chunk_cos=idx.chunk_vectors[chunk_ids] @ qvec,
            neighbour_cos=np.where(has_prev | has_next, np.maximum(prev_cos, next_cos), s_cos),
            window_cos=(window @ qvec) / np.maximum(np.linalg.norm(window, axis=1), 1e-9),
            bm25=bm25[chunk_ids] / top_bm25 if top_bm25 > 0 else np.zeros(len(sids)),
            flags=flags[sids],
            window_flags=flags[sids] | (flags[prev_rows] * has_prev) | (flags[next_rows] * has_next),
            sentence_has=sentence_has,
            window_has=window_has,
            accounted=self._accounted(question, terms, doc_positions),
            names_missing=self._names_missing(names, doc_positions),
            doc_has=either(self._documents_hold(question.tokens, doc_positions), question.alternatives),
            lengths=(spans[:, 1] - spans[:, 0]).astype(np.float64),
        )

    def _question_holds(self, question: QuestionView, rows: np.ndarray) -> np.ndarray:
        return either(self._holds(question.tokens, rows), question.alternatives)

    def _holds(self, tokens: Sequence[str], rows: np.ndarray) -> np.ndarray:
        """Sentences x tokens: which of the tokens each sentence row holds."""
        vocab = self.keywords.vocab
        wanted = np.asarray([vocab.get(t, -1) for t in tokens], dtype=np.int64)
        out = np.zeros((len(rows), len(tokens)), dtype=bool)
        known = np.flatnonzero(wanted >= 0)
        if not len(known) or not len(rows):
            return out
        assert self.keywords.sentences is not None
        ids, owner = self.keywords.sentences.gather(rows)
        order = np.argsort(wanted[known])
        sorted_ids = wanted[known][order]
        at = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
        hit = sorted_ids[at] == ids
        out[owner[hit], known[order][at[hit]]] = True
        return out

    def _accounted(self, question: QuestionView, terms: QuestionTerms, doc_positions: np.ndarray) -> np.ndarray:
        """Candidates x question tokens that the candidate's document header accounts for; the date
        words only when the document's date fits them."""
        docs, inverse = np.unique(doc_positions, return_inverse=True)
        per_doc = self.headers.accounted(terms, question.tokens, docs)
        per_doc |= (question.header.date[docs] > 0)[:, None] & question.date_tokens[None, :]
        return per_doc[inverse]

    def _documents_hold(self, tokens: Sequence[str], doc_positions: np.ndarray) -> np.ndarray:
        """Candidates x tokens: whether the candidate's document holds the token anywhere."""
        docs, inverse = np.unique(doc_positions, return_inverse=True)
        out = np.stack([self._held_by(t, docs) for t in tokens], axis=1) if tokens else None
        return np.zeros((len(doc_positions), 0), dtype=bool) if out is None else out[inverse]

    def _held_by(self, token: str, docs: np.ndarray) -> np.ndarray:
        """For each document (header positions), whether one of its chunks holds the token: the
        token's chunk list is sorted and a document's chunks are consecutive, so two binary searches
        per document answer it, however many chunks hold a common word."""
        hits = self.keywords.chunks_with(token)
        if not len(hits):
            return np.zeros(len(docs), dtype=bool)
        lo, hi = self._document_chunks
        return np.searchsorted(hits, lo[docs]) < np.searchsorted(hits, hi[docs])

    @cached_property
    def _document_chunks(self) -> tuple[np.ndarray, np.ndarray]:
        """First and past-last chunk row of each document, by header position (empty when it has none)."""
        lo = np.zeros(self.headers.size, dtype=np.int64)
        hi = np.zeros(self.headers.size, dtype=np.int64)
        for doc_id, rows in self.index.doc_chunks.items():
            position = self.headers.position.get(doc_id)
            if position is not None:
                lo[position], hi[position] = rows.start, rows.stop
        return lo, hi

    def _name(self, phrase: str) -> Name:
        tokens = self.tokenizer(phrase)
        groups = frozenset(t for t in tokens if "_" in t or t in self.tokenizer.group_tokens)
        pattern = self.tokenizer.aliases.pattern
        rest = pattern.sub(" ", phrase) if pattern is not None else phrase
        return Name(groups, tuple(dict.fromkeys(t for t in self.tokenizer(rest) if t not in groups)))

    def _names_missing(self, names: Sequence[Name], doc_positions: np.ndarray) -> np.ndarray:
        """Per candidate, the share of the question's names that its document (text or header) does
        not mention. Only the tokens that could spell a name are looked up, in the keyword index's
        token-to-chunk lists, so no document is tokenised for a question."""
        if not names:
            return np.zeros(len(doc_positions))
        docs, inverse = np.unique(doc_positions, return_inverse=True)
        tokens = sorted(self._name_tokens(names))
        held = np.stack([self._held_by(t, docs) for t in tokens], axis=1) if tokens else None
        shares = np.zeros(len(docs))
        for i, d in enumerate(docs.tolist()):
            present = set(self.headers.fields.get(self.headers.doc_ids[d], ())) if d >= 0 else set()
            if held is not None:
                present.update(t for t, here in zip(tokens, held[i].tolist(), strict=True) if here)
            vocabulary = Vocabulary(present)
            shares[i] = sum(1 for name in names if not name.found_in(vocabulary)) / len(names)
        return shares[inverse]

    def _name_tokens(self, names: Sequence[Name]) -> set[str]:
        """Every corpus token that can stand for a word of these names: its alias group, or a form."""
        tokens: set[str] = set()
        for name in names:
            tokens |= name.groups
            for word in name.words:
                tokens.update(self.corpus_vocabulary.forms(word, 4))  # as Name.found_in looks
        return tokens

    @cached_property
    def corpus_vocabulary(self) -> Vocabulary:
        """Every token of every text and header: a name outside it is one no statement mentions."""
        return Vocabulary(set(self.keywords.doc_freq) | set(self.headers.df_all))

    def _windows(self, view: CandidateView) -> list[tuple[str, int, int]]:
        """(doc_id, start, end) of each candidate with its neighbours in its chunk."""
        idx = self.index
        table = idx.chunks.table[view.chunk_ids] if len(view) else np.zeros((0, 7), dtype=np.int64)
        first, count = table[:, ChunkTable.FIRST_SENTENCE], table[:, ChunkTable.SENTENCES]
        lo = np.maximum(view.sentence_ids - 1, first)
        hi = np.minimum(view.sentence_ids + 1, first + count - 1)
        doc_ids = idx.chunks.doc_ids
        return [
            (doc_ids[int(d)], idx.span(a)[0], idx.span(b)[1])
            for d, a, b in zip(table[:, ChunkTable.DOC].tolist(), lo.tolist(), hi.tolist(), strict=True)
        ]

    def paragraph_at(self, doc: Document, offset: int) -> Paragraph:
        paras, starts = self._paragraph_table(doc.doc_id)
        return paras[max(0, bisect.bisect_right(starts, offset) - 1)]

    def is_heading(self, doc: Document, offset: int) -> bool:
        """Title blocks, symbols, datelines: context for what follows, not an answer to a question
        about content."""
        para = self.paragraph_at(doc, offset)
        return is_heading(doc.text[para.start : para.end], doc.title)

    # -- choosing what to show ----------------------------------------------------------------

    def _pick(
        self, cands: Candidates, scores: np.ndarray, order: np.ndarray, k: int, *, heading_ok: bool
    ) -> list[Result]:
        """Best candidates whose quotes share no text; headings only for questions about the
        document. Two quotes may come from one long paragraph when its best sentences lie apart:
        the second is often the one that answers, and it could not be shown otherwise."""
        heading = (cands.view.flags & facts.HEADING) > 0
        results: list[Result] = []
        for i in order:
            if len(results) >= k:
                break
            if not heading_ok and heading[i]:
                continue
            result = self._result(cands, int(i), float(scores[i]))
            if any(r.doc_id == result.doc_id and r.start < result.end and result.start < r.end for r in results):
                continue
            results.append(result)
        return results

    def _result(self, cands: Candidates, i: int, score: float) -> Result:
        idx = self.index
        sid = int(cands.sentence_ids[i])
        rec = idx.chunks[int(cands.chunk_ids[i])]
        doc = self.corpus.documents[rec.doc_id]
        rows = np.arange(rec.sentence_start, rec.sentence_start + rec.sentence_count)
        spans = [(int(s), int(e)) for s, e in idx.sentences[rows].tolist()]
        best = sid - rec.sentence_start
        heading = (idx.sentence_flags[rows] & facts.HEADING) > 0
        question = cands.view.question
        scores = idx.sentence_vectors[rows] @ question.vector
        scores += LEXICAL_IN_QUOTE * weighted_share(self._question_holds(question, rows), question.weights)
        # Never join a heading to a content quote, or the reverse.
        scores = np.where(heading == heading[best], scores, -math.inf)
        quote = choose_quote(spans, scores.tolist(), best=best)
        paragraph = self._paragraphs_of(doc, quote.start, quote.end)
        return Result(
            doc_id=doc.doc_id,
            title=doc.title,
            citation=citation(doc, paragraph),
            paragraph=paragraph,
            quote=doc.text[quote.start : quote.end],
            highlight=(quote.highlight_start - quote.start, quote.highlight_end - quote.start),
            start=quote.start,
            end=quote.end,
            score=score,
        )

    def _paragraphs_of(self, doc: Document, start: int, end: int) -> ParagraphSpan:
        """The paragraph numbers the quote itself spans (a chunk may span more than the quote)."""
        numbers = [p.number for p in self.paragraphs(doc.doc_id) if p.start < end and p.end > start]
        if not numbers:
            raise ValueError(f"quote {start}:{end} lies in no paragraph of {doc.doc_id}")
        return ParagraphSpan.of(numbers)

    def with_names(self, question: str) -> str:
        """The question with the names it types in lower case ("and brazil?") written as the
        corpus writes them: the reader finds speakers, venues and topics by their capitals."""
        return self._casing.apply(question)

    @cached_property
    def _casing(self) -> Casing:
        documents = self.corpus.documents.values()
        names, strong = header_names(documents, self.tokenizer.aliases.names)
        return Casing(names, everyday_words(documents) | stopwords(), strong)

    def _spoken_by(self, name: str) -> set[str]:
        """Ids of the statements whose speaker or organisation names `name`, from the header tokens'
        inverted lists (a question costs no pass over the corpus). A name with more than a country
        in it ("Japan's Chief Cabinet Secretary Hayashi") also finds the statements reporting its
        last word's bearer (Hayashi, in a news agency's report); a country's name never its part
        ("South Sudan" is not "Sudan")."""
        wanted = self._speaker_name_tokens(name)
        found = self._documents_with_all(wanted)
        words = set(self.tokenizer.names(name))
        last = name.split()[-1] if len(name.split()) > 1 else ""
        if last and words - wanted and last.casefold() not in GENERIC:
            found |= self._documents_with_all(self._speaker_name_tokens(last))
        return found

    def _documents_with_all(self, tokens: frozenset[str]) -> set[str]:
        if not tokens:
            return set()
        return set(frozenset.intersection(*(self._speaker_index.get(t, frozenset()) for t in tokens)))

    @cached_property
    def _speaker_index(self) -> dict[str, frozenset[str]]:
        """Header token -> ids of the statements whose speaker or organisation has it."""
        index: dict[str, set[str]] = {}
        for doc in self.corpus.documents.values():
            for token in self._header_tokens(doc):
                index.setdefault(token, set()).add(doc.doc_id)
        return {t: frozenset(ids) for t, ids in index.items()}

    def names_a_speaker(self, name: str) -> bool:
        """Whether some statement's speaker or organisation is `name` (as `speaker_matches` reads
        it): how a follow-up tells "and Russia?" (another speaker) from "and sanctions?" (another
        topic). The name is read once, whatever the size of the corpus."""
        return bool(self._documents_with_all(self._speaker_name_tokens(name)))

    def names_a_venue(self, name: str) -> bool:
        """Whether some statement's venue holds every keyword of `name` ("the OSCE", "the Security
        Council"): how a follow-up tells "and at the OSCE?" from a speaker or a topic."""
        wanted = self._speaker_name_tokens(name)
        if not wanted:
            return False
        if self._venue_tokens is None:
            self._venue_tokens = {
                frozenset(self.tokenizer(v)) for v in {d.venue for d in self.corpus.documents.values()}
            }
        return any(wanted <= venue for venue in self._venue_tokens)

    def speaker_matches(self, doc: Document, name: str) -> bool:
        """Whether a statement's speaker or organisation names `name`, word for word through the
        keyword tokenizer and its aliases: "the US" finds "United States", "South Korea" finds
        "ROK", and "US" never matches inside "Russian". A several-word alias is one name: "Sudan"
        is not in "South Sudan", and "Korea" alone names neither Korea (it could be either). A
        name of stop words only ("A", "The") names nobody, not everybody."""
        wanted = self._speaker_name_tokens(name)
        return bool(wanted) and wanted <= self._header_tokens(doc)

    def _speaker_name_tokens(self, name: str) -> frozenset[str]:
        name = state_of_capital(name) or name  # "what did Beijing say": China's statements
        tokens = set(self.tokenizer.names(name))
        # "South Korea" is its alias group ("Republic of Korea", "ROK", "Seoul"), not the word "south".
        groups = {t for t in tokens if "_" in t or t in self.tokenizer.group_tokens}
        if not groups:
            # A name typed as a speaker is a name: "the us" is the US there, though "us" is a word.
            shouted = set(self.tokenizer.names(_SHORT_WORD.sub(_upper, name)))
            groups = {t for t in shouted if "_" in t or t in self.tokenizer.group_tokens}
        return frozenset(groups or tokens)

    def _header_tokens(self, doc: Document) -> frozenset[str]:
        header = self._speaker_tokens.get(doc.doc_id)
        if header is None:
            header = self._speaker_tokens[doc.doc_id] = frozenset(
                self.tokenizer.names(with_misspelt_countries(f"{doc.speaker} {doc.organisation}"))
            )
        return header

    def accepts(self, doc: Document, filters: Filters) -> bool:
        """Every filter, the speaker matched by `speaker_matches`: the one test for all front ends."""
        return filters.accepts(doc) and (not filters.speaker or self.speaker_matches(doc, filters.speaker))

    def _allowed_chunks(self, filters: Filters) -> np.ndarray | None:
        if not filters.active():
            return None
        ids: list[int] = []
        documents = self.corpus.documents
        # Statements named by id are looked up, not searched for among all of them.
        chosen = [documents[d] for d in filters.documents if d in documents] if filters.documents else None
        for doc in chosen if chosen is not None else documents.values():
            if self.accepts(doc, filters):
                ids.extend(self.index.doc_chunks.get(doc.doc_id, []))
        return np.asarray(sorted(ids), dtype=np.int64)
