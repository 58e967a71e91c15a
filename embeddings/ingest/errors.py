"""Why a file or link could not be added, in words a user can act on."""

from __future__ import annotations

from embeddings.errors import VerbatimError


class IngestError(VerbatimError):
    """This file or link cannot become a statement; nothing was written."""


class DuplicateStatementError(IngestError):
    """The corpus already holds this statement (same original, or same document symbol)."""
