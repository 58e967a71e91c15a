"""Statements shared through the store (PostgreSQL) and a machine's corpus folder, kept in step.

Each machine keeps its own corpus folder, which people also edit by hand, so neither copy simply
wins. A three-way comparison decides, as version control does: the shared copy, this folder's
copy, and what this machine last agreed with the store (`shared-statements.json` in the index
folder). A file changed or added here is published; one deleted here is withdrawn; one changed or
withdrawn elsewhere is fetched or removed here; one changed on both sides since they last agreed is
left as it is here and named, for a person to settle. A file that would not load as a statement is
never published.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from embeddings.corpus.documents import CorpusIssue, corpus_files, parse_document
from embeddings.engine import ALIASES_FILE
from embeddings.state import Store

BASE_FILE = "shared-statements.json"


@dataclass
class Synced:
    fetched: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def changed_here(self) -> bool:
        return bool(self.fetched or self.removed)

    def lines(self) -> list[str]:
        """What happened, for the person running it: nothing happens to a file silently."""
        said = [
            ("fetched from the shared store", self.fetched),
            ("removed here (withdrawn on another machine)", self.removed),
            ("published to the shared store (new or changed here)", self.published),
            ("withdrawn from the shared store (deleted here)", self.withdrawn),
            ("changed here and in the shared store since they last agreed: kept as it is here, not published",
             self.conflicts),
            ("not published: it does not load as a statement", self.refused),
        ]  # fmt: skip
        return [f"{label}: {', '.join(paths)}" for label, paths in said if paths]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _local(root: Path) -> dict[str, bytes]:
    files = [*corpus_files(root), root / ALIASES_FILE]
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files if p.is_file()}


def _publishable(rel: str, data: bytes) -> bool:
    return rel == ALIASES_FILE or not isinstance(parse_document(data, rel, Path(rel).stem), CorpusIssue)


def _write(root: Path, rel: str, data: bytes) -> None:
    target = root / rel
    if not target.resolve().is_relative_to(root.resolve()):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.sync")
    partial.write_bytes(data)
    os.replace(partial, target)  # a reader sees the old file or the new, never half of one


def sync(root: Path, index_dir: Path, store: Store, notice: Callable[[str], None] | None = None) -> Synced:
    """Bring this corpus folder and the shared statements into step (see the module's docstring)."""
    base_path = index_dir / BASE_FILE
    try:
        base: dict[str, str] = json.loads(base_path.read_text(encoding="utf-8")) if base_path.is_file() else {}
    except (ValueError, OSError):
        base = {}  # a damaged record: every difference is treated as a first meeting
    shared = store.published()
    local = _local(root)
    done = Synced()
    agreed: dict[str, str] = {}
    for rel in sorted(set(base) | set(shared) | set(local)):
        b, s = base.get(rel), shared.get(rel)
        data = local.get(rel)
        mine = _digest(data) if data is not None else None
        if mine == s:
            if s is not None:
                agreed[rel] = s
            continue
        if mine is not None and mine != b and s == b:  # changed or added here only
            if _publishable(rel, data or b""):
                store.publish(rel, data or b"")
                done.published.append(rel)
                agreed[rel] = mine
            else:
                done.refused.append(rel)
        elif mine is None and b is not None and s == b:  # deleted here only
            store.withdraw(rel)
            done.withdrawn.append(rel)
        elif mine == b and s is not None:  # changed or added elsewhere only
            fetched = store.fetch(rel)
            if fetched is not None:
                _write(root, rel, fetched)
                done.fetched.append(rel)
                agreed[rel] = s
        elif mine == b and s is None:  # withdrawn elsewhere only
            (root / rel).unlink(missing_ok=True)
            done.removed.append(rel)
        elif mine is None and b is None and s is not None:  # first meeting: only the store has it
            fetched = store.fetch(rel)
            if fetched is not None:
                _write(root, rel, fetched)
                done.fetched.append(rel)
                agreed[rel] = s
        else:  # both sides changed since they last agreed
            done.conflicts.append(rel)
    index_dir.mkdir(parents=True, exist_ok=True)
    base_path.write_text(json.dumps(agreed, indent=0, sort_keys=True), encoding="utf-8")
    if notice is not None:
        for line in done.lines():
            notice(line)
    return done
