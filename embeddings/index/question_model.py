"""Questions encoded without torch: the bundled weights exported once to ONNX, run by ONNX Runtime.

Importing torch and sentence-transformers costs seconds and half a gigabyte before the first
question; a question needs only the forward pass. The build (which keeps sentence-transformers)
exports the model into the index beside the vectors it made, checks on probe texts that both give
the same vectors, and records the probe vectors so that every open can check the export again with
one encode. Asking then loads only ONNX Runtime and the tokenizer.

Each encode uses one intra-op thread: on two cores a question and a rebuild (or two questions) then
run side by side instead of fighting over both cores. Questions asked at the same moment from
several threads are encoded together, in one batch.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

ONNX_FILE = "question.onnx"
TOKENIZER_FILE = "question-tokenizer.json"
PROBES = (
    "What did Japan say about the ICBM launch in November 2024?",
    "The Security Council must respond to the DPRK's repeated ballistic missile launches.",
    "Russia's full-scale invasion of Ukraine",
    "Mr. President, I thank the Secretary-General for his briefing. " * 12,
)
"""Texts on which the export must agree with sentence-transformers: a question, a sentence, a
phrase, and a text longer than the model's input limit (so truncation is checked too)."""
AGREEMENT = 0.9999
"""Least cosine between the export's vector and the original's on every probe."""
ENCODE_TIMEOUT = 60.0
"""Longest a question waits for its turn at the encoder before it is reported as an error."""
MAX_BATCH = 64


class QuestionModelError(RuntimeError):
    """The exported model disagrees with the original, or cannot be loaded."""


def export(model_path: Path, folder: Path, reference: Callable[[Sequence[str]], np.ndarray]) -> list[list[float]]:
    """Write the ONNX export and its tokenizer into `folder`; return the reference vectors of PROBES.

    `reference` is the sentence-transformers encode the index was built with: the export is kept
    only if it reproduces it."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    # Eager attention: the fused kernel's masking is traced for the example's shape and gives wrong
    # vectors for padded batches of other shapes.
    model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    example = torch.ones(2, 8, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    # The exporter warns about patterns this graph does not use (negative indices) and about its own
    # deprecation; the probes below are the check that matters.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(model),
            (example, example, torch.zeros_like(example)),
            str(folder / ONNX_FILE),
            dynamo=False,
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["token_embeddings"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "token_embeddings": axes},
            opset_version=17,
        )
    shutil.copyfile(model_path / "tokenizer.json", folder / TOKENIZER_FILE)
    expected = reference(list(PROBES))
    got = OnnxEncoder(folder / ONNX_FILE, folder / TOKENIZER_FILE).encode(list(PROBES))
    agreement = float(np.min(np.sum(expected * got, axis=1)))
    if agreement < AGREEMENT:
        raise QuestionModelError(f"the ONNX export disagrees with the model (cosine {agreement:.5f} < {AGREEMENT})")
    log.info("exported the question model (agreement %.6f on %d probes)", agreement, len(PROBES))
    return [[float(x) for x in row] for row in expected]


@dataclass
class _Request:
    texts: list[str]
    done: threading.Event = field(default_factory=threading.Event)
    vectors: np.ndarray | None = None
    error: BaseException | None = None


class MicroBatcher:
    """Encodes what several threads ask for at the same moment in one batch.

    No waiting window: while one batch runs, requests queue; when it ends, one waiting thread takes
    every queued request as the next batch. A lone question therefore never waits, and twenty at
    once cost a handful of batches instead of twenty runs."""

    def __init__(self, run: Callable[[list[str]], np.ndarray], max_batch: int = MAX_BATCH) -> None:
        self._run = run
        self._max_batch = max_batch
        self._cond = threading.Condition()
        self._pending: list[_Request] = []
        self._busy = False
        self.batches = 0
        """How many batches ran; tests and benchmarks read it."""

    def __call__(self, texts: Sequence[str], timeout: float = ENCODE_TIMEOUT) -> np.ndarray:
        request = _Request(list(texts))
        deadline = time.monotonic() + timeout
        batch: list[_Request] = []
        with self._cond:
            self._pending.append(request)
            self._cond.notify_all()
            while self._busy and not request.done.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if request in self._pending:
                        self._pending.remove(request)
                    raise TimeoutError(f"the question encoder was busy for over {timeout:.0f} s")
                self._cond.wait(remaining)
            if not request.done.is_set():
                # This thread runs the next batch: its own request first, then whatever else waits.
                self._busy = True
                self._pending.remove(request)
                batch, size = [request], len(request.texts)
                while self._pending and size + len(self._pending[0].texts) <= self._max_batch:
                    batch.append(self._pending.pop(0))
                    size += len(batch[-1].texts)
        if batch:
            try:
                self._serve(batch)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
        if request.error is not None:
            raise request.error
        assert request.vectors is not None
        return request.vectors

    def _serve(self, batch: list[_Request]) -> None:
        self.batches += 1
        try:
            vectors = self._run([t for r in batch for t in r.texts])
        except Exception as exc:  # every asker gets the error, none is left waiting
            for r in batch:
                r.error = exc
                r.done.set()
            return
        at = 0
        for r in batch:
            r.vectors = vectors[at : at + len(r.texts)]
            at += len(r.texts)
            r.done.set()


class OnnxEncoder:
    """Unit-length question vectors from the exported model: tokenizer, one forward pass, mean pooling
    over the tokens (as sentence-transformers pools all-MiniLM-L6-v2), normalisation."""

    def __init__(self, onnx_path: Path, tokenizer_path: Path, max_tokens: int = 256) -> None:
        self._onnx_path = onnx_path
        self._tokenizer_path = tokenizer_path
        self._max_tokens = max_tokens
        self._batcher = MicroBatcher(self._encode_now)
        self._load_lock = threading.Lock()

    @property
    def batches(self) -> int:
        return self._batcher.batches

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self._tokenizer_path))
        tok.enable_truncation(self._max_tokens)
        tok.enable_padding()
        return tok

    @cached_property
    def _session(self) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            return ort.InferenceSession(str(self._onnx_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise QuestionModelError(f"the question model {self._onnx_path.name} cannot be loaded ({exc})") from None

    def load(self) -> None:
        """Load the session and tokenizer now (the bot does this before it says it is ready)."""
        with self._load_lock:
            _ = self._session, self._tokenizer

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Safe from any number of threads: simultaneous calls share one batch."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        self.load()
        return self._batcher(texts)

    def _encode_now(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        (states,) = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )
        pooled = (states * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.ascontiguousarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)

    def check(self, probe_vectors: Sequence[Sequence[float]]) -> None:
        """Encode the short probes and compare with the vectors recorded at build time: a damaged
        or substituted export is refused here, before it answers anything. The long probe (which
        tests truncation) was checked when the export was made; at every open it would cost more
        than the rest of opening."""
        expected = np.asarray(probe_vectors, dtype=np.float32)
        if expected.shape != (len(PROBES), 384):
            raise QuestionModelError("the recorded probe vectors are malformed")
        short = [i for i, probe in enumerate(PROBES) if len(probe) < 200]
        expected = expected[short]
        got = self.encode([PROBES[i] for i in short])
        agreement = float(np.min(np.sum(expected * got, axis=1)))
        if agreement < AGREEMENT:
            raise QuestionModelError(f"the question model disagrees with the index (cosine {agreement:.5f})")
