"""The core's settings, read from the environment and `.env` when asked for, never at import.

Only what answering needs lives here (where the statements and the index are, the longest question,
the log level); the Discord front end keeps its own settings (`bot/settings.py`) and reads these
through `load_settings` like every other front end.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from embeddings.errors import VerbatimError


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path(".index")
    max_question_chars: int = 300
    """Longest question accepted, in characters, in every front end."""
    log_level: str = "INFO"
    allow_private_links: bool = False
    """Let `verbatim add` and `/add` fetch links on private, loopback or link-local addresses (an
    intranet archive); off, so a typed link cannot reach inside the network the bot runs in."""
    database_url: str = ""
    """`VERBATIM_DATABASE_URL`: PostgreSQL as the shared store of several processes or machines
    (postgresql://user@host/db); empty, the embedded SQLite file in the index folder."""
    conversation_minutes: int = 60
    """How long a follow-up ("and Russia?") is read against the question before it; after that a
    message starts afresh."""


def read_environment(env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Mapping[str, str]:
    """`env`, or the process environment after reading `.env` (which never overrides a variable
    already set)."""
    if env is not None:
        return env
    if dotenv is not None and dotenv.exists():
        from dotenv import load_dotenv

        try:
            load_dotenv(dotenv, override=False, encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise VerbatimError(f"{dotenv} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
        except OSError as exc:
            raise VerbatimError(f"cannot read {dotenv}: {exc.strerror or exc}") from None
    return os.environ


_YES, _NO = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def env_flag(env: Mapping[str, str], name: str) -> bool:
    """A yes/no setting; anything else is refused, since a typo must not silently mean "off"."""
    raw = env.get(name, "").strip().lower()
    if raw not in _YES + _NO:
        raise VerbatimError(f"{name} must be 1/true/yes or 0/false/no, not {raw!r}")
    return raw in _YES


def env_int(env: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise VerbatimError(f"{name} must be a whole number, not {raw!r}") from None


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise VerbatimError(f"{name} must be a number, not {raw!r}") from None


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def load_settings(env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
    env = read_environment(env, dotenv)
    default = Settings()
    max_chars = env_int(env, "VERBATIM_MAX_QUESTION_CHARS", default.max_question_chars)
    if max_chars is None or max_chars < 10:
        raise VerbatimError(f"VERBATIM_MAX_QUESTION_CHARS must be at least 10, not {max_chars}")
    log_level = env.get("VERBATIM_LOG_LEVEL", "").strip().upper() or default.log_level
    if log_level not in LOG_LEVELS:
        raise VerbatimError(f"VERBATIM_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")
    return Settings(
        corpus_dir=Path(env.get("VERBATIM_CORPUS", "").strip() or default.corpus_dir),
        index_dir=Path(env.get("VERBATIM_INDEX", "").strip() or default.index_dir),
        max_question_chars=max_chars,
        log_level=log_level,
        allow_private_links=env_flag(env, "VERBATIM_ALLOW_PRIVATE_LINKS"),
        conversation_minutes=_conversation_minutes(env, default.conversation_minutes),
        database_url=_database_url(env),
    )


def _conversation_minutes(env: Mapping[str, str], default: int) -> int:
    minutes = env_int(env, "VERBATIM_CONVERSATION_MINUTES", default)
    if minutes is None or minutes < 1:
        raise VerbatimError(f"VERBATIM_CONVERSATION_MINUTES must be at least 1, not {minutes}")
    return minutes


def _database_url(env: Mapping[str, str]) -> str:
    url = env.get("VERBATIM_DATABASE_URL", "").strip()
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise VerbatimError(f"VERBATIM_DATABASE_URL must start with postgresql://, not {url.split(':')[0]!r}")
    return url
