"""The Discord front end's settings: the core's (where the statements are, the longest question)
plus what only a bot needs. The token is optional here: only connecting needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from embeddings.settings import Settings, env_float, env_int, load_settings, read_environment
from embeddings.types import VerbatimError


@dataclass(frozen=True)
class BotSettings:
    core: Settings = field(default_factory=Settings)
    discord_token: str = field(default="", repr=False)
    guild_id: int | None = None
    admin_role: str = ""
    allowed_channels: frozenset[int] = frozenset()
    cooldown_seconds: float = 10.0


def load_bot_settings(
    env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env"), core: Settings | None = None
) -> BotSettings:
    """Bot settings from the environment; `core` when the command line already settled those."""
    env = read_environment(env, dotenv)
    default = BotSettings()
    channels = set()
    for part in env.get("VERBATIM_ALLOWED_CHANNELS", "").replace(",", " ").split():
        if not part.isdigit():
            raise VerbatimError(f"VERBATIM_ALLOWED_CHANNELS must list channel ids, not {part!r}")
        channels.add(int(part))
    return BotSettings(
        core=core or load_settings(env),
        discord_token=env.get("DISCORD_TOKEN", "").strip(),
        guild_id=env_int(env, "DISCORD_GUILD_ID"),
        admin_role=env.get("VERBATIM_ADMIN_ROLE", "").strip(),
        allowed_channels=frozenset(channels),
        cooldown_seconds=env_float(env, "VERBATIM_COOLDOWN_SECONDS", default.cooldown_seconds),
    )
