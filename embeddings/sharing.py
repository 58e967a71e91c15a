"""Statements shared through the store (PostgreSQL) and a machine's corpus folder, kept in step.

Each machine keeps its own corpus folder, which people also edit by hand, so neither copy simply
wins. A three-way comparison decides, as version control does: the shared copy, this folder's
copy, and what this machine last agreed with the store (`shared-statements.json` in the index
folder). A file changed or added here is published; one deleted here is withdrawn; one changed or
withdrawn elsewhere is fetched or removed here; one changed on both sides since they last agreed is
left as it is here and named, for a person to settle. A file that would not load as a statement is
never published.

Index builds are shared the same way: the machine that builds (one at a time, under the store's
build lock) publishes its sealed build; another whose statements are exactly those the build was
made from fetches it instead of embedding everything again, checks every file against the
manifest and the manifest against its checksum, and opens it verified before answering from it. A
damaged or unreadable shared build is refused, said, and built here instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from embeddings.corpus.documents import CorpusIssue, corpus_files, parse_document
from embeddings.engine import ALIASES_FILE
from embeddings.errors import IndexStateError
from embeddings.index.building import remove_old_builds, write_pointer
from embeddings.index.layout import BUILD_NAME, MANIFEST, Manifest, file_sha256
from embeddings.index.loading import live_build, load_index
from embeddings.state import StateError, Store

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


# -- index builds -------------------------------------------------------------------------------


def _live(index_dir: Path) -> tuple[str, str] | None:
    """This machine's live build's name and manifest checksum, if it has a sound one."""
    try:
        folder, digest = live_build(index_dir)
    except IndexStateError:
        return None
    return folder.name, digest


def adopt_build(index_dir: Path, store: Store, documents: dict[str, str], notice: Callable[[str], None]) -> bool:
    """Make the shared current build this machine's, when it was built from exactly these statements:
    its files fetched (or linked from this machine's build where the checksum is the same), each
    checked against the manifest, the manifest against its checksum, and the whole build opened
    and verified before CURRENT names it. A damaged one is refused and this machine's build kept."""
    shared = store.current_build()
    if shared is None:
        return False
    name, manifest_raw, digest = shared
    live = _live(index_dir)
    if live is not None and live[0] == name:
        return True
    if not BUILD_NAME.fullmatch(name) or _digest(manifest_raw) != digest:
        notice(f"the shared build {name!r} is damaged (its manifest does not match its checksum); building here")
        return False
    try:
        manifest = Manifest.from_json(json.loads(manifest_raw))
    except (ValueError, KeyError, TypeError, IndexStateError):
        notice(f"the shared build {name!r} has a manifest this Verbatim cannot read; building here")
        return False
    if manifest.documents != documents:
        return False  # built from other statements: this machine builds its own
    mine: dict[str, Path] = {}
    if live is not None and (index_dir / live[0] / MANIFEST).is_file():
        for rel, sha in json.loads((index_dir / live[0] / MANIFEST).read_bytes()).get("files", {}).items():
            mine[sha] = index_dir / live[0] / rel
    partial = index_dir / f".{name}.fetch"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        for rel, sha in manifest.files.items():
            target = partial / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if sha in mine:
                shutil.copyfile(mine[sha], target)
            else:
                store.fetch_blob(sha, target)
            if file_sha256(target) != sha:
                raise IndexStateError(f"index file {rel} of the shared build does not match its checksum")
        (partial / MANIFEST).write_bytes(manifest_raw)
        os.replace(partial, index_dir / name)
        write_pointer(index_dir, name, digest)
        try:
            load_index(index_dir, verify=True, full=True)
        except IndexStateError:
            if live is not None:
                write_pointer(index_dir, *live)
            shutil.rmtree(index_dir / name, ignore_errors=True)
            raise
    except (IndexStateError, StateError) as exc:
        shutil.rmtree(partial, ignore_errors=True)
        notice(f"the shared build {name} was refused ({exc}); building here instead")
        return False
    remove_old_builds(index_dir, keep=name)
    notice(f"answering from the shared build {name}, fetched instead of built here")
    return True


def publish_build(index_dir: Path, store: Store, holder: str) -> None:
    """This machine's live build made the shared one, unless it already is."""
    live = _live(index_dir)
    shared = store.current_build()
    if live is None or (shared is not None and shared[0] == live[0]):
        return
    store.publish_build(index_dir / live[0], live[1], holder)
