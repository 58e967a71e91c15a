from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from embeddings.corpus.documents import load_corpus
from embeddings.engine import open_engine
from embeddings.errors import IndexStateError, StaleIndexError
from embeddings.index import building as index_module
from embeddings.index.building import update_index
from embeddings.index.embedder import HashingEmbedder
from embeddings.index.loading import ensure_fresh, load_index

TIMEOUT = 20.0
NEW_DOC = "---\ntitle: New statement\nspeaker: Delegation of Nowhere\nvenue: Nowhere\ndate: 2025-02-03\n---\n"
NEW_DOC += "The delegation welcomes the adoption of resolution 9999 on maritime monitoring of tankers.\n"


def _build(corpus_dir: Path, index_dir: Path, embedder: HashingEmbedder) -> index_module.UpdateReport:
    return update_index(index_dir, load_corpus(corpus_dir), embedder)


def test_manifest_records_what_the_index_was_built_from(corpus_dir: Path, tmp_path: Path) -> None:
    emb = HashingEmbedder()
    report = _build(corpus_dir, tmp_path / "ix", emb)
    assert report.documents == 5 and report.embedded == report.chunks + report.sentences - report.reused
    idx = load_index(tmp_path / "ix")
    m = idx.manifest
    assert m.model.fingerprint == emb.fingerprint() and m.model.dim == emb.dim
    assert m.chunker and m.built_at
    assert set(m.documents) == set(load_corpus(corpus_dir).documents)
    assert set(m.files) >= {"chunks.npy", "sentences.npy", "chunk_vectors.npy", "sentence_vectors.npy"}


def test_nothing_changed_means_nothing_embedded(corpus_dir: Path, tmp_path: Path) -> None:
    _build(corpus_dir, tmp_path / "ix", HashingEmbedder())
    fresh = HashingEmbedder()
    report = _build(corpus_dir, tmp_path / "ix", fresh)
    assert report.up_to_date and fresh.calls == 0


def test_adding_a_document_embeds_only_its_text(corpus_dir: Path, tmp_path: Path) -> None:
    first = _build(corpus_dir, tmp_path / "ix", HashingEmbedder())
    (corpus_dir / "new.txt").write_text(NEW_DOC)
    emb = HashingEmbedder()
    report = _build(corpus_dir, tmp_path / "ix", emb)
    assert report.added == ["new"] and not report.changed
    assert 0 < emb.texts_encoded <= 3
    assert report.reused == first.chunks + first.sentences


def test_editing_metadata_is_a_change(corpus_dir: Path, tmp_path: Path) -> None:
    _build(corpus_dir, tmp_path / "ix", HashingEmbedder())
    path = corpus_dir / "003_98d10b9dfbac6c7a.txt"
    path.write_bytes(path.read_bytes().replace(b"date: 2023-10-26", b"date: 2023-10-27"))
    corpus = load_corpus(corpus_dir)
    with pytest.raises(StaleIndexError, match="changed"):
        ensure_fresh(load_index(tmp_path / "ix"), corpus, HashingEmbedder())
    report = _build(corpus_dir, tmp_path / "ix", HashingEmbedder())
    assert report.changed == ["003_98d10b9dfbac6c7a"]


def test_removed_document_leaves_the_index(corpus_dir: Path, tmp_path: Path) -> None:
    _build(corpus_dir, tmp_path / "ix", HashingEmbedder())
    (corpus_dir / "004_98d5f114bee79a04.txt").unlink()
    report = _build(corpus_dir, tmp_path / "ix", HashingEmbedder())
    assert report.removed == ["004_98d5f114bee79a04"]
    assert "004_98d5f114bee79a04" not in load_index(tmp_path / "ix").doc_chunks


def test_other_model_is_detected(corpus_dir: Path, tmp_path: Path) -> None:
    _build(corpus_dir, tmp_path / "ix", HashingEmbedder(dim=256))
    with pytest.raises(StaleIndexError, match="another model"):
        ensure_fresh(load_index(tmp_path / "ix"), load_corpus(corpus_dir), HashingEmbedder(dim=128))


def test_damaged_file_is_detected_never_used(corpus_dir: Path, tmp_path: Path) -> None:
    _build(corpus_dir, tmp_path / "ix", HashingEmbedder())
    vectors = next((tmp_path / "ix").glob("build-*/chunk_vectors.npy"))
    data = bytearray(vectors.read_bytes())
    data[-5] ^= 0xFF
    vectors.write_bytes(bytes(data))
    with pytest.raises(IndexStateError, match="checksum"):
        load_index(tmp_path / "ix")
    notices: list[str] = []
    engine = open_engine(corpus_dir, tmp_path / "ix", HashingEmbedder(), on_notice=notices.append)
    assert any("checksum" in n for n in notices)
    assert engine.search("Hokkaido ICBM launch").results, "the repaired index answers"
    load_index(tmp_path / "ix")


