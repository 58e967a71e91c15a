"""Keyword side of the search: alias-aware tokens and a bm25s index over chunks.

Dense vectors miss exact strings (document symbols, resolution numbers, rare names); BM25 finds
them. Both sides of the match go through the same tokenizer, so an alias group from
``aliases.toml`` makes "DPRK" and "North Korea" the same word.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.errors import CorpusError
from embeddings.progress import over

log = logging.getLogger(__name__)

_FOLD = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})
TOKENIZER_VERSION = "2"
"""Raise when the folding, splitting or stemming changes: keyword indexes built before are rebuilt."""
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")


def fold(text: str) -> str:
    """Curly quotes and dashes straightened, accents dropped: "Côte d’Ivoire" and "Cote d'Ivoire"
    are one name to a reader, so they are one to the keywords (and "Tiémoko" stays one word)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class Aliases:
    """Alias groups compiled into one regex; each match becomes the group's canonical token."""

    pattern: re.Pattern[str] | None
    canonical: dict[str, str]
    """Lower-cased name (or the exact name for all-capital acronyms) to canonical token."""
    names: tuple[str, ...] = ()
    """Every name as the list writes it (folded), longest first."""

    @classmethod
    def empty(cls) -> Aliases:
        return cls(None, {})

    @classmethod
    def from_groups(cls, groups: Sequence[Sequence[str]]) -> Aliases:
        canonical: dict[str, str] = {}
        names: list[str] = []
        for group in groups:
            if not group:
                continue
            token = "_".join(_TOKEN_RE.findall(fold(group[0]).lower().replace(".", ""))) or "alias"
            for name in group:
                folded = fold(name)
                key = folded if _is_acronym(folded) else folded.lower()
                canonical[key] = token
                names.append(folded)
        if not names:
            return cls.empty()
        names.sort(key=len, reverse=True)
        parts = []
        for name in names:
            body = re.escape(name)
            # All-capital acronyms match only in capitals: "US" is a country, "us" is a pronoun.
            parts.append(body if _is_acronym(name) else f"(?i:{body})")
        pattern = re.compile(r"(?<![\w.])(?:" + "|".join(parts) + r")(?![\w])")
        return cls(pattern, canonical, tuple(names))

    def apply(self, text: str, keep_words: bool = True) -> str:
        """Each name as its group's token; with `keep_words`, a several-word name keeps its words."""
        if self.pattern is None:
            return text

        def replace(match: re.Match[str]) -> str:
            name = match.group(0)
            token = self.canonical.get(name) or self.canonical.get(name.lower())
            # The group's token makes every name of the group match. The words of a several-word name
            # are kept too, so that "expert panel" still meets "Panel of Experts" word by word; a
            # one-word name ("Moscow") is only its group, or a question saying "Moscow" would favour
            # the one statement that uses the city's name over those that say "Russia".
            if not token:
                return name
            return f" {token} {name} " if keep_words and len(name.split()) > 1 else f" {token} "

        return self.pattern.sub(replace, text)


