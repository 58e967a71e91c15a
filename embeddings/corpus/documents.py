"""Reading statements from the corpus folder.

A statement is a UTF-8 text file with a small front-matter header (``key: value`` lines between two
``---`` lines) above the text. Everything after the closing ``---`` line is the document text, kept
byte for byte: quotes are sliced from it by offsets, so nothing here may normalise it.

A broken file never stops the others from loading: each problem is collected as a
:class:`CorpusIssue` naming the file, the line and the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from embeddings.errors import CorpusError

log = logging.getLogger(__name__)

REQUIRED_FIELDS = ("title", "speaker", "venue", "date")
OPTIONAL_FIELDS = ("id", "organisation", "source", "symbol", "note", "kind", "checksum")
KNOWN_FIELDS = frozenset(REQUIRED_FIELDS + OPTIONAL_FIELDS)
DOC_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_KEY_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:\s?(.*)$")
DELIMITER = "---"
CORPUS_SUFFIX = ".txt"
MAX_STATEMENT_BYTES = 10_000_000
"""A speech is tens of kilobytes and a long UN record a megabyte or two: a file over 10 MB is a
mistake (a whole archive in one file), refused with its size rather than indexed for minutes."""


@dataclass(frozen=True)
class CorpusIssue:
    """One reason a file was not indexed, precise enough to fix it without guessing."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}" if self.line else f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class Document:
    """A statement: its metadata and its exact text."""

    doc_id: str
    title: str
    speaker: str
    venue: str
    date: dt.date
    text: str
    path: str
    organisation: str = ""
    source: str = ""
    symbol: str = ""
    note: str = ""
    kind: str = ""
    checksum: str = ""
    """sha256 of the original file or page the text was taken from (`verbatim add` records it)."""
    body_offset: int = 0
    """Character offset of the text inside the file, so an editor can jump to a quote."""
    id_line: int = 1
    """The header line that sets the id (1 when the id is the file's name)."""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """Changes whenever anything a result shows changes: the text or any metadata field."""
        h = hashlib.sha256()
        for part in (
            self.doc_id,
            self.title,
            self.speaker,
            self.venue,
            self.date.isoformat(),
            self.organisation,
            self.source,
            self.symbol,
            self.note,
            self.kind,
            self.text,
        ):
            h.update(part.encode("utf-8"))
            h.update(b"\x00")
        return h.hexdigest()


class _Problem(Exception):
    """The first thing wrong with a file, carried up to `parse_document`, which returns it."""

    def __init__(self, issue: CorpusIssue) -> None:
        super().__init__(str(issue))
        self.issue = issue


def parse_document(raw: bytes, path: str, default_id: str) -> Document | CorpusIssue:
    """Parse one file's bytes; return the document or the first problem found."""
    try:
        content = _decoded(raw, path)
        lines = content.split("\n")
        fields, header_end, offset = _header(lines, path)
        date, doc_id = _checked(fields, lines, header_end, path, default_id)
        text = content[offset:] if offset <= len(content) else ""
        if not text.strip():
            raise _Problem(CorpusIssue(path, header_end + 1, "the statement has no text below the header"))
    except _Problem as problem:
        return problem.issue
    return Document(
        doc_id=doc_id,
        title=fields["title"],
        speaker=fields["speaker"],
        venue=fields["venue"],
        date=date,
        text=text,
        path=path,
        organisation=fields.get("organisation", ""),
        source=fields.get("source", ""),
        symbol=fields.get("symbol", ""),
        note=fields.get("note", ""),
        kind=fields.get("kind", ""),
        checksum=fields.get("checksum", ""),
        body_offset=offset,
        id_line=_line_of(lines, "id", header_end) if "id" in fields else 1,
    )


def _decoded(raw: bytes, path: str) -> str:
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        reason = f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        raise _Problem(CorpusIssue(path, bad_line, reason)) from None
    if content.startswith("\ufeff"):
        raise _Problem(CorpusIssue(path, 1, "starts with a byte-order mark; save the file as UTF-8 without BOM"))
    control = CONTROL_CHARACTERS.search(content)
    if control:
        line = content.count("\n", 0, control.start()) + 1
        reason = f"holds the control character U+{ord(control.group()):04X}, which a terminal would act on; remove it"
        raise _Problem(CorpusIssue(path, line, reason))
    return content


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
"""Characters no statement holds and a terminal obeys (an escape sequence can recolour or rewrite
the screen a quote is printed on): tab, line breaks and form feed are text, these are not."""