def test_crash_mid_build_leaves_the_old_index_in_use(
    corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(corpus_dir, tmp_path / "ix", HashingEmbedder())
    before = load_index(tmp_path / "ix").manifest.built_at, (tmp_path / "ix" / "CURRENT").read_text()
    (corpus_dir / "new.txt").write_text(NEW_DOC)

    def explode(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(index_module.np, "save", explode)
    with pytest.raises(OSError, match="disk full"):
        _build(corpus_dir, tmp_path / "ix", HashingEmbedder())
    monkeypatch.undo()
    after = load_index(tmp_path / "ix")
    assert (after.manifest.built_at, (tmp_path / "ix" / "CURRENT").read_text()) == before
    assert "new" not in after.doc_chunks
    assert not list((tmp_path / "ix").glob(".build-*"))


def test_missing_index_is_built_on_first_use(corpus_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(IndexStateError, match="no index"):
        load_index(tmp_path / "ix")
    engine = open_engine(corpus_dir, tmp_path / "ix", HashingEmbedder(), on_notice=lambda _: None)
    assert len(engine.index.chunks) > 0
    assert np.allclose(np.linalg.norm(engine.index.chunk_vectors, axis=1), 1.0, atol=1e-5)


def test_stale_index_refused_without_auto_update(corpus_dir: Path, tmp_path: Path) -> None:
    _build(corpus_dir, tmp_path / "ix", HashingEmbedder())
    (corpus_dir / "new.txt").write_text(NEW_DOC)
    with pytest.raises(StaleIndexError, match="added"):
        open_engine(corpus_dir, tmp_path / "ix", HashingEmbedder(), auto_update=False)


def test_hnsw_index_agrees_with_exact_search(corpus_dir: Path, tmp_path: Path) -> None:
    update_index(tmp_path / "ix", load_corpus(corpus_dir), HashingEmbedder(), vector_kind="hnsw")
    idx = load_index(tmp_path / "ix")
    assert idx.chunk_index.kind == "hnsw"
    q = idx.chunk_vectors[3]
    _, ids = idx.chunk_index.search(np.asarray(q), 5)
    exact = np.argsort(-(idx.chunk_vectors @ q))[:5]
    assert ids[0] == exact[0] == 3
    assert len(set(ids) & set(exact)) >= 4


def _manifest(index_dir: Path) -> Path:
    return next(index_dir.glob("build-*/manifest.json"))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda m: "[]", "manifest"),
        (lambda m: json.dumps({k: v for k, v in json.loads(m).items() if k != "model"}), "manifest"),
        (lambda m: json.dumps({**json.loads(m), "documents": {"x": 3}}), "manifest"),
        (lambda m: json.dumps({k: v for k, v in json.loads(m).items() if k != "files"}), "manifest"),
        (lambda m: m.replace('"built_at": "', '"built_at": "1'), "checksum"),
        (lambda m: m[: len(m) // 2], "manifest"),
    ],
    ids=["not-an-object", "no-model", "bad-documents", "no-files-map", "edited", "truncated"],
)
def test_any_damage_to_the_manifest_is_detected_and_repaired(
    corpus_dir: Path, tmp_path: Path, damage: Callable[[str], str], reason: str
) -> None:
    index_dir = tmp_path / "ix"
    _build(corpus_dir, index_dir, HashingEmbedder())
    manifest = _manifest(index_dir)
    manifest.write_text(damage(manifest.read_text()))
    with pytest.raises(IndexStateError, match=reason):
        load_index(index_dir)
    report = _build(corpus_dir, index_dir, HashingEmbedder())
    assert report.rebuilt_from_scratch and report.chunks > 0
    assert load_index(index_dir).chunks, "the next build repairs it"


@pytest.mark.parametrize("name", ["chunks.npy", "CURRENT"])
def test_damage_to_other_index_files_is_repaired_on_first_question(corpus_dir: Path, tmp_path: Path, name: str) -> None:
    index_dir = tmp_path / "ix"
    _build(corpus_dir, index_dir, HashingEmbedder())
    target = index_dir / "CURRENT" if name == "CURRENT" else next(index_dir.glob(f"build-*/{name}"))
    target.write_text('{"chunks": [["x", 1]]}' if name != "CURRENT" else "../../etc\n")
    with pytest.raises(IndexStateError):
        load_index(index_dir)
    notices: list[str] = []
    engine = open_engine(corpus_dir, index_dir, HashingEmbedder(), on_notice=notices.append)
    assert notices and engine.search("Hokkaido ICBM launch").results


def test_one_build_at_a_time_across_processes(corpus_dir: Path, tmp_path: Path) -> None:
    """A second build (another terminal, or the CLI during /reindex) waits for the first, says who
    holds the index, and both leave a correct index."""
    index_dir = tmp_path / "ix"
    _build(corpus_dir, index_dir, HashingEmbedder())
    (corpus_dir / "new.txt").write_text(NEW_DOC)
    started, release = threading.Event(), threading.Event()

    class Gated(HashingEmbedder):
        def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
            started.set()
            assert release.wait(TIMEOUT)
            return super().encode(texts)

    first = threading.Thread(target=_build, args=(corpus_dir, index_dir, Gated()))
    first.start()
    assert started.wait(TIMEOUT)
    waits: list[str] = []
    second = threading.Thread(
        target=lambda: update_index(index_dir, load_corpus(corpus_dir), HashingEmbedder(), on_wait=waits.append)
    )
    second.start()
    second.join(0.5)
    assert second.is_alive(), "the second build waits while the first holds the lock"
    assert waits and f"pid {os.getpid()}" in waits[0]
    release.set()
    first.join(TIMEOUT)
    second.join(TIMEOUT)
    assert not first.is_alive() and not second.is_alive()
    index = load_index(index_dir)
    assert "new" in index.doc_chunks
    assert not list(index_dir.glob(".build-*")), "no working folder left behind"


def test_an_index_from_an_earlier_version_is_rebuilt_and_said_so(corpus_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    _build(corpus_dir, index_dir, HashingEmbedder())
    pointer = index_dir / "CURRENT"
    pointer.write_text(pointer.read_text().split()[0] + "\n")  # format 1 named the build alone
    with pytest.raises(StaleIndexError, match="earlier version"):
        load_index(index_dir)
    report = _build(corpus_dir, index_dir, HashingEmbedder())
    assert "earlier version" in report.rebuilt_from_scratch
