#!/usr/bin/env bash
# Manage the Debezium connectors of the local stack through the Kafka Connect REST API.
#
#   scripts/connector.sh register json|avro   create or update debezium/mariadb-<kind>.json, wait until RUNNING
#   scripts/connector.sh status <name>
#   scripts/connector.sh delete <name>
#
# Placeholders ${NAME:-default} in the config files are filled from the environment
# (FERRY_TOPIC_PARTITIONS=12, FERRY_MARIADB_PORT=3307, FERRY_KAFKA_SASL_SSL_PORT=9094, FERRY_REGISTRY_PORT=8081,
# FERRY_STACK_DIR=.stack, whose tls/ca.pem Connect trusts).
# FERRY_CONNECT_URL (http://127.0.0.1:8083), FERRY_CONNECTOR_TIMEOUT (120 s).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export FERRY_STACK_DIR=${FERRY_STACK_DIR:-$ROOT/.stack}
CONNECT=${FERRY_CONNECT_URL:-http://127.0.0.1:${FERRY_CONNECT_PORT:-8083}}
TIMEOUT=${FERRY_CONNECTOR_TIMEOUT:-120}

die() { echo "connector: $*" >&2; exit 1; }
usage() { echo "usage: $0 register json|avro | status <name> | delete <name>" >&2; exit 2; }

# Prints "<name>\n<config json>" for a connector file, placeholders substituted.
render() {
  node -e '
    const fs = require("fs");
    const text = fs.readFileSync(process.argv[1], "utf8").replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (m, k, d) => {
      const v = process.env[k] ?? d;
      if (v === undefined) { console.error(`connector: ${k} is not set and has no default`); process.exit(1); }
      return v;
    });
    const c = JSON.parse(text);
    console.log(c.name);
    console.log(JSON.stringify(c.config));
  ' "$1"
}

# "<verdict> <connector state> <task states...>"; verdict is RUNNING (connector and >=1 task, all
# RUNNING), FAILED (any of them failed) or WAIT. Empty if Connect has no status yet.
states() {
  curl -fsS "$CONNECT/connectors/$1/status" 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);
      const all=[j.connector.state, ...j.tasks.map(t=>t.state)];
      const v=all.includes("FAILED")?"FAILED":(j.tasks.length&&all.every(x=>x==="RUNNING")?"RUNNING":"WAIT");
      console.log([v, ...all].join(" "))})' 2>/dev/null || true
}

register() {
  local kind=$1 file out name config code st deadline
  file=$ROOT/debezium/mariadb-$kind.json
  [[ -f $file ]] || die "no such config: $file"
  out=$(render "$file") || exit 1
  name=$(head -n1 <<<"$out"); config=$(tail -n +2 <<<"$out")
  # PUT .../config creates or updates, so registering twice is harmless.
  code=$(curl -sS -o /tmp/ferry-connector.$$ -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
    --data "$config" "$CONNECT/connectors/$name/config") || die "Kafka Connect is not reachable at $CONNECT"
  if [[ $code != 20[01] ]]; then
    cat /tmp/ferry-connector.$$ >&2; echo >&2; rm -f /tmp/ferry-connector.$$
    die "registering $name failed (HTTP $code)"
  fi
  rm -f /tmp/ferry-connector.$$
  echo "connector: $name submitted (HTTP $code), waiting for RUNNING"
  deadline=$((SECONDS + TIMEOUT))
  while ((SECONDS < deadline)); do
    st=$(states "$name")
    case $st in
      FAILED*)
        curl -sS "$CONNECT/connectors/$name/status" >&2; echo >&2
        die "$name failed" ;;
      RUNNING*) echo "connector: $name RUNNING (connector+tasks: ${st#RUNNING })"; return 0 ;;
    esac
    sleep 1
  done
  curl -sS "$CONNECT/connectors/$name/status" >&2 || true; echo >&2
  die "$name not RUNNING after ${TIMEOUT}s (last state: ${st:-unknown})"
}

case ${1:-} in
  register)
    [[ ${2:-} == json || ${2:-} == avro ]] || usage
    register "$2" ;;
  status)
    [[ -n ${2:-} ]] || usage
    curl -fsS "$CONNECT/connectors/$2/status" || die "no status for $2"; echo ;;
  delete)
    [[ -n ${2:-} ]] || usage
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$CONNECT/connectors/$2")
    case $code in 204) echo "connector: $2 deleted" ;; 404) echo "connector: $2 does not exist" ;; *) die "delete $2: HTTP $code" ;; esac ;;
  *) usage ;;
esac
