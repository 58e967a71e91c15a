"""Which documents a question names by their particulars: speaker, country, venue, kind, date.

"What did Russia's foreign minister say about sanctions in 2023?" is answered by one speech among
many that discuss sanctions: the speaker, the country and the year decide which. Those words are
matched against each document's header fields (never its text), and the match is a soft signal for
the ranker, not a hard filter: a question may name a country as its topic ("What did Japan say
about Russia?") as well as its speaker.

Country adjectives are matched to country names by a shared stem ("Ukrainian" / "Ukraine",
"Japanese" / "Japan"); the irregular ones ("French", "Dutch") come from a small data file.
"""

from __future__ import annotations

import bisect
import math
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from embeddings.answer.question import DateMention, name_phrases
from embeddings.corpus.documents import Document
from embeddings.index.keywords import Tokenizer

_POSSESSIVE = re.compile(r"['’]s?$")
_FIRST_WORD = re.compile(r"\s*([A-Z][\w'’.-]*[A-Za-z])")
MIN_STEM = 5
"""Shortest shared beginning for two words to count as one name ("ukrain" in Ukraine, Ukrainian)."""


@cache
def irregular_adjectives() -> dict[str, str]:
    """Lower-case adjective or demonym -> lower-case country name, for the ones no stem links."""
    text = resources.files("embeddings.data").joinpath("demonyms.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return {str(k).lower(): str(v).lower() for k, v in data.get("adjective", {}).items()}


@cache
def capitals() -> dict[str, str]:
    """Each capital as it is written -> the state it stands for."""
    text = resources.files("embeddings.data").joinpath("capitals.toml").read_text(encoding="utf-8")
    return {str(k): str(v) for k, v in tomllib.loads(text).get("capital", {}).items()}


@cache
def _capitals_folded() -> dict[str, str]:
    return {k.casefold(): v for k, v in capitals().items()}


def state_of_capital(name: str) -> str:
    """The state a capital named as a speaker stands for ("Beijing's view" -> China), else ""."""
    bare = _POSSESSIVE.sub("", re.sub(r"^the\s+", "", name.strip(), flags=re.IGNORECASE)).casefold()
    return _capitals_folded().get(bare, "")


def expand_adjectives(text: str) -> str:
    """Append the country name after each irregular adjective, so "French" also reads "France"."""
    table = irregular_adjectives()
    words = text.split()
    extra = [table[w.strip(".,;:!?()\"'’").lower()] for w in words if w.strip(".,;:!?()\"'’").lower() in table]
    return text if not extra else text + " " + " ".join(extra)


@cache
def countries() -> dict[int, list[str]]:
    """The states of `countries.txt` by their number of words."""
    text = resources.files("embeddings.data").joinpath("countries.txt").read_text(encoding="utf-8")
    by_words: dict[int, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            by_words.setdefault(len(line.split()), []).append(line.strip())
    return by_words


_CAPITALISED_RUN = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:(?:and|of|the)\s+)*[A-Z][\w'’-]*)*")
_COUNTRY_PLACE = re.compile(
    r"\(([^()]+)\)|\b(?:Governments?|Delegation|Permanent Mission|Ministry of Foreign Affairs) of (?:the )?([^,;()]+)"
)
"""Where a header names a state ("(Philippines)", "Government of ..."): a person's name next to it
may be one typo from a state's ("Giorgia", "Osman") and is not one."""


def states_named(header: str) -> list[str]:
    """The words where a header names a state: in brackets, or after "Government of"."""
    return [(m.group(1) or m.group(2)).strip() for m in _COUNTRY_PLACE.finditer(header)]


@cache
def misspelt_countries(text: str) -> tuple[str, ...]:
    """The states a header writes with one typo ("Phlippines", "Dominia", "Lybia"), by their
    names: a member asking about the Philippines expects that statement too. Only a run of
    capitalised words that is no state's name, one edit from exactly one state's name of as many
    words, with the same first letter and at least five letters (Zambia is no typo of Gambia, nor
    Iran of Iraq)."""
    found: list[str] = []
    for run in _CAPITALISED_RUN.findall(" ; ".join(states_named(text))):
        words = run.split()
        for size in range(1, len(words) + 1):
            for start in range(len(words) - size + 1):
                phrase = " ".join(words[start : start + size]).casefold()
                named = countries().get(size, [])
                if len(phrase) < 5 or phrase in (c.casefold() for c in named):
                    continue
                near = [
                    c
                    for c, _distance, _ in process.extract(
                        phrase,
                        named,
                        scorer=DamerauLevenshtein.distance,
                        processor=str.casefold,
                        score_cutoff=1,
                        limit=3,
                    )
                    if c[0].casefold() == phrase[0] and not same_name(phrase, c.casefold())  # "Dominican": adjective
                ]
                if len(near) == 1 and near[0] not in found:
                    found.append(near[0])
    return tuple(found)


def with_misspelt_countries(text: str) -> str:
    """A header field with the states it misspells appended by their names."""
    extra = misspelt_countries(text)
    return text if not extra else text + " " + " ".join(extra)


_COUNTRY_ENDINGS = frozenset({"", "a", "e", "ia", "y", "o"})
_ADJECTIVE_ENDINGS = frozenset(
    {"n", "an", "ian", "ese", "es", "ish", "i", "ic", "ean", "er", "ern", "ns", "ans", "ians"}
)


def same_name(a: str, b: str, min_stem: int = MIN_STEM) -> bool:
    """Tokens that name the same country or people: equal, or a name and its adjective sharing a
    stem ("ukrain"/"ukrainian", "japan"/"japanes"), but not two names ("niger"/"nigeria")."""
    if a == b:
        return True
    if "_" in a or "_" in b or a.isdigit() or b.isdigit():
        return False
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    if common < min_stem:
        return False
    rest_a, rest_b = a[common:], b[common:]
    return (rest_a in _COUNTRY_ENDINGS and rest_b in _ADJECTIVE_ENDINGS) or (
        rest_b in _COUNTRY_ENDINGS and rest_a in _ADJECTIVE_ENDINGS
    )


@dataclass(frozen=True)
class DocumentMatch:
    """How well one document's header matches what a question names."""

    who: float
    """IDF-weighted share of the question's speaker/country words that this document's speaker or
    organisation carries (0 when the question names none)."""
    who_miss: float
    """1 when the question names a speaker or country of some document but none of this one's."""
    fields: float
    """IDF-weighted share of all the question's words found anywhere in the header."""
    date: float
    """+1 when a date the question names fits this document's date, -1 when every one conflicts."""
    matched: frozenset[str]
    """Question tokens the header accounts for: what remains must be found in the text."""


@dataclass(frozen=True)
class HeaderScores:
    """How well every document's header matches what a question names, as arrays over the
    documents in `MetadataIndex.doc_ids` order (see `DocumentMatch` for each measure)."""

    who: np.ndarray
    who_miss: np.ndarray
    fields: np.ndarray
    date: np.ndarray

    @property
    def overall(self) -> np.ndarray:
        """One number per document for choosing which to search inside: names and the date count,
        naming someone else counts against."""
        return self.who + self.fields + 0.5 * self.date - self.who_miss


class MetadataIndex:
    """Header tokens of every document, with document frequencies for weighting rare names, and for
    each token the documents whose header has it, so that a question is matched against thousands
    of headers with array operations."""

    def __init__(self, documents: Iterable[Document], tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.who: dict[str, frozenset[str]] = {}
        self.fields: dict[str, frozenset[str]] = {}
        self.documents: dict[str, Document] = {}
        who_docs: dict[str, list[int]] = {}
        all_docs: dict[str, list[int]] = {}
        seen: dict[str, frozenset[str]] = {}

        def tokens(text: str) -> frozenset[str]:
            # Speakers and venues repeat across a corpus: each distinct field is tokenised once.
            found = seen.get(text)
            if found is None:
                found = seen[text] = frozenset(tokenizer(expand_adjectives(text)))
            return found

        for position, doc in enumerate(documents):
            who = tokens(with_misspelt_countries(doc.speaker)) | tokens(with_misspelt_countries(doc.organisation))
            rest = tokens(doc.title) | tokens(doc.venue) | tokens(f"{doc.kind} {doc.symbol}")
            self.documents[doc.doc_id] = doc
            self.who[doc.doc_id] = who
            self.fields[doc.doc_id] = who | rest
            for t in who:
                who_docs.setdefault(t, []).append(position)
            for t in who | rest:
                all_docs.setdefault(t, []).append(position)
        self.doc_ids = list(self.documents)
        self.position = {d: i for i, d in enumerate(self.doc_ids)}
        self.size = len(self.documents)
        self._who_docs = {t: np.asarray(v, dtype=np.int64) for t, v in who_docs.items()}
        self._all_docs = {t: np.asarray(v, dtype=np.int64) for t, v in all_docs.items()}
        self.df_who = {t: len(v) for t, v in who_docs.items()}
        # A word that names the venue of more statements than it names the speaker of is a venue:
        # "UN" in "Permanent Representative of Japan to the United Nations" does not make a
        # question about the UN one about Japan's statements.
        venue_df: dict[str, int] = {}
        for doc in self.documents.values():
            for t in tokens(doc.venue):
                venue_df[t] = venue_df.get(t, 0) + 1
        self._speakers = frozenset(t for t, n in self.df_who.items() if n > venue_df.get(t, 0))
        self.df_all = {t: len(v) for t, v in all_docs.items()}
        self._vocab_who = Vocabulary(self.df_who)
        self._vocab_all = Vocabulary(self.df_all)
        dates = [d.date for d in self.documents.values()]
        self._years = np.asarray([d.year for d in dates], dtype=np.int64)
        self._months = np.asarray([d.month for d in dates], dtype=np.int64)
        self._days = np.asarray([d.day for d in dates], dtype=np.int64)

    def _idf(self, df: int) -> float:
        return math.log(1.0 + (self.size - df + 0.5) / (df + 0.5))

    def question_terms(self, question: str) -> QuestionTerms:
        """Resolve the question's words against header vocabularies once per question."""
        tokens = list(dict.fromkeys(self.tokenizer(expand_adjectives(question))))
        # Only names speak for who is meant: "Russia's foreign minister" names Russia; the role words
        # are in every minister's header and only help through `fields`.
        phrases = name_phrases(question)
        first = _FIRST_WORD.match(question)
        if first and any(self._is_speaker(t) for t in self.tokenizer(expand_adjectives(first.group(1)))):
            # A question's first word is capitalised anyway, so it counts as a name only when some
            # statement's speaker carries it ("Rwanda 2024 Kwibuka ...", not "According to ...").
            phrases.append(first.group(1))
        names = {t for phrase in phrases for t in self.tokenizer(expand_adjectives(phrase))}
        who_terms: dict[str, tuple[list[str], float]] = {}
        all_terms: dict[str, tuple[list[str], float]] = {}
        for t in tokens:
            forms = [f for f in self._vocab_who.forms(t) if f in self._speakers] if t in names else []
            if forms:
                df = max(self.df_who[f] for f in forms)
                who_terms[t] = (forms, self._idf(df))
            forms = self._vocab_all.forms(t)
            if forms:
                df = max(self.df_all[f] for f in forms)
                all_terms[t] = (forms, self._idf(df))
        who_phrases = tuple(
            dict.fromkeys(
                _POSSESSIVE.sub("", phrase)
                for phrase in phrases
                if any(t in who_terms for t in self.tokenizer(expand_adjectives(phrase)))
            )
        )
        return QuestionTerms(tokens, who_terms, all_terms, who_phrases)

    def _is_speaker(self, token: str) -> bool:
        return any(f in self._speakers for f in self._vocab_who.forms(token))

    def candidates(self, terms: QuestionTerms, dates: Sequence[DateMention], limit: int) -> list[str]:
        """Documents whose header best matches the question, for searching inside them even when
        their passages rank low corpus-wide (many speeches discuss the same topic)."""
        if not terms.who_terms and not terms.all_terms and not dates:
            return []
        return self.best(self.scores(terms, dates), limit)

    def best(self, scores: HeaderScores, limit: int) -> list[str]:
        """The documents with the best positive overall match, ties in document id order."""
        overall = scores.overall
        hits = np.flatnonzero(overall > 0)
        ids = np.asarray(self.doc_ids, dtype=object)[hits]
        order = np.lexsort((ids, -overall[hits]))[:limit]
        return [str(d) for d in ids[order]]

    def _documents_with(self, table: dict[str, np.ndarray], forms: Sequence[str]) -> np.ndarray:
        found = [table[f] for f in forms if f in table]
        if not found:
            return np.zeros(0, dtype=np.int64)
        return found[0] if len(found) == 1 else np.unique(np.concatenate(found))

    def scores(self, terms: QuestionTerms, dates: Sequence[DateMention]) -> HeaderScores:
        """Every document's match at once: the same measures as `match`, from the token-to-documents
        lists, so a question costs array operations over the documents, not a loop."""
        n = self.size
        who_total = sum(w for _, w in terms.who_terms.values())
        who_hit = np.zeros(n)
        for forms, w in terms.who_terms.values():
            who_hit[self._documents_with(self._who_docs, forms)] += w
        fields_hit = np.zeros(n)
        for forms, w in terms.all_terms.values():
            fields_hit[self._documents_with(self._all_docs, forms)] += w
        all_total = sum(self._idf(0) if t not in terms.all_terms else terms.all_terms[t][1] for t in terms.tokens)
        return HeaderScores(
            who=who_hit / who_total if who_total else np.zeros(n),
            who_miss=((who_hit == 0) & (who_total > 0)).astype(np.float64),
            fields=fields_hit / all_total if all_total else np.zeros(n),
            date=self.date_fit(dates),
        )

    def accounted(self, terms: QuestionTerms, tokens: Sequence[str], doc_positions: np.ndarray) -> np.ndarray:
        """For each of the given documents (positions) and each of the question's tokens, whether
        the document's header accounts for it."""
        out = np.zeros((len(doc_positions), len(tokens)), dtype=bool)
        for j, t in enumerate(tokens):
            entry = terms.all_terms.get(t)
            if entry is not None:
                out[:, j] = np.isin(doc_positions, self._documents_with(self._all_docs, entry[0]))
        return out

    def date_fit(self, dates: Sequence[DateMention]) -> np.ndarray:
        """`date_fit` for every document at once."""
        if not dates:
            return np.zeros(self.size)
        fits = np.zeros(self.size, dtype=bool)
        for d in dates:
            ok = np.ones(self.size, dtype=bool)
            for wanted, have in ((d.year, self._years), (d.month, self._months), (d.day, self._days)):
                if wanted is not None:
                    ok &= have == wanted
            fits |= ok
        return np.where(fits, 1.0, -1.0)

    def match(self, doc_id: str, terms: QuestionTerms, dates: Sequence[DateMention]) -> DocumentMatch:
        who_tokens = self.who[doc_id]
        all_tokens = self.fields[doc_id]
        who_total = sum(w for _, w in terms.who_terms.values())
        who_hit = sum(w for forms, w in terms.who_terms.values() if any(f in who_tokens for f in forms))
        matched = frozenset(t for t, (forms, _) in terms.all_terms.items() if any(f in all_tokens for f in forms))
        all_total = sum(self._idf(0) if t not in terms.all_terms else terms.all_terms[t][1] for t in terms.tokens)
        fields_hit = sum(terms.all_terms[t][1] for t in matched)
        return DocumentMatch(
            who=who_hit / who_total if who_total else 0.0,
            who_miss=1.0 if who_total and not who_hit else 0.0,
            fields=fields_hit / all_total if all_total else 0.0,
            date=date_fit(self.documents[doc_id], dates),
            matched=matched,
        )


@dataclass(frozen=True)
class QuestionTerms:
    tokens: list[str]
    who_terms: dict[str, tuple[list[str], float]]
    all_terms: dict[str, tuple[list[str], float]]
    who_phrases: tuple[str, ...] = ()
    """The question's own words for the speakers it names ("Albania", "President Yoon")."""


def date_fit(doc: Document, dates: Sequence[DateMention]) -> float:
    """+1 if any named date fits the document's date, -1 if the question names dates and none fits.

    A named date may be an event the statement mentions rather than its own date, so this is a
    signal for the ranker, never a filter.
    """
    if not dates:
        return 0.0
    for d in dates:
        if d.year is not None and d.year != doc.date.year:
            continue
        if d.month is not None and d.month != doc.date.month:
            continue
        if d.day is not None and d.day != doc.date.day:
            continue
        return 1.0
    return -1.0


class Vocabulary:
    """A set of tokens that also answers "is some form of this name here?" ("Western" / "West")."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self.tokens = frozenset(tokens)
        self._sorted = sorted(self.tokens)

    def forms(self, token: str, min_stem: int = MIN_STEM) -> list[str]:
        """The tokens here that name what `token` names: itself, or a name and its adjective."""
        found = [token] if token in self.tokens else []
        if "_" in token or len(token) < min_stem:
            return found
        start = bisect.bisect_left(self._sorted, token[:min_stem])
        for other in self._sorted[start:]:
            if not other.startswith(token[:min_stem]):
                break
            if other != token and same_name(token, other, min_stem):
                found.append(other)
        return found

    def has_form(self, token: str, min_stem: int = 4) -> bool:
        return bool(self.forms(token, min_stem))
