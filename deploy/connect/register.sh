#!/bin/sh
# Creates or updates one Debezium connector from a {"name": ..., "config": {...}} file, then waits
# until the connector and its tasks are RUNNING. PUT /connectors/<name>/config is idempotent.
#   CONNECTOR_FILE (/connector.json)  CONNECT_URL (http://connect:8083)  REGISTER_TIMEOUT (120 s)
# ${NAME:-default} placeholders in the file take the environment's value, else their default.
set -eu

FILE=${CONNECTOR_FILE:-/connector.json}
CONNECT=${CONNECT_URL:-http://connect:8083}
TIMEOUT=${REGISTER_TIMEOUT:-120}
WORK=$(mktemp -d)

# Substitutes placeholders and splits the file into $WORK/name and $WORK/config (the config object).
awk -v out="$WORK" '
  {
    line = $0; res = ""
    while (match(line, /\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}/)) {
      ph = substr(line, RSTART + 2, RLENGTH - 3); name = ph; def = ""; hasdef = 0
      i = index(ph, ":-")
      if (i) { name = substr(ph, 1, i - 1); def = substr(ph, i + 2); hasdef = 1 }
      if (ENVIRON[name] != "") val = ENVIRON[name]
      else if (hasdef) val = def
      else { print "register: " name " is not set and has no default" > "/dev/stderr"; failed = 1; exit 1 }
      res = res substr(line, 1, RSTART - 1) val
      line = substr(line, RSTART + RLENGTH)
    }
    text = text res line "\n"
  }
  END {
    if (failed) exit 1
    # Minimal JSON walk: top-level "name" string and the "config" object, strings and escapes respected.
    n = length(text); depth = 0; instr = 0; esc = 0; aftercolon = 0; cap = 0
    for (i = 1; i <= n; i++) {
      c = substr(text, i, 1)
      if (cap) config = config c
      if (instr) {
        if (esc) { esc = 0; s = s c } else if (c == "\\") { esc = 1; s = s c }
        else if (c == "\"") {
          instr = 0
          if (depth == 1) { if (aftercolon) { if (key == "name") cname = s } else key = s }
        } else s = s c
        continue
      }
      if (c == "\"") { instr = 1; s = "" }
      else if (c == ":" && depth == 1) aftercolon = 1
      else if (c == "," && depth == 1) aftercolon = 0
      else if (c == "{" || c == "[") {
        depth++
        if (depth == 2 && c == "{" && key == "config" && aftercolon) { cap = 1; config = c }
      } else if (c == "}" || c == "]") {
        if (depth == 2 && cap) cap = 0
        depth--
      }
    }
    if (cname == "" || config == "") { print "register: no top-level name and config object" > "/dev/stderr"; exit 1 }
    print cname > (out "/name"); print config > (out "/config")
  }
' "$FILE"
NAME=$(cat "$WORK/name")

# Connect answers 409 while its group rebalances and 5xx while it starts: retry those.
deadline=$(( $(date +%s) + TIMEOUT ))
while :; do
  code=$(curl -sS -o "$WORK/resp" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
    --data-binary "@$WORK/config" "$CONNECT/connectors/$NAME/config") || true
  case $code in
    200|201) echo "register: $NAME submitted (HTTP $code)"; break ;;
    000|409|5??) ;;
    *) echo "register: $NAME rejected (HTTP $code)" >&2; cat "$WORK/resp" >&2; echo >&2; exit 1 ;;
  esac
  [ "$(date +%s)" -lt "$deadline" ] || { echo "register: Connect not accepting configs (HTTP $code)" >&2; exit 1; }
  sleep 2
done

# RUNNING means the connector and at least one task report RUNNING; any FAILED stops the wait.
while :; do
  states=$(curl -fsS "$CONNECT/connectors/$NAME/status" 2>/dev/null | grep -o '"state":"[A-Z]*"' | cut -d'"' -f4 | tr '\n' ' ' || true)
  case " $states" in
    *" FAILED "*) echo "register: $NAME failed: $states" >&2; curl -fsS "$CONNECT/connectors/$NAME/status" >&2 || true; exit 1 ;;
  esac
  running=$(echo "$states" | tr ' ' '\n' | grep -c '^RUNNING$' || true)
  others=$(echo "$states" | tr ' ' '\n' | grep -v -e '^RUNNING$' -e '^$' | wc -l)
  if [ "$running" -ge 2 ] && [ "$others" -eq 0 ]; then echo "register: $NAME RUNNING"; exit 0; fi
  [ "$(date +%s)" -lt "$deadline" ] || { echo "register: $NAME not RUNNING after ${TIMEOUT}s: $states" >&2; exit 1; }
  sleep 2
done
