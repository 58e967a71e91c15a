"""Domain errors, each carrying a message fit to show a user as it is.

The CLI and the bot turn these into one line or one reply in a single place each, so library code
raises them instead of printing or exiting.
"""

from __future__ import annotations

import errno

_PLAIN = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def os_reason(exc: OSError) -> str:
    """An operating-system failure as a reader says it ("the disk is full", not errno 28), so the
    one line a user sees tells them what to fix."""
    return _PLAIN.get(exc.errno or -1, exc.strerror or str(exc))


class VerbatimError(Exception):
    """Base class: anything the user can act on, with a message that says how."""


class CorpusError(VerbatimError):
    """The corpus as a whole cannot be used (missing folder, no valid document)."""


class IndexStateError(VerbatimError):
    """The on-disk index is missing, broken or built for something else. `reason` says what is
    wrong; the message adds what to do about it."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason}: run `verbatim index`")
        self.reason = reason


class StaleIndexError(IndexStateError):
    """The index is intact but no longer matches the corpus or the model."""


class IndexWriteError(VerbatimError):
    """The index folder cannot be written (a full disk, a read-only folder): the previous build, if
    any, is untouched and still answers."""


class UnknownDocumentError(VerbatimError):
    """A document id or paragraph number that the corpus does not have."""


class BadQuestionError(VerbatimError):
    """A question that cannot be searched (empty, too long, only punctuation)."""