def without_controls(text: str) -> str:
    """Text taken from a PDF or page with any control character made a space, so it can be saved."""
    return CONTROL_CHARACTERS.sub(" ", text)


def _header(lines: list[str], path: str) -> tuple[dict[str, str], int, int]:
    """The header's fields, the line that closes it, and where the text starts (a character offset)."""
    if not lines or lines[0].rstrip("\r") != DELIMITER:
        raise _Problem(CorpusIssue(path, 1, f"missing header: the first line must be '{DELIMITER}'"))
    fields: dict[str, str] = {}
    offset = len(lines[0]) + 1
    for number, line in enumerate(lines[1:], start=2):
        offset += len(line) + 1
        stripped = line.rstrip("\r")
        if stripped == DELIMITER:
            return fields, number, offset
        if stripped.strip():
            key, value = _field(stripped, number, path, fields)
            fields[key] = value
    raise _Problem(CorpusIssue(path, len(lines), f"header is never closed: add a line '{DELIMITER}' after it"))


def _field(line: str, number: int, path: str, fields: dict[str, str]) -> tuple[str, str]:
    match = _KEY_RE.match(line)
    if match is None:
        raise _Problem(CorpusIssue(path, number, f"header line is not 'key: value': {line[:60]!r}"))
    key, value = match.group(1).lower(), match.group(2).strip()
    if key not in KNOWN_FIELDS:
        known = ", ".join(sorted(KNOWN_FIELDS))
        raise _Problem(CorpusIssue(path, number, f"unknown header field '{key}' (known fields: {known})"))
    if key in fields:
        raise _Problem(CorpusIssue(path, number, f"header field '{key}' appears twice"))
    if not value:
        raise _Problem(CorpusIssue(path, number, f"header field '{key}' is empty"))
    return key, value


def _checked(
    fields: dict[str, str], lines: list[str], header_end: int, path: str, default_id: str
) -> tuple[dt.date, str]:
    """The required fields are there, the date is a day written YYYY-MM-DD, the id is usable."""
    missing = [name for name in REQUIRED_FIELDS if name not in fields]
    if missing:
        raise _Problem(CorpusIssue(path, header_end, f"missing required field(s): {', '.join(missing)}"))
    problem = date_problem(fields["date"])
    if problem:
        raise _Problem(CorpusIssue(path, _line_of(lines, "date", header_end), problem))
    date = dt.date.fromisoformat(fields["date"])
    doc_id = fields.get("id", default_id)
    if not DOC_ID_RE.match(doc_id):
        line = _line_of(lines, "id", header_end) if "id" in fields else 1
        reason = f"document id {doc_id!r} must be letters, digits, '.', '_' or '-' (at most 128)"
        raise _Problem(CorpusIssue(path, line, reason))
    return date, doc_id


def _line_of(lines: list[str], key: str, limit: int) -> int:
    for number, line in enumerate(lines[:limit], start=1):
        if line.lower().startswith(key + ":") or line.lower().startswith(key + " "):
            return number
    return 1


@dataclass
class Corpus:
    """The valid documents of a folder, in a stable order, and what was wrong with the rest."""

    root: Path
    documents: dict[str, Document]
    issues: list[CorpusIssue]

    def get(self, doc_id: str) -> Document | None:
        return self.documents.get(doc_id)

    def __len__(self) -> int:
        return len(self.documents)

    def matching(self, query: str) -> list[Document]:
        """Documents whose title, speaker, date or id contain every word of the query, newest first:
        what a person types to pick a document, since nobody remembers ids."""
        words = query.casefold().split()
        return [d for hay, d in self._searchable if all(w in hay for w in words)]

    @cached_property
    def _searchable(self) -> list[tuple[str, Document]]:
        """Built once: autocomplete calls `matching` on every keystroke."""
        docs = sorted(self.documents.values(), key=lambda d: (d.date, d.doc_id), reverse=True)
        return [(f"{d.title} {d.speaker} {d.organisation} {d.date.isoformat()} {d.doc_id}".casefold(), d) for d in docs]

    def __iter__(self) -> Iterator[Document]:
        return iter(self.documents.values())


