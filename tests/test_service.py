"""The service front ends share: one engine swapped whole, one rebuild at a time, nothing kept alive
after a swap, safe when many threads ask at once."""

from __future__ import annotations

import gc
import shutil
import sys
import threading
import weakref
from pathlib import Path

from embeddings.service import Verbatim
from embeddings.settings import Settings
from embeddings.types import Document, HashingEmbedder
from tests.conftest import CORPUS

ROUNDS = 300
"""Enough meetings that publishing a document's paragraphs before their offsets failed every time
(measured: three runs out of three), in about three seconds."""
NEW = (
    "---\ntitle: Freedonia on cod\nspeaker: Delegation of Freedonia\nvenue: OSCE Permanent Council\n"
    "date: 2025-02-03\n---\nFreedonia calls for a moratorium on cod fisheries in the northern waters.\n"
)


def _service(corpus_dir: Path, tmp_path: Path) -> Verbatim:
    settings = Settings(corpus_dir=corpus_dir, index_dir=tmp_path / "ix")
    return Verbatim(settings, HashingEmbedder()).open()


def test_a_replaced_engine_is_freed_after_a_rebuild(corpus_dir: Path, tmp_path: Path) -> None:
    service = _service(corpus_dir, tmp_path)
    service.ask("What did Japan say about the ICBM launch?")
    old = weakref.ref(service._searcher())
    heard: list[list[Document]] = []
    service.subscribe(heard.append)
    (corpus_dir / "cod.txt").write_text(NEW)
    done = service.reindex()
    gc.collect()
    assert old() is None, "nothing (a cache on a method, a listener) keeps the old engine and its mapped files"
    assert [d.doc_id for d in done.added] == ["cod"] and [[d.doc_id for d in batch] for batch in heard] == [["cod"]]
    assert "moratorium" in service.ask("What does Freedonia want for cod?").results[0].quote


def test_paragraphs_are_safe_when_many_threads_ask_at_once(corpus_dir: Path, tmp_path: Path) -> None:
    """Each document's paragraphs are computed on first use; threads meeting there must never see half
    of it (the paragraphs published before their start offsets raised KeyError)."""
    engine = _service(corpus_dir, tmp_path)._searcher()
    docs = list(engine.corpus.documents.values())
    errors: list[BaseException] = []
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(ROUNDS):
            engine._paragraphs.clear()
            barrier = threading.Barrier(6)

            def hammer(barrier: threading.Barrier = barrier) -> None:
                try:
                    barrier.wait(timeout=10)
                    for doc in docs:
                        engine.paragraph_at(doc, len(doc.text) // 2)
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=hammer) for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
    finally:
        sys.setswitchinterval(previous)
    assert not errors, errors[:3]


def test_listing_and_reading_need_no_index(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    service = Verbatim(Settings(corpus_dir=corpus, index_dir=tmp_path / "ix"), HashingEmbedder())
    assert [d.date for d in service.documents()] == sorted((d.date for d in service.documents()), reverse=True)
    assert service.paragraphs("002_78125fb04298b027")[0].number == 1
    assert not (tmp_path / "ix").exists(), "nothing was built to list or read"
