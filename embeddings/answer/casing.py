"""Names written in lower case, as people type in a chat, given back their capitals.

The question reader finds who a question is about, where it was said and which part is the
topic by the names in it, and a name is written with capitals: "what did Japan say about ..." names a
speaker, "what did japan say" reads as words. In a Discord channel people type "and brazil?" and
"what did mottley say about debt", so before a question is read its names are written as the
statements' headers and the alias list write them. Only names the corpus knows are touched, never
a word that is also an everyday word ("us", "who", "general", "president"), and never a name the
member capitalised already.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import resources

from embeddings.answer.headers import capitals, misspelt_countries, states_named
from embeddings.corpus.documents import Document


def _title_words() -> dict[str, frozenset[str]]:
    sections: dict[str, set[str]] = {}
    current = sections.setdefault("", set())
    for line in resources.files("embeddings.data").joinpath("title_words.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            current = sections.setdefault(line.strip("[] "), set())
        elif not line.startswith("#"):
            current.update(line.split())
    return {name: frozenset(words) for name, words in sections.items()}


_SECTIONS = _title_words()
TITLES = _SECTIONS["titles"]
"""Titles and offices: a run of header words with one in it ("Prime Minister") is not a name."""
GENERIC = TITLES | _SECTIONS["words"]
"""Words of headers that are not names on their own ("general", "united")."""
_RUN = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:(?:of|the|and|for|de|al)\s+)*[A-Z][\w'’.-]*)*")
_OF = re.compile(r"\s+of\s+(?:the\s+)?")
MIN_NAME = 3
SAMPLE_DOCUMENTS = 400
"""Statements whose text shows which words are everyday words: enough to meet every common word,
few enough to read in a blink at any corpus size."""
_LOWER_WORD = re.compile(r"(?<![\w'’-])[a-z][a-z'’-]*(?![\w'’-])")


def everyday_words(documents: Iterable[Document], sample: int = SAMPLE_DOCUMENTS) -> frozenset[str]:
    """Words the statements write in lower case somewhere ("made", "youth", "store"): a header's
    word that is also one of them is not restored, so "what made them" stays as typed."""
    words: set[str] = set()
    for n, doc in enumerate(documents):
        if n >= sample:
            break
        words.update(_LOWER_WORD.findall(doc.text))
    return frozenset(words)


def header_names(documents: Iterable[Document], aliases: Iterable[str] = ()) -> tuple[set[str], frozenset[str]]:
    """The names the corpus writes in its headers (speakers, countries, venues) and the alias list;
    and of them the ones that are names whatever their words: the alias list's, a country in
    brackets ("(United Kingdom)") and what follows "Government of"."""
    names: set[str] = set()
    strong: set[str] = set()
    for doc in documents:
        for field in (doc.speaker, doc.organisation, doc.venue):
            for run in _RUN.findall(field):
                names.update(_names_in_run(run))
        header = f"{doc.speaker} {doc.organisation}"
        strong.update(states_named(header))
        strong.update(misspelt_countries(header))
    # "how did baku present it": a capital stands for its state as a speaker (embeddings/data/capitals.toml)
    stated = {s.casefold() for s in strong}
    strong.update(c for c, state in capitals().items() if state.casefold() in stated)
    listed = {a for a in aliases if len(a) >= MIN_NAME or (len(a) > 1 and a.isupper())}  # "UN", "EU"
    names |= listed | strong
    return names, frozenset(listed | strong)


def _names_in_run(run: str) -> list[str]:
    """ "Permanent Mission of Japan" gives "Japan"; "Mia Amor Mottley" gives itself and "Mottley";
    "United Kingdom" gives itself; "Prime Minister" gives nothing."""
    whole = run.split()
    found = [run] if len(whole) > 1 and not TITLES & {w.casefold() for w in whole} else []
    for part in [run, *[run[m.end() :] for m in _OF.finditer(run)]]:
        words = part.split()
        while words and words[0].casefold().strip(".,") in GENERIC:
            words = words[1:]
        while words and words[-1].casefold().strip(".,") in GENERIC:
            words = words[:-1]  # "OSCE Permanent Council" gives "OSCE"
        if not words:
            continue
        name = " ".join(words)
        if len(words) > 1 or len(name) >= MIN_NAME:
            found.append(name)
        if len(words) > 1 and " of " not in f" {name} " and words[-1].casefold() not in GENERIC:
            found.append(words[-1])  # a surname: "what did mottley say"
    return [n for n in found if n.casefold() not in GENERIC and len(n) >= MIN_NAME]


class Casing:
    """Names restored to their capitals in a question typed in lower case."""

    def __init__(
        self, names: Iterable[str], everyday: frozenset[str] = frozenset(), strong: frozenset[str] = frozenset()
    ) -> None:
        """`strong`: names that are names whatever their words (countries, the alias list's)."""
        forms: dict[str, str] = {}
        for name in sorted(set(names)):
            key = name.casefold()
            if key in everyday or key in GENERIC or not any(c.isupper() for c in name):
                continue
            if name not in strong and all(w in everyday or w in GENERIC for w in key.split()):
                continue  # "Development Cooperation" in a minister's title is not a name
            forms.setdefault(key, name)
        self._forms = forms
        alternatives = "|".join(re.escape(k) for k in sorted(forms, key=len, reverse=True))
        self._pattern = re.compile(rf"(?<![\w'’])(?:{alternatives})(?![\w])", re.IGNORECASE) if forms else None

    def apply(self, text: str) -> str:
        """`text` with each known name typed all in lower case written as the corpus writes it."""
        if self._pattern is None:
            return text

        def restore(match: re.Match[str]) -> str:
            typed = match.group(0)
            return self._forms.get(typed.casefold(), typed) if typed.islower() else typed

        return self._pattern.sub(restore, text)
