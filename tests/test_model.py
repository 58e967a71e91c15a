"""With the real bundled model: the quality bar of the development set, and model hygiene."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from embeddings.answer.search import SearchEngine
from embeddings.corpus.documents import load_corpus
from embeddings.index.building import update_index
from embeddings.index.embedder import SentenceTransformerEmbedder
from embeddings.quality.evaluation import evaluate, load_questions
from tests.conftest import POOL

pytestmark = pytest.mark.model


def test_question_pool_quality_floor(real_engine: SearchEngine) -> None:
    """A regression floor on the pool's 145 seed questions over the seeds (the shipped models
    learnt them, so a floor, not a result: README.md gives the cross-validated figures,
    benchmarks/crossval.py reproduces them). The pool lives in the repository, so this never
    silently skips; the shipped models give 0.78, 0.93, 0.86, 0.56 and 0.008 here."""
    questions = [q for path in POOL for q in load_questions(path)]
    assert len(questions) == 145
    m = evaluate(questions, lambda q: real_engine.search(q.question, k=10)).metrics()
    assert m["hit@1"] is not None and m["hit@1"] >= 0.76, m
    assert m["hit@3"] is not None and m["hit@3"] >= 0.90, m
    assert m["mrr@10"] is not None and m["mrr@10"] >= 0.83, m
    assert m["declined_unanswerable"] is not None and m["declined_unanswerable"] >= 0.52, m
    assert m["wrongly_declined"] is not None and m["wrongly_declined"] <= 0.035, m


def test_named_question_from_the_brief(real_engine: SearchEngine) -> None:
    answer = real_engine.search("What did Japan say about the ICBM launch in November 2024?")
    assert answer.answered
    top = answer.results[0]
    assert top.doc_id == "001_9a301a089a780dac"
    assert "ICBM" in top.quote[top.highlight[0] : top.highlight[1]]


def test_unchanged_rebuild_never_loads_the_model(real_engine: SearchEngine) -> None:
    fresh = SentenceTransformerEmbedder()
    report = update_index(real_engine.index.folder.parent, real_engine.corpus, fresh)
    assert report.up_to_date
    assert not fresh.loaded


def test_embeddings_are_normalised_and_long_text_is_not_truncated(
    real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    vec = real_embedder.encode(["North Korea launched an ICBM."])
    assert vec.shape == (1, 384) and abs(float((vec**2).sum()) - 1.0) < 1e-4
    long_doc = "---\ntitle: Long\nspeaker: S\nvenue: V\ndate: 2024-01-01\n---\n" + " ".join(
        f"Paragraph sentence {i} about ballistic missile launches and sanctions enforcement." for i in range(80)
    )
    corpus_dir = tmp_path / "c"
    corpus_dir.mkdir()
    (corpus_dir / "long.txt").write_text(long_doc)
    update_index(tmp_path / "ix", load_corpus(corpus_dir), real_embedder)
    from embeddings.index.loading import load_index

    idx = load_index(tmp_path / "ix")
    text = load_corpus(corpus_dir).documents["long"].text
    assert len(idx.chunks) > 1
    for rec in idx.chunks:
        assert real_embedder.count_tokens("Long\n" + text[rec.start : rec.end]) <= real_embedder.max_tokens


def test_encoding_from_many_threads_matches_one_thread(real_embedder: SentenceTransformerEmbedder) -> None:
    """The bot encodes questions in worker threads while a rebuild encodes in another."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    batches = [[f"statement {i} on sanctions and the launch " * (1 + i % 6)] * (1 + i % 4) for i in range(48)]
    expected = [real_embedder.encode(b) for b in batches]
    rebuild_model = real_embedder.clone()
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(
            pool.map(lambda ib: (rebuild_model if ib[0] % 3 == 0 else real_embedder).encode(ib[1]), enumerate(batches))
        )
    for want, have in zip(expected, got, strict=True):
        np.testing.assert_allclose(want, have, atol=1e-5)
    assert rebuild_model.fingerprint() == real_embedder.fingerprint()


def test_questions_are_encoded_by_the_checked_onnx_export_without_torch(
    real_engine: SearchEngine, real_embedder: SentenceTransformerEmbedder
) -> None:
    import subprocess
    import sys

    import numpy as np

    from embeddings.index.question_model import OnnxEncoder

    assert isinstance(real_engine.embedder, OnnxEncoder)
    questions = ["What did Japan say about the ICBM launch?", "sanctions " * 200, "Who spoke at the OSCE?"]
    agreement = np.sum(real_engine.embedder.encode(questions) * real_embedder.encode(questions), axis=1)
    assert agreement.min() > 0.9999, agreement
    probe = (
        "import sys; from pathlib import Path; from embeddings.engine import open_engine; "
        f"e = open_engine(Path({str(real_engine.corpus.root)!r}), Path({str(real_engine.index.folder.parent)!r})); "
        "a = e.search('What did Japan say about the ICBM launch in November 2024?'); "
        "print(a.answered, [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split("\n")[0] == "True []", out.stdout + out.stderr


def test_an_export_that_disagrees_with_its_probes_is_refused(real_engine: SearchEngine, caplog: Any) -> None:
    import numpy as np

    from embeddings.engine import question_encoder
    from embeddings.index.question_model import PROBES, QuestionModelError

    index = real_engine.index
    encoder = index.question_encoder()
    assert encoder is not None
    wrong = np.roll(np.asarray(index.manifest.question_probes), 1, axis=1)
    with pytest.raises(QuestionModelError, match="disagrees"):
        encoder.check(wrong.tolist())
    tampered = dataclasses.replace(index.manifest, question_probes=wrong.tolist())
    index_copy = copy.copy(index)
    index_copy.manifest = tampered
    fallback = SentenceTransformerEmbedder()
    assert question_encoder(index_copy, fallback) is fallback
    assert "disagrees" in caplog.text and len(PROBES) == len(wrong)


def test_one_pass_gives_chunk_vectors_of_a_plain_encode_and_sentence_vectors_in_context(
    real_embedder: SentenceTransformerEmbedder,
) -> None:
    import numpy as np

    text = "Title\nNorth Korea launched an ICBM. The Council must respond. " + "Filler words here. " * 150
    tail = text.rindex("Filler")
    spans = [(6, 36), (37, 62), (tail, len(text))]  # the last lies past the model's 256 tokens
    chunk_vectors, sentence_vectors = real_embedder.encode_passages([text], [spans])
    assert float(chunk_vectors[0] @ real_embedder.encode([text])[0]) > 0.9999
    rows = sentence_vectors[0]
    assert rows.shape == (3, 384) and np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-4)
    alone = real_embedder.encode([text[s:e] for s, e in spans])
    assert float(rows[2] @ alone[2]) > 0.9999, "a span the model never saw is embedded on its own"
    assert 0.5 < float(rows[0] @ alone[0]) < 0.9999, "a span inside is read in its context"
    assert float(rows[0] @ rows[1]) < 0.99
