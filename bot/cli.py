"""The `verbatim` command: the core's commands (`embeddings/cli.py`) plus the Discord ones,
`run` and `sync`. This is where the front ends are wired to the core, so the core never imports
them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from embeddings import cli as core_cli
from embeddings.settings import Settings


def add_discord_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], handlers: dict[str, core_cli.Handler]
) -> None:
    sub.add_parser("run", help="start the Discord bot (or offer the console without a token)")
    p = sub.add_parser("sync", help="publish the slash commands globally (deliberate; takes up to an hour)")
    p.add_argument("--guild", type=int, help="sync to this guild only instead")
    handlers["run"] = cmd_run
    handlers["sync"] = cmd_sync


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.settings import load_bot_settings

    bot_settings = load_bot_settings(core=settings)
    if not bot_settings.discord_token:
        print(
            "No Discord token: set DISCORD_TOKEN in .env (see README.md, 'Running the bot on Discord').\n"
            "Meanwhile, here is the console, which answers exactly as the bot does:\n",
            file=sys.stderr,
        )
        return core_cli.cmd_chat(args, settings)
    from bot.runner import run_bot

    return run_bot(bot_settings)


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runner import sync_commands
    from bot.settings import load_bot_settings

    return sync_commands(load_bot_settings(core=settings), guild_id=args.guild)


def main(argv: Sequence[str] | None = None) -> int:
    return core_cli.main(argv, extensions=[add_discord_commands])


if __name__ == "__main__":
    raise SystemExit(main())
