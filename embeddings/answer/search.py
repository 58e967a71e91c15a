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
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np

from embeddings.answer.citations import citation
from embeddings.answer.headers import DocumentMatch, MetadataIndex, QuestionTerms, Vocabulary
from embeddings.answer.question import QuestionInfo, has_date, has_quantity, name_phrases, understand
from embeddings.answer.quoting import choose_quote
from embeddings.answer.ranking import RANK_FEATURES, Models, coverage, shipped_models
from embeddings.corpus.chunking import Paragraph, ParagraphSpan, is_heading, paragraphs
from embeddings.corpus.documents import Corpus, Document
from embeddings.errors import BadQuestionError, VerbatimError
from embeddings.index.embedder import QuestionEncoder
from embeddings.index.keywords import KeywordIndex, Tokenizer
from embeddings.index.store import Index, keyword_texts
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
DOC_MASS_TEMPERATURE = 10.0
"""Sharpness of the soft count of how much of the evidence near the question one document holds."""


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


@dataclass
class Answer:
    question: str
    answered: bool
    results: list[Result] = field(default_factory=list)
    reason: Decline | None = None
    """Why nothing is quoted, when nothing is."""
    nearest: list[Result] = field(default_factory=list)
    """When declining: the passages nearest the question, to say what the corpus does cover."""

    def to_json(self) -> dict[str, object]:
        return {"question": self.question, "answered": self.answered, "results": [r.to_json() for r in self.results]}


def clean_question(question: str, max_chars: int = Settings.max_question_chars) -> str:
    """The question with runs of white space folded, or a BadQuestionError saying what to change:
    the one check every front end applies."""
    bad = next((i for i, ch in enumerate(question) if "\udc80" <= ch <= "\udcff"), None)
    if bad is not None:
        byte = ord(question[bad]) - 0xDC00
        raise BadQuestionError(
            f"the question is not valid UTF-8 text (byte 0x{byte:02x} at character {bad + 1}); "
            "type it again or save it as UTF-8"
        )
    text = " ".join(question.split())
    if not text:
        raise BadQuestionError("the question is empty: ask something like “What did Japan say about the ICBM launch?”")
    if len(text) > max_chars:
        raise BadQuestionError(f"the question is {len(text)} characters long; please keep it to {max_chars} at most")
    if not any(ch.isalnum() for ch in text):
        raise BadQuestionError("the question has no words in it")
    return text


@dataclass
class Candidates:
    """Every sentence considered for one question, with its features; cheap to re-rank, so that
    cross-validation computes them once per question and tries models on them."""

    question: str
    info: QuestionInfo
    sentence_ids: np.ndarray
    """Global sentence rows in the index, one per candidate."""
    chunk_ids: np.ndarray
    features: np.ndarray
    """One row per candidate, columns as `RANK_FEATURES`."""
    windows: list[tuple[str, int, int]]
    """(doc_id, start, end) of each candidate's sentence with its neighbours: what labels are read from."""
    unknown_words: float
    """IDF-weighted share of the question's words that neither the texts nor the headers contain."""
    has_number: np.ndarray
    """Whether each candidate's window contains a number (figures or number words), beside what a
    "how many" question counts when it names it; computed only for questions that want a number."""
    query_vector: np.ndarray
    names_missing: np.ndarray
    """Per candidate: the share of the question's names (capitalised words) that its document's text
    and header lack. A near miss often asks what someone the document never mentions said."""
    has_date: np.ndarray
    """Whether each candidate's window contains a date or time reference; computed only for
    questions that want a date."""
    names_absent: float
    """Share of the question's names that no document mentions at all."""

    def __len__(self) -> int:
        return len(self.sentence_ids)


