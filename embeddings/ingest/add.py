"""A statement from the file or link a user has: read it, clean it, propose its header, and save it
as an ordinary corpus file once confirmed.

`prepare` writes nothing; `save` writes one file, atomically, after checking that the result parses
as a statement and is not already in the corpus. So a refusal at any step leaves `corpus/` as it was.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from embeddings.corpus.documents import (
    CORPUS_SUFFIX,
    DOC_ID_RE,
    KNOWN_FIELDS,
    MAX_STATEMENT_BYTES,
    REQUIRED_FIELDS,
    CorpusIssue,
    date_problem,
    load_corpus,
    parse_document,
    without_controls,
)
from embeddings.errors import os_reason
from embeddings.ingest.cleaning import Cleaning, clean_pages
from embeddings.ingest.errors import DuplicateStatementError, IngestError
from embeddings.ingest.fetch import Fetched, fetch
from embeddings.ingest.metadata import Detected, detect, pdf_date
from embeddings.ingest.pdf import read_pdf

PREVIEW_MIN_CHARS = 80
ADDABLE_SUFFIXES = (".pdf", ".html", ".htm", ".txt")
FIELD_ORDER = (
    "id",
    "title",
    "speaker",
    "organisation",
    "venue",
    "date",
    "kind",
    "symbol",
    "source",
    "checksum",
    "note",
)
FLAG_FOR = {"date": "--date YYYY-MM-DD", "title": "--title", "speaker": "--speaker", "venue": "--venue"}


@dataclass
class Draft:
    """A statement ready to be confirmed: its header fields, its text, and how they were found."""

    origin: str
    fields: dict[str, str]
    text: str
    inferred: dict[str, str] = field(default_factory=dict)
    cleaning: Cleaning | None = None

    @property
    def missing(self) -> list[str]:
        return [name for name in REQUIRED_FIELDS if not self.fields.get(name, "").strip()]

    def with_fields(self, overrides: Mapping[str, str]) -> Draft:
        """The draft with fields the user set; a field they set is no longer 'inferred'."""
        fields = dict(self.fields)
        inferred = dict(self.inferred)
        for name, value in overrides.items():
            if value is None or not str(value).strip():
                continue
            if name not in KNOWN_FIELDS - {"checksum", "source"} or name == "note":
                raise IngestError(f"{name} is not a field that can be set")
            fields[name] = " ".join(without_controls(str(value)).split())
            inferred.pop(name, None)
        return replace(self, fields=fields, inferred=inferred)

    def render(self) -> str:
        """The corpus file: header, then the text exactly as cleaned."""
        fields = dict(self.fields)
        notes = [
            f"{name} {how}" if how.startswith("from ") else f"{name}: {how}"
            for name, how in sorted(self.inferred.items())
        ]
        if notes:
            fields["note"] = "; ".join(
                filter(None, [fields.get("note", ""), "Added by verbatim add: " + "; ".join(notes)])
            )
        lines = ["---"] + [f"{name}: {fields[name]}" for name in FIELD_ORDER if fields.get(name)] + ["---"]
        return "\n".join(lines) + "\n" + self.text

    def preview(self, paragraphs: int = 3, width: int = 300) -> list[str]:
        """The first paragraphs of the body: those of a sentence's length, since a title block (a
        symbol, a date, "ENGLISH only") is already shown as the header fields."""
        every = [" ".join(p.split()) for p in self.text.split("\n\n") if p.strip()]
        body = [p for p in every if len(p) >= PREVIEW_MIN_CHARS] or every
        return [p[:width] + ("…" if len(p) > width else "") for p in body[:paragraphs]]

    def check_complete(self) -> None:
        """Raise, naming the flags to give, when a required header field is missing."""
        if self.missing:
            flags = ", ".join(FLAG_FOR.get(m, f"--{m}") for m in self.missing)
            raise IngestError(f"{self.origin}: could not find its {', '.join(self.missing)}; give {flags}")


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def prepare(
    source: str,
    overrides: Mapping[str, str] | None = None,
    *,
    allow_private: bool = False,
    fetcher: Callable[[str], Fetched] | None = None,
    data: bytes | None = None,
    name: str = "",
) -> Draft:
    """Read a file path or an http(s) link (or `data` already in hand, e.g. a Discord attachment
    called `name`) into a Draft. Raises IngestError with one clear line when it cannot."""
    scheme = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", source)
    if data is None and scheme and not source.startswith(("http://", "https://")) and not Path(source).exists():
        raise IngestError(f"{source} is not an http(s) link (only http and https are fetched)")
    if data is None and source.startswith(("http://", "https://")):
        got = (fetcher or (lambda url: fetch(url, allow_private=allow_private)))(source)
        data, kind, origin = got.data, got.content_type, got.url
        recorded = origin
    else:
        recorded = source or name
        if data is None:
            path = Path(source)
            if not path.is_file():
                if path.is_symlink():
                    raise IngestError(f"{source} is a link to a file that does not exist")
                raise IngestError(f"{source} is not a file or an http(s) link")
            try:
                size = path.stat().st_size
                if size == 0:
                    raise IngestError(f"{source} is empty (0 bytes)")
                if size > MAX_STATEMENT_BYTES:
                    limit = MAX_STATEMENT_BYTES / 1e6
                    raise IngestError(f"{source} is {size / 1e6:.1f} MB, over the {limit:.0f} MB limit")
                data = path.read_bytes()
            except OSError as exc:
                raise IngestError(f"{source} cannot be read: {os_reason(exc)}") from exc
            name = name or path.name
            # The header names the file, not where it sat on this machine: citations and the
            # bot show `source:` to everyone.
            recorded = f"file {path.name}"
        elif len(data) > MAX_STATEMENT_BYTES:
            raise IngestError(
                f"{name or source} is {len(data) / 1e6:.1f} MB, over the {MAX_STATEMENT_BYTES / 1e6:.0f} MB limit"
            )
        origin = source or name
        kind = _kind_of(name or source, data, origin)
    draft = _draft(origin, kind, data, name)
    draft.fields["source"] = recorded
    return draft.with_fields(overrides or {})


def _kind_of(name: str, data: bytes, origin: str) -> str:
    if data.startswith(b"%PDF"):
        return "application/pdf"
    lower = name.lower()
    if lower.endswith((".html", ".htm")) or data.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if lower.endswith(".txt"):
        return "text/plain"
    raise IngestError(f"{origin} is not a PDF, an HTML page or a .txt file")


def _draft(origin: str, kind: str, data: bytes, name: str = "") -> Draft:
    checksum = sha256(data)
    if kind == "application/pdf":
        pdf = read_pdf(data, origin)
        text, cleaning = clean_pages(pdf.pages)
        found = detect(text.split("\n\n"), title=pdf.title, date=pdf_date(pdf.created))
    elif kind in ("text/html", "application/xhtml+xml"):
        from embeddings.ingest.html import read_html

        page = read_html(data, origin if origin.startswith("http") else "", label=origin)
        text, cleaning = "\n\n".join(page.paragraphs) + "\n", None
        found = detect(page.paragraphs, title=page.title, date=page.date)
        if page.site:
            found.propose("venue", page.site, "from the web site's name")
        if page.author:
            found.propose("speaker", page.author, "from the page's author field")
    else:
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError:
            raise IngestError(f"{origin} is not UTF-8 text") from None
        if raw.startswith("---"):
            raise IngestError(f"{origin} already has a corpus header: copy it into corpus/ as it is")
        text, cleaning = raw.replace("\r\n", "\n").strip("\n") + "\n", None
        found = detect(text.splitlines())
    text = without_controls(text)
    found.fields.update((k, " ".join(without_controls(v).split())) for k, v in found.fields.items())
    if not text.strip():
        raise IngestError(f"{origin} holds no text")
    _title_from_name(found, name or origin)
    found.fields["source"] = origin
    found.fields["checksum"] = checksum
    return Draft(origin, found.fields, text, found.inferred, cleaning)


def _title_from_name(found: Detected, origin: str) -> None:
    stem = Path(origin.split("?")[0].rstrip("/")).stem
    title = " ".join(re.sub(r"[_-]+", " ", stem).split())
    if title:
        found.propose("title", title, "from the file or link's name")


MAX_SLUG = 60


def document_id(draft: Draft) -> str:
    """`2024-11-08_fsc-pc-del-51-24`: date then symbol (or title), readable in citations."""
    wanted = draft.fields.get("id", "")
    if wanted:
        if not DOC_ID_RE.match(wanted):
            raise IngestError(f"id {wanted!r} may hold only letters, digits, '.', '_' and '-'")
        return wanted
    basis = draft.fields.get("symbol") or draft.fields.get("title", "statement")
    slug = re.sub(r"[^a-z0-9]+", "-", basis.lower()).strip("-")
    if len(slug) > MAX_SLUG:
        cut = slug[: MAX_SLUG + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else slug[:MAX_SLUG]  # whole words: "...-of-kenya", not "...-on-th"
    slug = slug.strip("-") or "statement"
    return f"{draft.fields.get('date', 'undated')}_{slug}"


def save(draft: Draft, corpus_dir: Path) -> Path:
    """Write the draft into the corpus as `<id>.txt`; refuse a duplicate or an incomplete header."""
    draft.check_complete()
    problem = date_problem(draft.fields["date"])
    if problem:
        raise IngestError(problem)
    refuse_duplicates(draft, corpus_dir)
    doc_id = document_id(draft)
    target = corpus_dir / f"{doc_id}{CORPUS_SUFFIX}"
    suffix = 2
    while target.exists():
        target = corpus_dir / f"{doc_id}-{suffix}{CORPUS_SUFFIX}"
        suffix += 1
    content = draft.render().encode("utf-8")
    parsed = parse_document(content, target.name, default_id=target.stem)
    if isinstance(parsed, CorpusIssue):
        raise IngestError(f"{draft.origin}: the statement would not be readable ({parsed.reason})")
    tmp = corpus_dir / f".{target.name}.{secrets.token_hex(3)}.tmp"
    try:
        corpus_dir.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(content)
        os.replace(tmp, target)
    except OSError as exc:
        raise IngestError(f"{draft.origin}: cannot write {target.name} in {corpus_dir}: {os_reason(exc)}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


def refuse_duplicates(draft: Draft, corpus_dir: Path) -> None:
    """Raise DuplicateStatementError when the corpus holds this original (same checksum) or a
    statement with the same symbol, naming its file. Called before a draft is shown, so nobody
    reviews a statement that cannot be saved, and again by `save`."""
    if not corpus_dir.is_dir():
        return
    symbol = draft.fields.get("symbol", "").casefold()
    corpus = load_corpus(corpus_dir)
    wanted = draft.fields.get("id", "")
    if wanted and wanted in corpus.documents:
        # Saved under another file name it would still claim this id, and the index would skip it.
        raise DuplicateStatementError(
            f"id {wanted} is already used by {corpus.documents[wanted].path}; give another --id (or none)"
        )
    for doc in corpus.documents.values():
        if doc.checksum and doc.checksum == draft.fields.get("checksum"):
            raise DuplicateStatementError(f"{draft.origin} is already in the corpus as {doc.path} (same original file)")
        if symbol and doc.symbol.casefold() == symbol:
            raise DuplicateStatementError(
                f"{draft.origin} has symbol {draft.fields['symbol']}, already in the corpus as {doc.path}"
            )


def addable_files(folder: Path) -> list[Path]:
    """The PDFs, web pages and text files in a folder (not its subfolders), sorted."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in ADDABLE_SUFFIXES and not p.name.startswith(".")
    )
