#!/usr/bin/env bash
# The whole test command: install (exactly requirements.lock), lint, type-check, test. CI runs exactly
# this, in a new, empty .venv. `scripts/test.sh --fast [PYTEST ARGS]` is the edit loop: lint and every
# test but those that load the real model (about half a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export HF_HUB_OFFLINE=1
if [ "${1:-}" = "--fast" ]; then
  shift
  .venv/bin/ruff check .
  exec .venv/bin/pytest -q -m "not model" "$@"
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest -q "$@"
