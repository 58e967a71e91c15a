"""What makes opening and asking fast must never make them wrong: trusted-but-checked files, the
stored keyword index, the growing vector graph and the question micro-batcher."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from embeddings.corpus.documents import load_corpus
from embeddings.engine import open_engine, rebuild
from embeddings.errors import IndexStateError
from embeddings.index import loading
from embeddings.index.building import UpdateReport, update_index
from embeddings.index.embedder import HashingEmbedder
from embeddings.index.keywords import KeywordIndex
from embeddings.index.loading import load_index
from embeddings.index.question_model import MicroBatcher
from embeddings.index.vectors import ExactVectors, GraphVectors

TIMEOUT = 20.0
NEW_DOC = (
    "---\ntitle: New statement\nspeaker: Delegation of Nowhere\nvenue: Nowhere\ndate: 2025-02-03\n---\n"
    "The delegation welcomes the adoption of resolution 9999 on maritime monitoring of tankers.\n\n"
    "It calls on all States to inspect vessels suspected of ship-to-ship transfers of refined petroleum.\n"
)


def _damage_in_place(path: Path) -> None:
    """Flip one byte and put the size and modification time back, as silent disk damage would."""
    info = path.stat()
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def test_open_reads_no_file_whose_size_and_time_are_unchanged(
    corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    update_index(tmp_path / "ix", load_corpus(corpus_dir), HashingEmbedder())
    hashed: list[Path] = []
    real = loading.file_sha256
    monkeypatch.setattr(loading, "file_sha256", lambda p: hashed.append(p) or real(p))
    load_index(tmp_path / "ix")
    assert hashed == []
    load_index(tmp_path / "ix", full=True)
    assert len(hashed) >= 4, "a full check reads every file"


def test_an_edited_file_is_hashed_and_refused(corpus_dir: Path, tmp_path: Path) -> None:
    update_index(tmp_path / "ix", load_corpus(corpus_dir), HashingEmbedder())
    vectors = next((tmp_path / "ix").glob("build-*/sentence_vectors.npy"))
    data = bytearray(vectors.read_bytes())
    data[-1] ^= 0xFF
    vectors.write_bytes(bytes(data))  # same size, new modification time
    with pytest.raises(IndexStateError, match=r"sentence_vectors\.npy does not match its checksum"):
        load_index(tmp_path / "ix")


def test_damage_that_keeps_size_and_time_is_found_by_verify_and_repaired(corpus_dir: Path, tmp_path: Path) -> None:
    corpus = load_corpus(corpus_dir)
    update_index(tmp_path / "ix", corpus, HashingEmbedder())
    _damage_in_place(next((tmp_path / "ix").glob("build-*/chunk_vectors.npy")))
    load_index(tmp_path / "ix")  # trusted by size and time, as documented
    with pytest.raises(IndexStateError, match=r"chunk_vectors\.npy does not match its checksum"):
        load_index(tmp_path / "ix", full=True)
    report = update_index(tmp_path / "ix", corpus, HashingEmbedder(), verify=True)
    assert "chunk_vectors.npy" in report.rebuilt_from_scratch
    load_index(tmp_path / "ix", full=True)
    again = update_index(tmp_path / "ix", corpus, HashingEmbedder(), verify=True)
    assert again.up_to_date and "every file matches its checksum" in again.summary()


def test_keyword_index_is_stored_with_the_build_and_used_as_stored(
    corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuild(corpus_dir, tmp_path / "ix", HashingEmbedder())
    in_memory = open_engine(corpus_dir, tmp_path / "ix", HashingEmbedder())

    def refuse(*args: object) -> None:
        raise AssertionError("the keyword index was rebuilt at open")

    monkeypatch.setattr(KeywordIndex, "build", refuse)
    stored = open_engine(corpus_dir, tmp_path / "ix", HashingEmbedder())
    question = "maritime interdiction of ship-to-ship transfers"
    assert np.array_equal(stored.keywords.scores(question), in_memory.keywords.scores(question))
    assert stored.keywords.doc_freq and stored.keywords.doc_freq == in_memory.keywords.doc_freq


def test_changed_aliases_rebuild_the_keyword_index(corpus_dir: Path, tmp_path: Path) -> None:
    rebuild(corpus_dir, tmp_path / "ix", HashingEmbedder())
    signature = load_index(tmp_path / "ix").manifest.keywords
    with (corpus_dir / "aliases.toml").open("a") as fh:
        fh.write('\n[[group]]\nnames = ["Freedonia", "Republic of Freedonia"]\n')
    _, second = rebuild(corpus_dir, tmp_path / "ix", HashingEmbedder())
    assert not second.up_to_date and second.embedded == 0, "nothing to embed, but the keywords change"
    assert load_index(tmp_path / "ix").manifest.keywords not in ("", signature)


def _hnsw_build(corpus_dir: Path, index_dir: Path) -> UpdateReport:
    return update_index(index_dir, load_corpus(corpus_dir), HashingEmbedder(), vector_kind="hnsw")


def test_the_graph_grows_with_the_corpus_instead_of_being_rebuilt(corpus_dir: Path, tmp_path: Path) -> None:
    _hnsw_build(corpus_dir, tmp_path / "ix")
    before = load_index(tmp_path / "ix")
    positions = len(before.sentence_index.rows)
    (corpus_dir / "0000_new.txt").write_text(NEW_DOC)  # sorts first: its rows come before all others
    _hnsw_build(corpus_dir, tmp_path / "ix")
    after = load_index(tmp_path / "ix")
    rows = after.sentence_index.rows
    new_rows = len(after.sentences) - len(before.sentences)
    assert new_rows > 0 and len(rows) == positions + new_rows
    assert rows[positions:].tolist() == list(range(new_rows)), "the new sentences were added after the old"
    assert rows[:positions].tolist() == list(range(new_rows, len(after.sentences))), "the old ones were kept"
    for sid in (0, len(after.sentences) - 1):
        _, ids = after.sentence_index.search(after.sentence_vectors[sid], 5)
        assert ids[0] == sid


def test_removed_rows_are_never_returned_and_many_removals_rebuild(corpus_dir: Path, tmp_path: Path) -> None:
    _hnsw_build(corpus_dir, tmp_path / "ix")
    victim = sorted(corpus_dir.glob("0*.txt"))[-1]
    victim.unlink()
    _hnsw_build(corpus_dir, tmp_path / "ix")
    index = load_index(tmp_path / "ix")
    rows = index.sentence_index.rows
    assert (rows < 0).any(), "the removed document's sentences stay in the graph as tombstones"
    for sid in range(0, len(index.sentences), 7):
        _, ids = index.sentence_index.search(index.sentence_vectors[sid], 10)
        assert ids[0] == sid and ((ids >= 0) & (ids < len(index.sentences))).all()
    for path in sorted(corpus_dir.glob("0*.txt"))[:2]:
        path.unlink()
    _hnsw_build(corpus_dir, tmp_path / "ix")
    assert not (load_index(tmp_path / "ix").sentence_index.rows < 0).any(), "past a quarter, a fresh graph"


def test_graph_search_scores_exactly_and_finds_what_exact_search_finds() -> None:
    rng = np.random.default_rng(7)
    base = rng.normal(size=(300, 32)).astype(np.float32)
    vectors = base[rng.integers(0, 300, 3000)] + 0.3 * rng.normal(size=(3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    graph, exact = GraphVectors.build(vectors), ExactVectors(vectors)
    recall = []
    for q in vectors[rng.integers(0, 3000, 50)]:
        g_scores, g_ids = graph.search(q, 10)
        _, e_ids = exact.search(q, 10)
        assert np.allclose(g_scores, vectors[g_ids] @ q, atol=1e-6), "hits are rescored at full precision"
        recall.append(len(set(g_ids) & set(e_ids)) / 10)
    assert np.mean(recall) >= 0.95


# ---- micro-batching ---------------------------------------------------------------------------


class GatedModel:
    """Stands in for the encoder: the first batch waits for `release`; every batch is recorded."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.started, self.release = threading.Event(), threading.Event()

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        self.started.set()
        assert self.release.wait(TIMEOUT)
        if any("boom" in t for t in texts):
            raise RuntimeError("encoder failed")
        return np.asarray([[float(len(t))] for t in texts], dtype=np.float32)


