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
    shard_ids: tuple[int, ...] = ()
    """`VERBATIM_SHARD_IDS`: the shards this process runs (Discord requires shards past 2,500
    servers); with `shard_count`, the bot runs as discord.py's AutoShardedBot."""
    shard_count: int | None = None


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
    shard_ids, shard_count = _shards(env)
    return BotSettings(
        core=core or load_settings(env),
        discord_token=env.get("DISCORD_TOKEN", "").strip(),
        guild_id=env_int(env, "DISCORD_GUILD_ID"),
        admin_role=env.get("VERBATIM_ADMIN_ROLE", "").strip(),
        allowed_channels=frozenset(channels),
        cooldown_seconds=env_float(env, "VERBATIM_COOLDOWN_SECONDS", default.cooldown_seconds),
        shard_ids=shard_ids,
        shard_count=shard_count,
    )


def _shards(env: Mapping[str, str]) -> tuple[tuple[int, ...], int | None]:
    """`VERBATIM_SHARD_IDS` ("0,1" or "0-3") and `VERBATIM_SHARD_COUNT`, checked together."""
    count = env_int(env, "VERBATIM_SHARD_COUNT")
    raw = env.get("VERBATIM_SHARD_IDS", "").replace(" ", "")
    ids: list[int] = []
    for part in filter(None, raw.split(",")):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise VerbatimError(f"VERBATIM_SHARD_IDS must list shard numbers such as 0,1 or 0-3, not {part!r}")
        ids += range(int(low), int(high or low) + 1)
    if ids and count is None:
        raise VerbatimError("VERBATIM_SHARD_IDS needs VERBATIM_SHARD_COUNT, the number of shards in all processes")
    if count is not None and (count < 1 or any(i >= count for i in ids)):
        raise VerbatimError(f"shards are numbered 0 to VERBATIM_SHARD_COUNT - 1 ({count}), not {sorted(set(ids))}")
    return tuple(sorted(set(ids))), count
