#!/usr/bin/env bash
# Load earful's Kibana saved objects (data view + dashboard) into the running Kibana; overwrite: safe to re-run.
set -euo pipefail
kibana="${1:-http://kibana:5601}"
here="$(cd "$(dirname "$0")" && pwd)"
password="${ELASTIC_PASSWORD:-$(cat /secrets/elastic.pw)}"
for attempt in $(seq 1 60); do
  code=$(curl -s -o /tmp/import.json -w '%{http_code}' -u "elastic:$password" -H 'kbn-xsrf: true' \
    -X POST "$kibana/api/saved_objects/_import?overwrite=true" --form file=@"$here/earful.ndjson" || true)
  if [ "$code" = 200 ] && grep -q '"success":true' /tmp/import.json; then
    echo "Kibana saved objects loaded"
    exit 0
  fi
  sleep 5
done
echo "could not load the Kibana saved objects (last HTTP status $code):" >&2
cat /tmp/import.json >&2 || true
exit 1