def _ask_in_threads(
    batcher: MicroBatcher, questions: Sequence[str]
) -> tuple[list[threading.Thread], dict[str, object]]:
    out: dict[str, object] = {}

    def ask(q: str) -> None:
        try:
            out[q] = batcher([q])
        except Exception as exc:
            out[q] = exc

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for t in threads:
        t.start()
    return threads, out


def _wait_until_queued(batcher: MicroBatcher, count: int) -> None:
    with batcher._cond:
        assert batcher._cond.wait_for(lambda: len(batcher._pending) >= count, TIMEOUT)


def test_questions_asked_together_share_one_batch_and_get_their_own_vectors() -> None:
    model = GatedModel()
    batcher = MicroBatcher(model)
    first, _ = _ask_in_threads(batcher, ["q"])
    assert model.started.wait(TIMEOUT)
    others = [f"question {'x' * i}" for i in range(1, 8)]
    rest, out2 = _ask_in_threads(batcher, others)
    _wait_until_queued(batcher, len(others))
    model.release.set()
    for t in first + rest:
        t.join(TIMEOUT)
    assert len(model.batches) == 2 and sorted(model.batches[1]) == sorted(others)
    for q in others:
        vector = out2[q]
        assert isinstance(vector, np.ndarray) and vector.shape == (1, 1) and vector[0, 0] == len(q)


