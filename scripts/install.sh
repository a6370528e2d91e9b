#!/usr/bin/env bash
# Creates .venv (if missing) and installs the project with its test tools. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]" 2> >(grep -v "^WARNING: Location" >&2)
# Azurite (the Azure Blob emulator the tests start) comes from npm.
if command -v npm >/dev/null 2>&1; then
  if [ ! -x node_modules/.bin/azurite ] || [ package.json -nt node_modules/.package-lock.json ]; then
    npm install --silent --no-audit --no-fund >/dev/null
  fi
else
  echo "WARNING: npm is missing; the Azure deletion tests need Azurite (npm install)" >&2
fi
