#!/usr/bin/env bash
# Creates .venv and installs exactly requirements.lock into it (every package at its locked version,
# checked against its hash; torch is the CPU build), then Verbatim itself. Safe to run again: it only
# reinstalls when pyproject.toml or the lock changed since the last successful install. Says what it is
# doing, on standard error, since the first install takes a few minutes. scripts/lock.sh refreshes
# the lock after a dependency changes in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
say() { echo "verbatim setup: $*" >&2; }
if [ ! -x .venv/bin/python ]; then
  say "creating .venv (first run)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.verbatim-installed
want=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing the locked dependencies into .venv: a few minutes the first time (torch CPU, sentence-transformers, FAISS, discord.py)"
  # --require-hashes: every package at the version and with the hash the lock names, nothing resolved afresh.
  .venv/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
  say "installing Verbatim itself"
  .venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
  .venv/bin/python -m pip check >&2
  echo "$want" > "$stamp"
  say "installed; next runs start at once"
fi
