#!/usr/bin/env bash
# Installs on first use, then runs the `verbatim` command line with the arguments given.
# With no arguments: `verbatim run` (the Discord bot, or the console when no token is set).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export HF_HUB_OFFLINE=1
if [ $# -eq 0 ]; then set -- run; fi
exec .venv/bin/verbatim "$@"
