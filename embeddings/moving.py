"""Moving a whole installation, statements and members' state, between machines and between the
embedded store and PostgreSQL (`verbatim export`, `verbatim import`).

An import is all or nothing: the whole file is checked first (every statement loads as one, every
row has its table's columns, no path leaves the corpus folder), so a bad export changes nothing
and is named with the reason; a statement file already here with other contents is reported and
kept, never overwritten, and a row already in the store is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings.corpus.documents import CorpusIssue, corpus_files, parse_document
from embeddings.engine import ALIASES_FILE
from embeddings.errors import VerbatimError
from embeddings.state import TABLES, Store

EXPORT_FORMAT = "verbatim-installation-1"


@dataclass(frozen=True)
class Imported:
    """What `verbatim import` did."""

    written: list[str]
    """Statement files written into the corpus folder."""
    unchanged: int
    """Statement files already here, byte for byte."""
    different: list[str]
    """Statement files here with other contents: left as they are, for a person to compare."""
    rows: dict[str, int]
    """Rows added per table (a row already here is kept)."""


def export_installation(root: Path, store: Store) -> dict[str, Any]:
    """Every file the corpus loader reads (and the alias list), byte for byte, and every state row."""
    files = [*corpus_files(root), root / ALIASES_FILE]
    statements = [
        {"path": p.relative_to(root).as_posix(), "text": p.read_bytes().decode("utf-8", "surrogateescape")}
        for p in files
        if p.is_file()
    ]
    return {"format": EXPORT_FORMAT, "statements": statements, "state": store.dump()}


def _checked(data: object, root: Path) -> tuple[list[tuple[str, bytes]], dict[str, list[list[Any]]]]:
    """The export's files and rows, or a VerbatimError naming the first thing wrong with it."""
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise VerbatimError(f"not a Verbatim export (its format is not {EXPORT_FORMAT!r})")
    items, state = data.get("statements", []), data.get("state", {})
    if not isinstance(items, list) or not isinstance(state, dict):
        raise VerbatimError("not a valid export: 'statements' must be a list and 'state' an object")
    files = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not isinstance(item.get("text"), str):
            raise VerbatimError(f"not a valid export: statement {n} needs a 'path' and a 'text'")
        rel = item["path"]
        target = (root / rel).resolve()
        if Path(rel).is_absolute() or not target.is_relative_to(root) or target == root:
            raise VerbatimError(f"the export names a file outside the corpus folder: {rel!r}")
        raw = item["text"].encode("utf-8", "surrogateescape")
        parsed = None if rel == ALIASES_FILE else parse_document(raw, rel, Path(rel).stem)
        if isinstance(parsed, CorpusIssue):
            raise VerbatimError(f"the export's statement {parsed}: nothing was imported")
        files.append((rel, raw))
    rows: dict[str, list[list[Any]]] = {}
    for table, table_rows in state.items():
        if table not in TABLES or not isinstance(table_rows, list):
            raise VerbatimError(f"not a valid export: unknown table or rows {table!r}")
        for n, row in enumerate(table_rows, 1):
            if not isinstance(row, list) or len(row) != len(TABLES[table]):
                raise VerbatimError(
                    f"not a valid export: row {n} of {table} has no list of its {len(TABLES[table])} columns"
                )
        rows[table] = table_rows
    return files, rows


def import_installation(data: object, corpus_dir: Path, store: Store) -> Imported:
    """An export added here, all or nothing (see the module's docstring)."""
    root = corpus_dir.resolve()
    files, rows = _checked(data, root)
    written: list[Path] = []
    same, differ = 0, []
    try:
        for rel, raw in files:
            target = root / rel
            if target.exists():
                if target.read_bytes() == raw:
                    same += 1
                else:
                    differ.append(rel)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(raw)
            written.append(target)
        added = store.load(rows)
    except BaseException:
        for path in written:  # the rows were refused: the files go too, nothing half-imported
            path.unlink(missing_ok=True)
        raise
    return Imported([p.relative_to(root).as_posix() for p in written], same, differ, added)
