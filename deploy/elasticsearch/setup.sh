#!/usr/bin/env bash
# One-shot set-up of the Elasticsearch node: a CA and a node certificate, and generated passwords for the
# `elastic` and `kibana_system` users. Idempotent: what exists is kept, so passwords survive restarts.
set -euo pipefail
certs=/usr/share/elasticsearch/config/certs
umask 077
for user in elastic kibana; do
  if [ ! -s "/secrets/$user.pw" ]; then
    head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 > "/secrets/$user.pw"
    echo "generated the $user password (in the es-secrets volume)"
  fi
done
if [ ! -f "$certs/ca.zip" ]; then
  bin/elasticsearch-certutil ca --silent --pem -out "$certs/ca.zip"
  unzip -o -q "$certs/ca.zip" -d "$certs"
fi
if [ ! -f "$certs/certs.zip" ]; then
  printf 'instances:\n  - name: es01\n    dns: [es01, elasticsearch, localhost]\n    ip: [127.0.0.1]\n' > "$certs/instances.yml"
  bin/elasticsearch-certutil cert --silent --pem -out "$certs/certs.zip" --in "$certs/instances.yml" \
    --ca-cert "$certs/ca/ca.crt" --ca-key "$certs/ca/ca.key"
  unzip -o -q "$certs/certs.zip" -d "$certs"
fi
# Readable by the Elasticsearch, Kibana and earful users (uid 1000 / 50000); the CA key stays root-only.
chown -R 1000:0 "$certs" && find "$certs" -type d -exec chmod 755 {} + && find "$certs" -name '*.crt' -exec chmod 644 {} +
chmod 640 "$certs"/es01/es01.key && chmod 600 "$certs"/ca/ca.key
chmod 644 /secrets/*.pw
echo "setup done"