def test_a_failed_batch_reaches_every_asker_and_the_next_batch_still_runs() -> None:
    model = GatedModel()
    batcher = MicroBatcher(model)
    first, _ = _ask_in_threads(batcher, ["warm"])
    assert model.started.wait(TIMEOUT)
    rest, out = _ask_in_threads(batcher, ["boom", "fine"])
    _wait_until_queued(batcher, 2)
    model.release.set()
    for t in first + rest:
        t.join(TIMEOUT)
    assert isinstance(out["boom"], RuntimeError) and isinstance(out["fine"], RuntimeError)
    assert batcher(["after"])[0, 0] == len("after")


def test_a_question_waiting_too_long_for_the_encoder_gets_an_error() -> None:
    model = GatedModel()
    batcher = MicroBatcher(model)
    first, _ = _ask_in_threads(batcher, ["slow"])
    assert model.started.wait(TIMEOUT)
    with pytest.raises(TimeoutError, match="busy"):
        batcher(["impatient"], timeout=0.05)
    model.release.set()
    for t in first:
        t.join(TIMEOUT)
    assert len(model.batches) == 1, "the abandoned question was not encoded later"


def test_keyword_top_k_is_the_k_best_nonzero_chunks_within_the_filter() -> None:
    from embeddings.answer.search import top_keyword_chunks

    rng = np.random.default_rng(3)
    scores = np.where(rng.random(5000) < 0.1, rng.random(5000), 0.0).astype(np.float32)
    expected = [int(i) for i in np.argsort(-scores, kind="stable")[:40]]
    assert top_keyword_chunks(scores, 40) == expected
    allowed = np.arange(0, 5000, 3)
    within = [int(i) for i in allowed[np.argsort(-scores[allowed], kind="stable")] if scores[i] > 0][:40]
    assert top_keyword_chunks(scores, 40, allowed) == within
    assert top_keyword_chunks(np.zeros(10, dtype=np.float32), 40) == []
    assert top_keyword_chunks(scores[:3], 40) == [int(i) for i in np.argsort(-scores[:3]) if scores[i] > 0]
