#!/usr/bin/env bash
# Refreshes requirements.lock, the exact versions and hashes every install uses, from pyproject.toml.
# Run it after changing a dependency there, and commit both files together (a test checks they agree).
# Torch resolves to the CPU build (2.13.0+cpu) that these machines keep beside pip's index.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra dev \
  --no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml "$@"
echo "requirements.lock refreshed; commit it with pyproject.toml" >&2
