#!/usr/bin/env bash
# Creates .venv and installs Verbatim into it, CPU torch first. Safe to run again: it only
# reinstalls when pyproject.toml changed since the last successful install. Says what it is doing,
# on standard error, since the first install takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
say() { echo "verbatim setup: $*" >&2; }
if [ ! -x .venv/bin/python ]; then
  say "creating .venv (first run)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.verbatim-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing into .venv: this takes a few minutes the first time (torch CPU, sentence-transformers, FAISS, discord.py)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  # The CPU build; a looser requirement lets pip pull several GB of CUDA packages.
  say "1/2 torch 2.13.0 (CPU build)"
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  say "2/2 Verbatim and its dependencies"
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  echo "$want" > "$stamp"
  say "installed; next runs start at once"
fi
