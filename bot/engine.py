"""The search engine as the bot holds it: opened once, warmed before the first question, swapped
whole after a rebuild, one rebuild at a time."""

from __future__ import annotations

import asyncio
import logging

from bot.formatting import escape
from embeddings.answer.search import SearchEngine
from embeddings.engine import open_engine, rebuild
from embeddings.index.embedder import Embedder
from embeddings.settings import Settings

log = logging.getLogger(__name__)
WARM_UP_QUESTION = "What did the statement say about the missile launch?"
"""Any question: it loads the question encoder and touches the index before the first member asks."""


class EngineHolder:
    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.engine: SearchEngine | None = None
        self.lock = asyncio.Lock()
        self._rebuild_embedder: Embedder | None = None

    def _open(self) -> SearchEngine:
        return open_engine(
            self.settings.corpus_dir,
            self.settings.index_dir,
            self.embedder,
            on_notice=log.warning,
            max_question_chars=self.settings.max_question_chars,
        )

    async def get(self) -> SearchEngine:
        if self.engine is None:
            async with self.lock:
                if self.engine is None:
                    self.engine = await asyncio.to_thread(self._open)
        return self.engine

    async def warm_up(self) -> None:
        """Open the engine and answer one question, so the model is in memory before anyone asks."""
        engine = await self.get()
        await asyncio.to_thread(engine.search, WARM_UP_QUESTION, 1)
        log.info("engine ready: %d documents", len(engine.corpus))

    async def reindex(self) -> str:
        async with self.lock:
            if self._rebuild_embedder is None:
                # Its own model on one core: questions (on ONNX Runtime) keep the other.
                self._rebuild_embedder = self.embedder.clone(threads=1)
            corpus, report = await asyncio.to_thread(
                rebuild, self.settings.corpus_dir, self.settings.index_dir, self._rebuild_embedder
            )
            self.engine = await asyncio.to_thread(self._open)
        lines = [escape(report.summary())]
        lines += [f"skipped {escape(str(issue))}" for issue in corpus.issues[:10]]
        if len(corpus.issues) > 10:
            lines.append(f"… and {len(corpus.issues) - 10} more files skipped; `verbatim index` lists them all.")
        return "\n".join(lines)