def answer_features(cands: Candidates, scores: np.ndarray) -> np.ndarray:
    """Question-level features (see `ANSWER_FEATURES`) from the ranked candidates."""
    col = {name: i for i, name in enumerate(RANK_FEATURES)}
    order = np.argsort(-scores, kind="stable")
    top = order[0]
    f = cands.features
    return np.asarray(
        [
            scores[top],
            float(np.max(f[:, col["sent_cos"]])),
            f[top, col["cover_window"]],
            cands.unknown_words,
            1.0 if cands.info.wants_number and not cands.has_number[top] else 0.0,
            1.0 if cands.info.wants_date and not cands.has_date[top] else 0.0,
            1.0 if f[top, col["date_fit"]] < 0 else 0.0,
            float(np.min(cands.names_missing[order[:3]])),
            cands.names_absent,
        ],
        dtype=np.float64,
    )


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


MIN_ANSWER_WORDS = 4
"""Fewer words than this make a fragment (a dateline, a salutation), not a sentence that answers."""
_WORD = re.compile(r"[^\W\d_]{2,}")


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


def _too_short(sentence: str) -> bool:
    return len(_WORD.findall(sentence)) < MIN_ANSWER_WORDS


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
            keyword_texts(corpus, index.chunks), tokenizer
        )
        self._speaker_tokens: dict[str, frozenset[str]] = {}
        self.headers = MetadataIndex(corpus.documents.values(), tokenizer)
        self._paragraphs: dict[str, list[Paragraph]] = {}
        self._starts: dict[str, list[int]] = {}
        self._heading: dict[tuple[str, int], bool] = {}
        self._tokens: dict[int, tuple[str, ...]] = {}

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

    def candidates(self, question: str, filters: Filters | None = None) -> Candidates | Answer:
        """The candidate sentences and their features, or an Answer when there is nothing to rank."""
        question = clean_question(question, self.max_question_chars)
        filters = filters or Filters()
        allowed = self._allowed_chunks(filters)
        if allowed is not None and not len(allowed):
            return Answer(question, False, reason=Decline.NO_MATCHING_DOCUMENTS)
        if not self.index.chunks:
            return Answer(question, False, reason=Decline.EMPTY_CORPUS)
        qvec = self.embedder.encode([question])[0]
        return self._collect(question, qvec, allowed)

    def answer(self, cands: Candidates, k: int = 3, models: Models | None = None) -> Answer:
        """Rank, decide, quote: the part of answering that cross-validation repeats with other models."""
        models = models or self.models
        if not len(cands):
            return Answer(cands.question, False, reason=Decline.NOTHING_ANSWERS)
        scores = models.ranker.decision(cands.features)
        answered, _margin = models.answers(answer_features(cands, scores))
        order = np.argsort(-scores, kind="stable")
        if not answered:
            # Point to the nearest passages only when the question shares words with the corpus: for
            # a question about something else entirely, "nearest" would mean nothing.
            nearest = self._pick(cands, scores, order, 2, heading_ok=False) if cands.unknown_words < 1.0 else []
            return Answer(cands.question, False, reason=Decline.NOTHING_ANSWERS, nearest=nearest)
        results = self._pick(cands, scores, order, k, heading_ok=cands.info.about_document)
        return Answer(cands.question, True, results)

    def paragraphs(self, doc_id: str) -> list[Paragraph]:
        """Paragraphs of a document, computed once: citations and `/source` number them alike."""
        cached = self._paragraphs.get(doc_id)
        if cached is None:
            cached = self._paragraphs[doc_id] = paragraphs(self.corpus.documents[doc_id].text)
            self._starts[doc_id] = [p.start for p in cached]
        return cached

    # -- candidates ---------------------------------------------------------------------------

    def _collect(self, question: str, qvec: np.ndarray, allowed: np.ndarray | None) -> Candidates:
        idx = self.index
        info = understand(question)
        bm25 = self.keywords.scores(question)
        terms = self.headers.question_terms(question)
        allowed_set = None if allowed is None else set(allowed.tolist())

        chunk_pool: list[int] = []
        sentence_pool: list[int] = []
        if allowed is None:
            _, s_ids = idx.sentence_index.search(qvec, DENSE_SENTENCES)
            _, c_ids = idx.chunk_index.search(qvec, DENSE_CHUNKS)
            sentence_pool.extend(int(s) for s in s_ids)
            chunk_pool.extend(int(c) for c in c_ids)
        else:
            chunk_pool.extend(int(c) for c in allowed)
        chunk_pool.extend(top_keyword_chunks(bm25, KEYWORD_CHUNKS, allowed))
        for doc_id in self.headers.candidates(terms, info.dates, HEADER_DOCUMENTS):
            rows = [c for c in idx.doc_chunks.get(doc_id, []) if allowed_set is None or c in allowed_set]
            if not rows:
                continue
            sids = np.concatenate([np.asarray(idx.chunks[c].sentence_ids) for c in rows])
            if len(sids) > HEADER_DOC_SENTENCES:
                sims = idx.sentence_vectors[sids] @ qvec
                sids = sids[np.argsort(-sims)[:HEADER_DOC_SENTENCES]]
            sentence_pool.extend(int(s) for s in sids)
        for c in dict.fromkeys(chunk_pool):
            rec = idx.chunks[c]
            sentence_pool.extend(rec.sentence_ids)

        # One candidate per sentence span: overlapping windows of a long paragraph repeat sentences.
        seen: dict[tuple[str, int], int] = {}
        for sid in sentence_pool:
            c = int(idx.sentence_chunk[sid])
            if allowed_set is not None and c not in allowed_set:
                continue
            doc = self.corpus.documents[idx.chunks[c].doc_id]
            key = (doc.doc_id, int(idx.sentences[sid][0]))
            if key in seen:
                continue
            if not info.about_document and (
                self.is_heading(doc, key[1]) or _too_short(doc.text[key[1] : int(idx.sentences[sid][1])])
            ):
                # A heading, or a fragment such as a dateline ("TOKYO, June 20."), answers questions
                # about the document, never about its content; it may still be quoted beside one.
                continue
            seen[key] = sid
        sids_arr = np.fromiter(seen.values(), dtype=np.int64, count=len(seen))
        chunks_arr = idx.sentence_chunk[sids_arr]
        return self._features(question, info, qvec, bm25, terms, sids_arr, chunks_arr)

    def _features(
        self,
        question: str,
        info: QuestionInfo,
        qvec: np.ndarray,
        bm25: np.ndarray,
        terms: QuestionTerms,
        sids: np.ndarray,
        chunk_ids: np.ndarray,
    ) -> Candidates:
        idx = self.index
        n = len(sids)
        s_cos = idx.sentence_vectors[sids] @ qvec
        c_cos = idx.chunk_vectors[chunk_ids] @ qvec

        top_bm25 = float(bm25.max()) if len(bm25) else 0.0
        date_tokens = frozenset(self.tokenizer(info.date_words))
        counted = frozenset(self.tokenizer(info.counted))
        q_sequence = self.tokenizer(question)
        q_tokens = list(dict.fromkeys(q_sequence))
        weights = {t: self.keywords.idf(t) for t in q_tokens}
        unknown_weight = sum(
            w
            for t, w in weights.items()
            if t not in self.keywords.doc_freq and t not in terms.all_terms and t not in date_tokens
        )
        total_weight = sum(weights.values())
        names = [self._name(phrase) for phrase in name_phrases(question)]
        absent = sum(1 for name in names if not name.found_in(self.corpus_vocabulary))
        missing_cache: dict[str, float] = {}
        names_missing = np.zeros(n, dtype=np.float64)
        has_date_arr = np.zeros(n, dtype=bool)
        matches: dict[str, DocumentMatch] = {}
        feats = np.zeros((n, len(RANK_FEATURES)), dtype=np.float64)
        windows: list[tuple[str, int, int]] = []
        has_number = np.zeros(n, dtype=bool)
        order = np.argsort(-s_cos, kind="stable")
        sent_rank = np.empty(n, dtype=np.float64)
        sent_rank[order] = np.arange(n)
        doc_best: dict[str, float] = {}
        doc_mass: dict[str, float] = {}
        top_s = float(s_cos.max()) if n else 0.0
        doc_ids = idx.chunks.doc_ids
        for i, d_index in enumerate(idx.chunks.table[chunk_ids, 0].tolist()):
            d = doc_ids[d_index]
            doc_best[d] = max(doc_best.get(d, -1.0), float(s_cos[i]))
            doc_mass[d] = doc_mass.get(d, 0.0) + math.exp(DOC_MASS_TEMPERATURE * (float(s_cos[i]) - top_s))
        all_mass = sum(doc_mass.values()) or 1.0
        top_c = float(c_cos.max()) if n else 0.0
        # The sentence before and after each candidate, where its chunk has one: their closeness
        # and the closeness of the three together, computed for all candidates at once.
        table = idx.chunks.table[chunk_ids] if n else np.zeros((0, 7), dtype=np.int64)
        has_prev = sids > table[:, 5]
        has_next = sids + 1 < table[:, 5] + table[:, 6]
        vectors = idx.sentence_vectors
        prev_vec = vectors[np.where(has_prev, sids - 1, sids)] * has_prev[:, None]
        next_vec = vectors[np.where(has_next, sids + 1, sids)] * has_next[:, None]
        prev_cos = np.where(has_prev, prev_vec @ qvec, -np.inf)
        next_cos = np.where(has_next, next_vec @ qvec, -np.inf)
        nb_cos_all = np.where(has_prev | has_next, np.maximum(prev_cos, next_cos), s_cos)
        window = vectors[sids] + prev_vec + next_vec
        window_cos_all = (window @ qvec) / np.maximum(np.linalg.norm(window, axis=1), 1e-9)
        for i in range(n):
            sid = int(sids[i])
            rec = idx.chunks[int(chunk_ids[i])]
            doc = self.corpus.documents[rec.doc_id]
            m = matches.get(rec.doc_id)
            if m is None:
                m = matches[rec.doc_id] = self.headers.match(rec.doc_id, terms, info.dates)
            neighbours = [j for j, ok in ((sid - 1, has_prev[i]), (sid + 1, has_next[i])) if ok]
            nb_cos = float(nb_cos_all[i])
            window_cos = float(window_cos_all[i])
            s_seq = self._sentence_tokens(sid, doc)
            s_tokens = frozenset(s_seq)
            w_seq = [t for j in sorted([sid, *neighbours]) for t in self._sentence_tokens(j, doc)]
            w_tokens = frozenset(w_seq)
            accounted = m.matched | date_tokens if m.date > 0 else m.matched
            rest = {t: w for t, w in weights.items() if t not in accounted}
            start, end = int(idx.sentences[sid][0]), int(idx.sentences[sid][1])
            w_start = int(idx.sentences[min([sid, *neighbours])][0])
            w_end = int(idx.sentences[max([sid, *neighbours])][1])
            windows.append((rec.doc_id, w_start, w_end))
            missing = missing_cache.get(rec.doc_id)
            if missing is None:
                missing = missing_cache[rec.doc_id] = self._share_missing(names, rec.doc_id)
            names_missing[i] = missing
            heading = self.is_heading(doc, start)
            # Figures and dates are looked for only when the question asks for one: the searches
            # cost more than every other feature together.
            number_fit = 0.0
            if info.wants_number:
                window_text = doc.text[w_start:w_end]
                has_number[i] = has_quantity(window_text) and (not counted or bool(counted & w_tokens))
                number_fit = 1.0 if has_quantity(doc.text[start:end]) else (0.5 if has_number[i] else -1.0)
            if info.wants_date:
                has_date_arr[i] = has_date(doc.text[w_start:w_end])
            feats[i] = (
                s_cos[i],
                s_cos[i] - top_s,
                c_cos[i],
                c_cos[i] - top_c,
                nb_cos,
                window_cos,
                float(bm25[int(chunk_ids[i])]) / top_bm25 if top_bm25 > 0 else 0.0,
                coverage(weights, s_tokens),
                coverage(weights, w_tokens),
                coverage(rest, w_tokens) if rest else 0.0,
                m.fields,
                m.who,
                m.who_miss,
                m.date,
                1.0 if heading else 0.0,
                1.0 if heading and info.about_document else 0.0,
                number_fit,
                math.log1p(end - start) / math.log(400.0),
                doc_best[rec.doc_id] - top_s,
                math.log(doc_mass[rec.doc_id] / all_mass),
                1.0 / (1.0 + sent_rank[i]),
            )
        return Candidates(
            question=question,
            info=info,
            sentence_ids=sids,
            chunk_ids=np.asarray(chunk_ids, dtype=np.int64),
            features=feats,
            windows=windows,
            unknown_words=unknown_weight / total_weight if total_weight else 0.0,
            names_absent=absent / len(names) if names else 0.0,
            has_number=has_number,
            query_vector=qvec,
            names_missing=names_missing,
            has_date=has_date_arr,
        )

    def _name(self, phrase: str) -> Name:
        tokens = self.tokenizer(phrase)
        groups = frozenset(t for t in tokens if "_" in t or t in self.tokenizer.group_tokens)
        pattern = self.tokenizer.aliases.pattern
        rest = pattern.sub(" ", phrase) if pattern is not None else phrase
        return Name(groups, tuple(dict.fromkeys(t for t in self.tokenizer(rest) if t not in groups)))

    def _share_missing(self, names: list[Name], doc_id: str) -> float:
        """The share of the question's names that a document does not mention (text or header).

        Only the tokens that could spell one of the names are looked up, in the keyword index's
        token-to-chunk lists: tokenising whole documents cost milliseconds per document and question."""
        if not names:
            return 0.0
        chunks = self.index.doc_chunks.get(doc_id, range(0))
        present = set(self.headers.fields.get(doc_id, ()))
        for token in self._name_tokens(tuple(names)):
            hits = self.keywords.chunks_with(token)
            if len(hits) and bool(np.any((hits >= chunks.start) & (hits < chunks.stop))):
                present.add(token)
        vocabulary = Vocabulary(present)
        return sum(1 for name in names if not name.found_in(vocabulary)) / len(names)

    @lru_cache(maxsize=256)  # noqa: B019  # one engine lives as long as the process
    def _name_tokens(self, names: tuple[Name, ...]) -> frozenset[str]:
        """Every corpus token that can stand for a word of these names: its alias group, or a form."""
        tokens: set[str] = set()
        for name in names:
            tokens |= name.groups
            for word in name.words:
                tokens.update(self.corpus_vocabulary.forms(word, 4))  # as Name.found_in looks
        return frozenset(tokens)

    @cached_property
    def corpus_vocabulary(self) -> Vocabulary:
        """Every token of every text and header: a name outside it is one no statement mentions."""
        return Vocabulary(set(self.keywords.doc_freq) | set(self.headers.df_all))

    def _sentence_tokens(self, sid: int, doc: Document) -> tuple[str, ...]:
        cached = self._tokens.get(sid)
        if cached is None:
            if len(self._tokens) > 200_000:
                self._tokens.clear()
            s, e = self.index.sentences[sid]
            cached = self._tokens[sid] = tuple(self.tokenizer(doc.text[int(s) : int(e)]))
        return cached

    def paragraph_at(self, doc: Document, offset: int) -> Paragraph:
        paras = self.paragraphs(doc.doc_id)
        i = max(0, bisect.bisect_right(self._starts[doc.doc_id], offset) - 1)
        return paras[i]

    def is_heading(self, doc: Document, offset: int) -> bool:
        """Title blocks, symbols, datelines: context for what follows, not an answer to a question
        about content."""
        para = self.paragraph_at(doc, offset)
        key = (doc.doc_id, para.number)
        cached = self._heading.get(key)
        if cached is None:
            text = doc.text[para.start : para.end]
            cached = self._heading[key] = is_heading(text, doc.title)
        return cached

    # -- choosing what to show ----------------------------------------------------------------

    def _pick(
        self, cands: Candidates, scores: np.ndarray, order: np.ndarray, k: int, *, heading_ok: bool
    ) -> list[Result]:
        """Best candidates, one per paragraph; headings only for questions about the document."""
        col_heading = RANK_FEATURES.index("heading")
        results: list[Result] = []
        taken: list[tuple[str, ParagraphSpan]] = []
        for i in order:
            if len(results) >= k:
                break
            if not heading_ok and cands.features[i, col_heading] > 0:
                continue
            result = self._result(cands, int(i), float(scores[i]))
            if any(d == result.doc_id and result.paragraph.overlaps(span) for d, span in taken):
                continue
            results.append(result)
            taken.append((result.doc_id, result.paragraph))
        return results

    def _result(self, cands: Candidates, i: int, score: float) -> Result:
        idx = self.index
        sid = int(cands.sentence_ids[i])
        rec = idx.chunks[int(cands.chunk_ids[i])]
        doc = self.corpus.documents[rec.doc_id]
        sids = rec.sentence_ids
        spans = [(int(idx.sentences[j][0]), int(idx.sentences[j][1])) for j in sids]
        best = sid - rec.sentence_start
        heading = self.is_heading(doc, spans[best][0])
        weights = {t: self.keywords.idf(t) for t in self.tokenizer(cands.question)}
        dense = idx.sentence_vectors[sids.start : sids.stop] @ cands.query_vector
        scores = []
        for j, ((s, _e), d) in enumerate(zip(spans, dense, strict=True)):
            if j != best and self.is_heading(doc, s) != heading:
                scores.append(-math.inf)  # never join a heading to a content quote, or the reverse
                continue
            tokens = frozenset(self._sentence_tokens(sids.start + j, doc))
            scores.append(float(d) + LEXICAL_IN_QUOTE * coverage(weights, tokens))
        quote = choose_quote(spans, scores, best=best)
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

    def speaker_matches(self, doc: Document, name: str) -> bool:
        """Whether a statement's speaker or organisation names `name`, word for word through the
        keyword tokenizer and its aliases: "the US" finds "United States", "South Korea" finds
        "ROK", and "US" never matches inside "Russian"."""
        tokens = set(self.tokenizer(name))
        # "South Korea" is its alias group ("Republic of Korea", "ROK", "Seoul"), not the word "south".
        groups = {t for t in tokens if "_" in t or t in self.tokenizer.group_tokens}
        wanted = groups or tokens
        if not wanted:
            return name.casefold() in f"{doc.speaker} {doc.organisation}".casefold()
        header = self._speaker_tokens.get(doc.doc_id)
        if header is None:
            header = self._speaker_tokens[doc.doc_id] = frozenset(self.tokenizer(f"{doc.speaker} {doc.organisation}"))
        return wanted <= header

    def accepts(self, doc: Document, filters: Filters) -> bool:
        """Every filter, the speaker matched by `speaker_matches`: the one test for all front ends."""
        return filters.accepts(doc) and (not filters.speaker or self.speaker_matches(doc, filters.speaker))

    def _allowed_chunks(self, filters: Filters) -> np.ndarray | None:
        if not filters.active():
            return None
        ids: list[int] = []
        for doc in self.corpus.documents.values():
            if self.accepts(doc, filters):
                ids.extend(self.index.doc_chunks.get(doc.doc_id, []))
        return np.asarray(sorted(ids), dtype=np.int64)
