"""The public types: what `embeddings.service.Verbatim` takes and returns, and the errors it raises.

Front ends import these from here, and the service, the shared wording (`embeddings.presentation`)
and the settings; nothing else of the core. The modules that define them may move; this list is
the promise.
"""

from __future__ import annotations

from embeddings.answer.analysis import MAX_GROUPS, Comparison, Position, Timeline, Verdict
from embeddings.answer.conversation import FollowUp, Reading, Turn
from embeddings.answer.search import Answer, Decline, Filters, Result
from embeddings.corpus.chunking import Paragraph, ParagraphSpan
from embeddings.corpus.documents import MAX_STATEMENT_BYTES, Corpus, CorpusIssue, Document
from embeddings.errors import (
    BadQuestionError,
    CorpusError,
    IndexStateError,
    IndexWriteError,
    StaleIndexError,
    UnknownDocumentError,
    VerbatimError,
)
from embeddings.index.building import UpdateReport
from embeddings.index.embedder import Embedder, HashingEmbedder, SentenceTransformerEmbedder
from embeddings.ingest.add import Draft
from embeddings.ingest.errors import DuplicateStatementError, IngestError
from embeddings.quality.evaluation import Question, Report
from embeddings.state import State, StateError, Watch

__all__ = [
    "MAX_GROUPS",
    "MAX_STATEMENT_BYTES",
    "Answer",
    "BadQuestionError",
    "Comparison",
    "Corpus",
    "CorpusError",
    "CorpusIssue",
    "Decline",
    "Document",
    "Draft",
    "DuplicateStatementError",
    "Embedder",
    "Filters",
    "FollowUp",
    "HashingEmbedder",
    "IndexStateError",
    "IndexWriteError",
    "IngestError",
    "Paragraph",
    "ParagraphSpan",
    "Position",
    "Question",
    "Reading",
    "Report",
    "Result",
    "SentenceTransformerEmbedder",
    "StaleIndexError",
    "State",
    "StateError",
    "Timeline",
    "Turn",
    "UnknownDocumentError",
    "UpdateReport",
    "VerbatimError",
    "Verdict",
    "Watch",
]