def date_problem(text: str) -> str:
    """Why `text` cannot be a header's date ("" when it can): one wording for a file's header,
    `verbatim add --date` and the bot's form."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return f"date {text!r} is not YYYY-MM-DD"
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return f"date {text!r} is not a day of the calendar"
    return ""


def corpus_files(root: Path) -> list[Path]:
    """Statement files below root, sorted so ids and order never depend on the file system.
    Links are listed too, so that one pointing outside can be reported rather than silently skipped."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):  # does not descend into linked folders
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found += [Path(dirpath) / f for f in filenames if f.endswith(CORPUS_SUFFIX) and not f.startswith(".")]
    return sorted(found)


def _link_problem(path: Path, root: Path) -> str:
    """Why a link in the corpus is not read: it leads outside the folder, to nothing, or round in a
    loop. The walk never enters a linked folder, so only a link itself can lead out: resolving every
    file cost half of reading thirty thousand statements, so only links are resolved."""
    if not path.is_symlink():
        return ""
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        return "is a link to a file that does not exist; not read"
    except (RuntimeError, OSError):  # a loop (RuntimeError before Python 3.13, ELOOP after)
        return "is a link that leads round in a loop; not read"
    return "" if target.is_relative_to(root.resolve()) else "is a link to a file outside the corpus folder; not read"


def _named_after_id(doc: Document) -> bool:
    return Path(doc.path).stem == doc.doc_id


def load_corpus(root: Path) -> Corpus:
    """Load every statement below root; a bad file is reported and skipped, never fatal."""
    if root.exists() and not root.is_dir():
        raise CorpusError(f"{root} is a file, not a folder: name the folder of statements (--corpus, VERBATIM_CORPUS)")
    if not root.is_dir():
        hint = ""
        if not root.is_absolute():
            hint = (
                f" in {Path.cwd()}: run verbatim from the project folder (the one holding corpus/), "
                "or name the folder with --corpus or VERBATIM_CORPUS"
            )
        raise CorpusError(f"corpus folder {root} does not exist{hint}")
    documents: dict[str, Document] = {}
    issues: list[CorpusIssue] = []
    for path in corpus_files(root):
        rel = str(path.relative_to(root))
        link = _link_problem(path, root)
        if link:
            issues.append(CorpusIssue(rel, 0, link))
            continue
        try:
            status = path.stat()
            if not stat.S_ISREG(status.st_mode):  # reading a named pipe would wait for ever
                issues.append(CorpusIssue(rel, 0, "is not a regular file (a pipe, socket or device); not read"))
                continue
            size = status.st_size
            if size > MAX_STATEMENT_BYTES:
                issues.append(
                    CorpusIssue(
                        rel,
                        0,
                        f"is {size / 1e6:.1f} MB, larger than a statement can be ({MAX_STATEMENT_BYTES / 1e6:.0f} MB); "
                        "split it into the statements it holds",
                    )
                )
                continue
            raw = path.read_bytes()
        except OSError as exc:
            issues.append(CorpusIssue(rel, 0, f"cannot be read: {exc.strerror or exc}"))
            continue
        parsed = parse_document(raw, rel, default_id=path.stem)
        if isinstance(parsed, CorpusIssue):
            issues.append(parsed)
            continue
        held = documents.get(parsed.doc_id)
        if held is not None:
            # The file named after the id keeps it: a copied header's `id:` line in another file is
            # the likelier mistake, and must not push an indexed statement out of the index.
            keep, drop = (parsed, held) if _named_after_id(parsed) and not _named_after_id(held) else (held, parsed)
            issues.append(
                CorpusIssue(
                    drop.path, drop.id_line, f"duplicate document id {drop.doc_id!r} (already used by {keep.path})"
                )
            )
            documents[keep.doc_id] = keep
            continue
        documents[parsed.doc_id] = parsed
    return Corpus(root=root, documents=documents, issues=issues)