def _is_acronym(name: str) -> bool:
    letters = [c for c in name if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def load_alias_groups(path: Path) -> list[list[str]]:
    """Read ``[[group]] names = [...]`` tables; a missing file simply means no groups."""
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: cannot read alias list: {exc}") from exc
    groups: list[list[str]] = []
    for number, group in enumerate(data.get("group", []), start=1):
        names = group.get("names") if isinstance(group, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            raise CorpusError(f"{path}: group {number} needs 'names', a list of non-empty strings")
        groups.append([n.strip() for n in names])
    return groups


def builtin_alias_groups() -> list[list[str]]:
    """International bodies and treaties (EU, NPT, IAEA ...), known to every corpus."""
    with resources.as_file(resources.files("embeddings.data").joinpath("aliases.toml")) as path:
        return load_alias_groups(path)


def load_aliases(path: Path) -> Aliases:
    """The built-in groups and the corpus's own; a name in the corpus's list wins."""
    return Aliases.from_groups([*builtin_alias_groups(), *load_alias_groups(path)])


@cache
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    extra = resources.files("embeddings.data").joinpath("stopwords.txt").read_text(encoding="utf-8")
    words = {w.strip() for w in extra.splitlines() if w.strip() and not w.startswith("#")}
    return frozenset(STOPWORDS_EN) | words


@cache
def _stemmer() -> object:
    import Stemmer

    return Stemmer.Stemmer("english")


class Tokenizer:
    """Fold, apply aliases, split, drop stop words, stem (Snowball); alias tokens are kept whole."""

    def __init__(self, aliases: Aliases) -> None:
        self.aliases = aliases
        self._stop = stopwords()
        self.group_tokens = frozenset(aliases.canonical.values())
        """The token of every alias group, one-word groups ("russia") included."""

    @cached_property
    def signature(self) -> str:
        """Changes whenever the tokens of some text could: a keyword index built with another
        signature is not used."""
        digest = hashlib.sha256(f"{TOKENIZER_VERSION}\n".encode())
        for name, token in sorted(self.aliases.canonical.items()):
            digest.update(f"{name}\t{token}\n".encode())
        digest.update("\n".join(sorted(self._stop)).encode())
        return digest.hexdigest()[:32]

    def __call__(self, text: str) -> list[str]:
        return self._tokens(text, keep_words=True)

    def names(self, text: str) -> list[str]:
        """The tokens of a name as a whole: a several-word name of a group is its group's token
        alone, so that "Sudan" is not found in "South Sudan", nor "Guinea" in "Guinea-Bissau"."""
        return self._tokens(text, keep_words=False)

    def _tokens(self, text: str, keep_words: bool) -> list[str]:
        folded = self.aliases.apply(fold(text), keep_words).lower()
        words = [w for w in _TOKEN_RE.findall(folded.replace("'s ", " ")) if w not in self._stop]
        stem = _stemmer().stemWords  # type: ignore[attr-defined]
        return [w if "_" in w else s for w, s in zip(words, stem(words), strict=True)]


class KeywordIndex:
    """BM25 over chunk texts, built with the index and memory-mapped from it at open; rebuilt in
    memory only when the tokenizer (the alias list) changed since the build."""

    def __init__(self, bm25: Any, tokenizer: Tokenizer, sentences: SentenceTokens | None = None) -> None:
        self._bm25: Any = bm25
        self.tokenizer = tokenizer
        self.sentences = sentences
        """Each sentence's tokens in this index's vocabulary, when the index was given the sentences."""
        self.size = int(self._bm25.scores["num_docs"])
        self._vocab: dict[str, int] = self._bm25.vocab_dict
        frequencies = np.diff(np.asarray(self._bm25.scores["indptr"]))
        # bm25s keeps a column per token in its score matrix, except for an empty token it may add.
        self.doc_freq: dict[str, int] = {t: int(frequencies[i]) for t, i in self._vocab.items() if i < len(frequencies)}

    @classmethod
    def build(
        cls, texts: Sequence[str], tokenizer: Tokenizer, sentences: Sequence[str] = (), *, progress: bool = False
    ) -> KeywordIndex:
        """BM25 over the chunk texts, and the tokens of the sentences (the rows of the index's
        sentence table) in the same vocabulary."""
        bm25 = _bm25s().BM25()
        tokens = [tokenizer(t) or [""] for t in over(texts, len(texts), "keywords", "chunk", enabled=progress)]
        bm25.index(tokens, show_progress=False)
        return cls(bm25, tokenizer, SentenceTokens.build(sentences, tokenizer, bm25.vocab_dict, progress=progress))

    def save(self, folder: Path) -> list[str]:
        """Write into `folder`; return the names of the files written, for the manifest."""
        folder.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(folder), show_progress=False)
        if self.sentences is not None:
            self.sentences.save(folder)
        return sorted(f.name for f in folder.iterdir())

    @classmethod
    def load(cls, folder: Path, tokenizer: Tokenizer) -> KeywordIndex:
        bm25 = _bm25s().BM25.load(str(folder), mmap=True, show_progress=False)
        sentences = SentenceTokens.load(folder) if (folder / SentenceTokens.IDS).exists() else None
        return cls(bm25, tokenizer, sentences)

    @property
    def vocab(self) -> dict[str, int]:
        """Token to its id (its column in the score matrix; `SentenceTokens` uses the same ids)."""
        return self._vocab

    def chunks_with(self, token: str) -> np.ndarray:
        """Ids of the chunks that contain the token (empty when none does)."""
        column = self._vocab.get(token)
        scores = self._bm25.scores
        if column is None or column + 1 >= len(scores["indptr"]):
            return np.zeros(0, dtype=np.int64)
        return np.asarray(scores["indices"][scores["indptr"][column] : scores["indptr"][column + 1]])

    def known(self, tokens: Sequence[str]) -> list[str]:
        return [t for t in tokens if t in self._vocab]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk; zeros when no query word is in the corpus."""
        tokens = self.known(self.tokenizer(query))
        if not tokens or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def idf(self, token: str) -> float:
        df = self.doc_freq.get(token, 0)
        return float(np.log(1.0 + (self.size - df + 0.5) / (df + 0.5)))


class SentenceTokens:
    """The distinct keyword tokens of every sentence, as ids of the keyword index's vocabulary, in
    one flat array with offsets (`ids[offsets[i]:offsets[i + 1]]` for sentence i, sorted).

    Made with the keyword index (the same tokenizer and vocabulary) and stored beside it, so that a
    question measures which of its words each candidate holds with array operations instead of
    tokenising hundreds of sentences."""

    IDS = "sentence_tokens.npy"
    OFFSETS = "sentence_token_offsets.npy"

    def __init__(self, ids: np.ndarray, offsets: np.ndarray) -> None:
        self.ids = ids
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @classmethod
    def build(
        cls, texts: Sequence[str], tokenizer: Tokenizer, vocab: dict[str, int], *, progress: bool = False
    ) -> SentenceTokens:
        shown = over(texts, len(texts), "sentence words", "sentence", enabled=progress)
        rows = [sorted({vocab[t] for t in tokenizer(text) if t in vocab}) for text in shown]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(r) for r in rows])
        ids = np.fromiter((i for r in rows for i in r), dtype=np.int32, count=int(offsets[-1]))
        return cls(ids, offsets)

    def save(self, folder: Path) -> list[str]:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / self.IDS, self.ids)
        np.save(folder / self.OFFSETS, self.offsets)
        return [self.IDS, self.OFFSETS]

    @classmethod
    def load(cls, folder: Path) -> SentenceTokens:
        return cls(
            np.asarray(np.load(folder / cls.IDS, mmap_mode="r")),
            np.asarray(np.load(folder / cls.OFFSETS, mmap_mode="r")),
        )

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The token ids of these sentences in one array, and for each id the position in `rows` of
        the sentence it came from."""
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        lengths = ends - starts
        owner = np.repeat(np.arange(len(rows)), lengths)
        # positions: starts[owner] + rank within its sentence
        within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return self.ids[np.repeat(starts, lengths) + within], owner


def _bm25s() -> Any:
    import bm25s

    # bm25s sets its logger to DEBUG when imported; questions should not print index chatter.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s
