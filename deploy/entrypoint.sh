#!/usr/bin/env bash
# Entrypoint of the earful image: secrets from files, empty optional variables dropped, then the command.
set -euo pipefail
if [ -n "${EARFUL_INDEX__PASSWORD_FILE:-}" ]; then
  if [ -r "$EARFUL_INDEX__PASSWORD_FILE" ]; then
    EARFUL_INDEX__PASSWORD="$(cat "$EARFUL_INDEX__PASSWORD_FILE")"
    export EARFUL_INDEX__PASSWORD
  fi
  unset EARFUL_INDEX__PASSWORD_FILE  # not a settings key: unknown keys are errors
fi
# An empty EARFUL_* variable (an optional secret left blank in .env) would count as set: drop it.
for name in $(compgen -e | grep '^EARFUL_' || true); do
  [ -z "${!name}" ] && unset "$name"
done
exec "$@"
