"""The set-up instructions a new user follows must match what the code needs."""

from __future__ import annotations

import re

from bot.client import REQUIRED_PERMISSIONS, SCOPES, invite_url
from tests.conftest import ROOT


def test_readme_invite_matches_the_permissions_the_bot_uses() -> None:
    readme = (ROOT / "README.md").read_text()
    numbers = set(re.findall(r"permissions=(\d+)", readme)) | set(re.findall(r"permission integer `(\d+)`", readme))
    assert numbers == {str(REQUIRED_PERMISSIONS.value)}
    assert " ".join(SCOPES) in readme
    assert f"permissions={REQUIRED_PERMISSIONS.value}" in invite_url(1)


def test_env_example_documents_every_setting() -> None:
    source = (ROOT / "embeddings" / "settings.py").read_text() + (ROOT / "bot" / "settings.py").read_text()
    read = set(re.findall(r"""["']((?:DISCORD|VERBATIM)_[A-Z_]+)["']""", source))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read and read == documented


def test_the_bot_is_built_by_a_factory_from_environment_settings() -> None:
    import discord
    import discord.ext.commands

    import bot

    settings = bot.load_bot_settings(env={"DISCORD_GUILD_ID": "42", "VERBATIM_COOLDOWN_SECONDS": "3"}, dotenv=None)
    built = bot.create_bot(settings)
    assert isinstance(built, discord.ext.commands.Bot)
    assert built.allowed_mentions is not None and built.allowed_mentions.to_dict() == {"parse": []}
    assert not built.intents.message_content
    assert not discord.VoiceClient.warn_nacl and not discord.VoiceClient.warn_dave, "no voice warnings at start"
