#!/usr/bin/env bash
# Runs the test suite. Uses PostgreSQL at 127.0.0.1:5432 when one answers, and Debian's Chromium for the browser
# tests when it is installed (or installable, when run as root); tests that need either skip with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin

if [ -z "${EARFUL_TEST_PG_URL:-}" ] && command -v pg_isready >/dev/null 2>&1 \
    && pg_isready -q -h 127.0.0.1 -p 5432 -t 3; then
  export EARFUL_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:5432/test"
fi
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "note: could not install chromium; browser tests will be skipped"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec "$BIN/pytest" "$@"
