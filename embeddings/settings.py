"""One typed settings object, read from the environment and `.env` when asked for, never at import.

The Discord token is optional here: only connecting to Discord needs it, and `verbatim chat`, the
command line and the tests run without one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from embeddings.errors import VerbatimError


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path(".index")
    discord_token: str = field(default="", repr=False)
    guild_id: int | None = None
    admin_role: str = ""
    allowed_channels: frozenset[int] = frozenset()
    cooldown_seconds: float = 10.0
    max_question_chars: int = 300
    log_level: str = "INFO"


def _int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise VerbatimError(f"{name} must be a number (a Discord id), not {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise VerbatimError(f"{name} must be a number, not {raw!r}") from None


def load_settings(env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
    """Settings from `env` (default: the process environment after reading `.env`, which never
    overrides a variable already set)."""
    if env is None:
        if dotenv is not None and dotenv.exists():
            from dotenv import load_dotenv

            load_dotenv(dotenv, override=False)
        env = os.environ
    channels = set()
    for part in env.get("VERBATIM_ALLOWED_CHANNELS", "").replace(",", " ").split():
        if not part.isdigit():
            raise VerbatimError(f"VERBATIM_ALLOWED_CHANNELS must list channel ids, not {part!r}")
        channels.add(int(part))
    max_chars = _int(env, "VERBATIM_MAX_QUESTION_CHARS")
    return Settings(
        corpus_dir=Path(env.get("VERBATIM_CORPUS", "corpus")),
        index_dir=Path(env.get("VERBATIM_INDEX", ".index")),
        discord_token=env.get("DISCORD_TOKEN", "").strip(),
        guild_id=_int(env, "DISCORD_GUILD_ID"),
        admin_role=env.get("VERBATIM_ADMIN_ROLE", "").strip(),
        allowed_channels=frozenset(channels),
        cooldown_seconds=_float(env, "VERBATIM_COOLDOWN_SECONDS", 10.0),
        max_question_chars=max_chars if max_chars is not None else 300,
        log_level=env.get("VERBATIM_LOG_LEVEL", "INFO").upper(),
    )
