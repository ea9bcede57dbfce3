#!/usr/bin/env bash
# First start of PostgreSQL: the earful records database and its own user, next to Airflow's metadata database.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v pw="$EARFUL_DB_PASSWORD" <<'SQL'
CREATE USER earful WITH PASSWORD :'pw';
CREATE DATABASE earful OWNER earful;
SQL
