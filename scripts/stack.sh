#!/usr/bin/env bash
# Local ferry stack without Docker: MariaDB, Kafka (KRaft), Kafka Connect + Debezium,
# Apicurio Registry (Confluent-compatible API), DynamoDB Local and Toxiproxy (the fault proxy
# benchmarks and fault tests put in front of a server), all on 127.0.0.1.
#
#   scripts/stack.sh up [component]      install what is missing, start everything (or one), wait until ready
#   scripts/stack.sh down [--purge]      stop what we started (--purge also deletes data, keeps the cache)
#   scripts/stack.sh stop <component> [--kill]   stop one component, with SIGTERM or SIGKILL (fault tests)
#   scripts/stack.sh reset               same as down --purge
#   scripts/stack.sh status              one line per component
#   scripts/stack.sh logs [component] [-f]
#
# Ports: FERRY_MARIADB_PORT (3307) FERRY_KAFKA_PORT (9092) FERRY_KAFKA_CONTROLLER_PORT (9093)
#        FERRY_KAFKA_SASL_SSL_PORT (9094: TLS + SCRAM-SHA-512 or OAUTHBEARER) FERRY_KAFKA_MTLS_PORT (9095: mTLS)
#        FERRY_CONNECT_PORT (8083) FERRY_REGISTRY_PORT (8081) FERRY_DYNAMODB_PORT (8000)
#        FERRY_TOXIPROXY_PORT (8474, its API; the proxies it serves are created by their users)
# Other: FERRY_STACK_DIR (.stack), FERRY_STACK_TIMEOUT (180 s per component)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TPL=$ROOT/scripts/stack
export STACK_DIR=${FERRY_STACK_DIR:-$ROOT/.stack}
export STACK_CACHE=$STACK_DIR/cache

export FERRY_MARIADB_PORT=${FERRY_MARIADB_PORT:-3307}
export FERRY_KAFKA_PORT=${FERRY_KAFKA_PORT:-9092}
export FERRY_KAFKA_CONTROLLER_PORT=${FERRY_KAFKA_CONTROLLER_PORT:-9093}
export FERRY_KAFKA_SASL_SSL_PORT=${FERRY_KAFKA_SASL_SSL_PORT:-9094}
export FERRY_KAFKA_MTLS_PORT=${FERRY_KAFKA_MTLS_PORT:-9095}
export FERRY_CONNECT_PORT=${FERRY_CONNECT_PORT:-8083}
export FERRY_REGISTRY_PORT=${FERRY_REGISTRY_PORT:-8081}
export FERRY_DYNAMODB_PORT=${FERRY_DYNAMODB_PORT:-8000}
export FERRY_TOXIPROXY_PORT=${FERRY_TOXIPROXY_PORT:-8474}
TOXIPROXY_VERSION=v2.12.0
TIMEOUT=${FERRY_STACK_TIMEOUT:-180}

COMPONENTS=(mariadb kafka connect registry dynamodb toxiproxy)
# Fast JVM startup and a small footprint; these are dev servers.
JVM_OPTS=(-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true)
TOOL_JVM=(java -Xmx128m "${JVM_OPTS[@]}" -Dlog4j.configuration="file:$TPL/log4j-tools.properties")
ME=$(id -un)
MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)

say() { echo "stack: $*"; }
die() { echo "stack: $*" >&2; exit 1; }

port_of() {
  case $1 in
    mariadb) echo "$FERRY_MARIADB_PORT" ;; kafka) echo "$FERRY_KAFKA_PORT" ;;
    connect) echo "$FERRY_CONNECT_PORT" ;; registry) echo "$FERRY_REGISTRY_PORT" ;;
    dynamodb) echo "$FERRY_DYNAMODB_PORT" ;; toxiproxy) echo "$FERRY_TOXIPROXY_PORT" ;;
  esac
}
log_of() { echo "$STACK_DIR/$1/$1.log"; }
pid_file() { echo "$STACK_DIR/$1/$1.pid"; }

# A pid counts as ours only if it is alive and its command line points into $STACK_DIR. A process
# in the middle of an exec (setsid, then the server) can show an empty command line for a moment:
# a live pid is looked at three times before it is called someone else's.
is_ours() {
  local i
  [[ -n ${1:-} ]] || return 1
  for ((i = 0; i < 3; i++)); do
    kill -0 "$1" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$STACK_DIR/" && return 0
    sleep 0.2
  done
  return 1
}

running_pid() {
  local f pid
  f=$(pid_file "$1")
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  if is_ours "$pid"; then echo "$pid"; return 0; fi
  rm -f "$f"  # stale
  return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Fill ${VAR} placeholders of a template with the stack variables only (pure bash, no envsubst needed).
render() {
  local line v
  while IFS= read -r line || [[ -n $line ]]; do
    for v in STACK_DIR STACK_CACHE FERRY_MARIADB_PORT FERRY_KAFKA_PORT FERRY_KAFKA_CONTROLLER_PORT \
      FERRY_KAFKA_SASL_SSL_PORT FERRY_KAFKA_MTLS_PORT FERRY_CONNECT_PORT FERRY_REGISTRY_PORT FERRY_DYNAMODB_PORT; do
      line=${line//"\${$v}"/${!v}}
    done
    printf '%s\n' "$line"
  done <"$1" >"$2"
}

# Start a server detached from this shell (own session), append its output to the log, record its pid.
launch() {
  local c=$1 cwd=$2; shift 2
  local log; log=$(log_of "$c")
  echo "----- $(date -Is) starting $c -----" >>"$log"
  ( cd "$cwd" && exec setsid "$@" >>"$log" 2>&1 </dev/null ) &
  local pid=$! i
  echo "$pid" >"$(pid_file "$c")"
  # Until exec happens the child still looks like this shell; wait so is_ours() sees the server.
  for ((i = 0; i < 50; i++)); do is_ours "$pid" || ! kill -0 "$pid" 2>/dev/null && return 0; sleep 0.1; done
}

# Poll check_<component> until it passes, the process dies, or the deadline passes.
wait_ready() {
  local c=$1 deadline=$((SECONDS + TIMEOUT))
  while ((SECONDS < deadline)); do
    running_pid "$c" >/dev/null || { echo "process exited" >>"$(log_of "$c")"; return 1; }
    "check_$c" && return 0
    sleep 1
  done
  echo "stack: not ready after ${TIMEOUT}s" >>"$(log_of "$c")"
  return 1
}

# ---------------------------------------------------------------- install

install_mariadb_pkg() {
  [[ -x $MARIADBD ]] && command -v mariadb-install-db >/dev/null && command -v mariadb >/dev/null && return 0
  say "installing mariadb-server and mariadb-client with apt"
  local sudo=(); [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  # Forbid the package from starting the system service; we run our own mariadbd.
  local policy=/usr/sbin/policy-rc.d added=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod +x "$policy"; added=1
  fi
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q mariadb-server mariadb-client || { ((added)) && "${sudo[@]}" rm -f "$policy"; return 1; }
  ((added)) && "${sudo[@]}" rm -f "$policy"
  MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)
}

mvn_fetch() {
  local log=$STACK_CACHE/maven.log
  mvn -B -f "$TPL/pom.xml" -Dstack.cache="$STACK_CACHE" "$@" >"$log" 2>&1 ||
    { tail -n 40 "$log" >&2; die "maven download failed (see ${log#"$ROOT"/})"; }
}

# Download Kafka, Debezium, the Apicurio server + converter and DynamoDB Local into the cache.
# Each part has a .complete marker holding the POM's hash, so a warm start makes no Maven call
# at all and a changed version is downloaded again.
POM_HASH=$(sha256sum "$TPL/pom.xml" | cut -c1-16)
complete() { [[ $(cat "$STACK_CACHE/$1/.complete" 2>/dev/null) == "$POM_HASH" ]]; }
mark_complete() { local part; for part in "$@"; do echo "$POM_HASH" >"$STACK_CACHE/$part/.complete"; done; }

install_artifacts() {
  local todo=0 part
  for part in kafka/libs plugins/debezium-connector-mariadb plugins/apicurio-converter apicurio dynamodb; do
    complete "$part" || todo=1
  done
  ((todo)) || return 0
  command -v mvn >/dev/null || die "mvn is required to download the stack into $STACK_CACHE"
  mkdir -p "$STACK_CACHE"
  if ! complete kafka/libs; then
    say "downloading Kafka + Connect (Maven)"
    rm -rf "$STACK_CACHE/kafka/libs"; mvn_fetch -P kafka dependency:copy-dependencies
    mark_complete kafka/libs
  fi
  if ! complete plugins/debezium-connector-mariadb || ! complete apicurio; then
    say "downloading Debezium MariaDB connector + Apicurio Registry (Maven)"
    rm -rf "$STACK_CACHE/plugins/debezium-connector-mariadb" "$STACK_CACHE/apicurio"; mvn_fetch dependency:unpack
    mark_complete plugins/debezium-connector-mariadb apicurio
  fi
  if ! complete plugins/apicurio-converter; then
    say "downloading Apicurio converter (Maven)"
    rm -rf "$STACK_CACHE/plugins/apicurio-converter"; mvn_fetch -P converter dependency:copy-dependencies
    mark_complete plugins/apicurio-converter
  fi
  if ! complete dynamodb; then
    say "downloading DynamoDB Local (Maven)"
    local d=$STACK_CACHE/dynamodb
    rm -rf "$d"; mvn_fetch -P dynamodb dependency:copy-dependencies
    mkdir -p "$d/native" "$d/classes"
    local ver; ver=$(basename "$(ls "$d"/lib/sqlite4java-[0-9]*.jar)" .jar); ver=${ver#sqlite4java-}
    if ! ls "$d"/lib/libsqlite4java-linux-amd64*.so >/dev/null 2>&1; then
      mvn_fetch dependency:copy -Dartifact="com.almworks.sqlite4java:libsqlite4java-linux-amd64:$ver:so" -DoutputDirectory="$d/lib"
    fi
    # sqlite4java looks for the versioned and the plain name; provide both.
    mv "$d"/lib/libsqlite4java-linux-amd64*.so "$d/native/libsqlite4java-linux-amd64-$ver.so"
    ln -sf "libsqlite4java-linux-amd64-$ver.so" "$d/native/libsqlite4java-linux-amd64.so"
    rm -f "$d"/lib/*.so "$d"/lib/*.dll "$d"/lib/*.dylib
    mark_complete dynamodb
  fi
  rm -rf "$STACK_CACHE/mvn-target"
}

# Toxiproxy is a Go module: built once from the Go module proxy into the cache.
build_toxiproxy() {
  local bin=$STACK_CACHE/toxiproxy/toxiproxy-$TOXIPROXY_VERSION
  [[ -x $bin ]] && return 0
  command -v go >/dev/null || die "go is required to build Toxiproxy into $STACK_CACHE"
  say "building Toxiproxy $TOXIPROXY_VERSION (Go module proxy)"
  mkdir -p "$STACK_CACHE/toxiproxy"
  GOPATH=$STACK_CACHE/go GOMODCACHE=$STACK_CACHE/go/mod GOBIN=$STACK_CACHE/toxiproxy/bin GOFLAGS=-modcacherw \
    go install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION"
  mv "$STACK_CACHE/toxiproxy/bin/server" "$bin"
}

# DynamoDB Local has no bind-address option; a tiny launcher binds its Jetty to 127.0.0.1.
build_dynamodb_launcher() {
  local src=$TPL/DynamoDbLocalLoopback.java out=$STACK_CACHE/dynamodb/classes
  [[ $out/DynamoDbLocalLoopback.class -nt $src ]] && return 0
  mkdir -p "$out"
  javac -nowarn -d "$out" -cp "$STACK_CACHE/dynamodb/lib/*" "$src"
}

# ---------------------------------------------------------------- mariadb

MYSQL_ADMIN=(mariadb --no-defaults --default-character-set=utf8mb4 -S "$STACK_DIR/mariadb/mariadb.sock" -u "$ME")

check_mariadb() {
  mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P "$FERRY_MARIADB_PORT" -u ferry -pferry -N -e 'SELECT 1' >/dev/null 2>&1
}

# Users are (re)asserted on every start. Debezium writes incremental-snapshot watermarks into
# the signalling table; ferry reads the binlog position for verify --repair.
# the sample DB is loaded only when missing.
bootstrap_mariadb() {
  local host sql=""
  for host in 127.0.0.1 localhost; do
    sql+="CREATE USER IF NOT EXISTS 'ferry_cdc'@'$host' IDENTIFIED BY 'ferry_cdc';
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR, LOCK TABLES ON *.* TO 'ferry_cdc'@'$host';
GRANT INSERT, DELETE ON \`inventory\`.* TO 'ferry_cdc'@'$host';
GRANT INSERT, DELETE ON \`ferry\\_test%\`.* TO 'ferry_cdc'@'$host';
CREATE USER IF NOT EXISTS 'ferry'@'$host' IDENTIFIED BY 'ferry';
GRANT ALL PRIVILEGES ON \`inventory\`.* TO 'ferry'@'$host';
GRANT ALL PRIVILEGES ON \`ferry\\_test%\`.* TO 'ferry'@'$host';
GRANT BINLOG MONITOR ON *.* TO 'ferry'@'$host';
"
  done
  "${MYSQL_ADMIN[@]}" -e "$sql FLUSH PRIVILEGES;" || return 1
  local have; have=$("${MYSQL_ADMIN[@]}" -N -e "SHOW DATABASES LIKE 'inventory'") || return 1
  if [[ -z $have ]]; then
    echo "loading scripts/sql/inventory.sql"
    "${MYSQL_ADMIN[@]}" <"$ROOT/scripts/sql/inventory.sql" || return 1
  fi
}

start_mariadb() {
  local d=$STACK_DIR/mariadb
  render "$TPL/my.cnf" "$d/my.cnf"
  if [[ ! -d $d/data/mysql ]]; then
    rm -rf "$d/data"
    mariadb-install-db --defaults-file="$d/my.cnf" --user="$ME" --auth-root-authentication-method=socket \
      --skip-test-db >>"$(log_of mariadb)" 2>&1 || return 1
  fi
  launch mariadb "$d" "$MARIADBD" --defaults-file="$d/my.cnf" --user="$ME"
  local deadline=$((SECONDS + TIMEOUT))
  until "${MYSQL_ADMIN[@]}" -N -e 'SELECT 1' >/dev/null 2>&1; do
    running_pid mariadb >/dev/null && ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
  bootstrap_mariadb >>"$(log_of mariadb)" 2>&1
}

# ---------------------------------------------------------------- kafka

check_kafka() {
  port_open "$FERRY_KAFKA_PORT" &&
    "${TOOL_JVM[@]}" -cp "$STACK_CACHE/kafka/libs/*" kafka.admin.BrokerApiVersionsCommand \
      --bootstrap-server "127.0.0.1:$FERRY_KAFKA_PORT" >/dev/null 2>&1 &&
    scram_users
}

# The SCRAM users of the SASL_SSL listener (KAFKA_USERS), once per data dir.
KAFKA_USERS=(ferry:ferry-secret connect:connect-secret)
scram_users() {
  local marker=$STACK_DIR/kafka/data/.scram-users user
  [[ -f $marker ]] && return 0
  for user in "${KAFKA_USERS[@]}"; do
    "${TOOL_JVM[@]}" -cp "$STACK_CACHE/kafka/libs/*" kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$FERRY_KAFKA_PORT" \
      --alter --entity-type users --entity-name "${user%%:*}" --add-config "SCRAM-SHA-512=[password=${user#*:}]" \
      >>"$(log_of kafka)" 2>&1 || return 1
  done
  touch "$marker"
}

# A local CA, the broker's certificate (127.0.0.1, localhost) and a client certificate (CN=ferry), for
# the TLS listeners; made once with openssl. The CA also as a PKCS#12 trust store (password ferry-trust).
make_certificates() {
  local d=$STACK_DIR/tls
  mkdir -p "$d"
  (
    cd "$d"
    # Java's trust store of the CA, for clients that read no PEM (Apicurio's registry client in Connect).
    trust_store() { [[ -f ca.p12 ]] || keytool -importcert -noprompt -alias ferry-ca -file ca.pem -keystore ca.p12 -storetype PKCS12 -storepass ferry-trust; }
    [[ -f broker-keystore.pem && -f client.pem ]] && { trust_store; exit; }
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=ferry local CA' -keyout ca.key -out ca.pem
    local name subj ext
    for name in broker client; do
      if [[ $name == broker ]]; then subj=/CN=127.0.0.1 ext='subjectAltName=IP:127.0.0.1,DNS:localhost'; else subj=/CN=ferry ext='extendedKeyUsage=clientAuth'; fi
      openssl req -newkey rsa:2048 -nodes -subj "$subj" -keyout "$name.key" -out "$name.csr"
      openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -extfile <(echo "$ext") -out "$name.pem"
    done
    # Kafka's PEM key store: the key (PKCS#8) and the certificate chain in one file.
    cat broker.key broker.pem ca.pem >broker-keystore.pem
    rm -f ./*.csr ca.srl
    trust_store
  ) >>"$(log_of kafka)" 2>&1
}

start_kafka() {
  local d=$STACK_DIR/kafka
  make_certificates || return 1
  render "$TPL/server.properties" "$d/server.properties"
  if [[ ! -f $d/data/meta.properties ]]; then
    # KRaft needs a formatted log dir; the cluster id is 16 random bytes, base64url.
    local id; id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    "${TOOL_JVM[@]}" -cp "$STACK_CACHE/kafka/libs/*" kafka.tools.StorageTool format \
      -t "$id" -c "$d/server.properties" --ignore-formatted >>"$(log_of kafka)" 2>&1 || return 1
  fi
  launch kafka "$d" java -Xms256m -Xmx"${FERRY_KAFKA_HEAP:-512m}" "${JVM_OPTS[@]}" \
    -Dlog4j.configuration="file:$TPL/log4j.properties" -Dkafka.logs.dir="$d" \
    -cp "$STACK_CACHE/kafka/libs/*" kafka.Kafka "$d/server.properties"
}

# ---------------------------------------------------------------- connect

check_connect() {
  local base=http://127.0.0.1:$FERRY_CONNECT_PORT
  curl -fsS -o /dev/null "$base/connectors" 2>/dev/null &&
    curl -fsS "$base/connector-plugins" 2>/dev/null | grep -q 'io.debezium.connector.mariadb.MariaDbConnector'
}

start_connect() {
  local d=$STACK_DIR/connect
  render "$TPL/connect-distributed.properties" "$d/connect-distributed.properties"
  launch connect "$d" java -Xms256m -Xmx"${FERRY_CONNECT_HEAP:-768m}" "${JVM_OPTS[@]}" \
    -Dlog4j.configuration="file:$TPL/log4j.properties" -Dkafka.logs.dir="$d" \
    -cp "$STACK_CACHE/kafka/libs/*" org.apache.kafka.connect.cli.ConnectDistributed "$d/connect-distributed.properties"
}

# ---------------------------------------------------------------- registry

check_registry() {
  curl -fsS -o /dev/null "http://127.0.0.1:$FERRY_REGISTRY_PORT/apis/ccompat/v7/subjects" 2>/dev/null
}

start_registry() {
  local d=$STACK_DIR/registry jar
  mkdir -p "$d/config"
  # Quarkus reads ./config/application.properties from the working directory.
  render "$TPL/registry.properties" "$d/config/application.properties"
  jar=$(ls "$STACK_CACHE"/apicurio/apicurio-registry-app-*-runner.jar)
  launch registry "$d" java -Xmx"${FERRY_REGISTRY_HEAP:-384m}" "${JVM_OPTS[@]}" \
    -Djava.util.logging.manager=org.jboss.logmanager.LogManager -jar "$jar"
}

# ---------------------------------------------------------------- dynamodb

check_dynamodb() {
  # Any JSON answer from the server (even a 400 about the missing signature) means it is up.
  curl -sS -X POST -H 'X-Amz-Target: DynamoDB_20120810.ListTables' -H 'Content-Type: application/x-amz-json-1.0' \
    -d '{}' "http://127.0.0.1:$FERRY_DYNAMODB_PORT/" 2>/dev/null | grep -q '^{'
}

start_dynamodb() {
  local d=$STACK_DIR/dynamodb c=$STACK_CACHE/dynamodb
  launch dynamodb "$d" java -Xmx"${FERRY_DYNAMODB_HEAP:-384m}" "${JVM_OPTS[@]}" \
    -Djava.library.path="$c/native" -cp "$c/classes:$c/lib/*" DynamoDbLocalLoopback \
    -inMemory -sharedDb -port "$FERRY_DYNAMODB_PORT" -disableTelemetry
}

check_toxiproxy() { curl -sf "http://127.0.0.1:$FERRY_TOXIPROXY_PORT/version" >/dev/null; }

start_toxiproxy() {
  launch toxiproxy "$STACK_DIR/toxiproxy" env LOG_LEVEL=info "$STACK_CACHE/toxiproxy/toxiproxy-$TOXIPROXY_VERSION" \
    -host 127.0.0.1 -port "$FERRY_TOXIPROXY_PORT"
}

# ---------------------------------------------------------------- commands

# Start one component (unless already running) and wait until it is really ready.
up_one() {
  local c=$1 t0=$SECONDS port
  mkdir -p "$STACK_DIR/$c"
  rm -f "$STACK_DIR/$c/.ready"
  if running_pid "$c" >/dev/null; then
    wait_ready "$c" || return 1
    say "$c already running (pid $(running_pid "$c"))"
  else
    port=$(port_of "$c")
    if port_open "$port"; then
      echo "stack: port $port is already in use by a process this script did not start" >>"$(log_of "$c")"
      return 1
    fi
    "start_$c" || return 1
    wait_ready "$c" || return 1
    say "$c ready in $((SECONDS - t0))s (pid $(running_pid "$c"), 127.0.0.1:$port)"
  fi
  touch "$STACK_DIR/$c/.ready"
}

cmd_up() {
  local t0=$SECONDS c failed=0
  command -v java >/dev/null || die "java (17+) is required"
  install_mariadb_pkg
  install_artifacts
  build_dynamodb_launcher
  build_toxiproxy
  if [[ -n ${1:-} ]]; then
    known_component "$1"
    up_one "$1" || { tail -n 30 "$(log_of "$1")" | sed 's/^/    /'; die "$1 failed to start"; }
    return
  fi
  declare -A jobs
  for c in mariadb kafka registry dynamodb toxiproxy; do
    up_one "$c" & jobs[$c]=$!
  done
  # Connect stores its state in Kafka, so it starts once the broker answers.
  (
    while [[ ! -f $STACK_DIR/kafka/.ready ]]; do
      kill -0 "${jobs[kafka]}" 2>/dev/null || { mkdir -p "$STACK_DIR/connect"; echo "stack: kafka did not start" >>"$(log_of connect)"; exit 1; }
      sleep 0.5
    done
    up_one connect
  ) & jobs[connect]=$!
  for c in "${COMPONENTS[@]}"; do
    if ! wait "${jobs[$c]}"; then
      failed=1
      echo "stack: $c failed to start (see ${STACK_DIR#"$ROOT"/}/$c/$c.log)"
      tail -n 30 "$(log_of "$c")" 2>/dev/null | sed 's/^/    /'
    fi
  done
  ((failed)) && exit 1
  cat <<EOF
stack: up in $((SECONDS - t0))s
  MariaDB         127.0.0.1:$FERRY_MARIADB_PORT  (ferry/ferry, ferry_cdc/ferry_cdc; root via socket $STACK_DIR/mariadb/mariadb.sock)
  Kafka           127.0.0.1:$FERRY_KAFKA_PORT  (TLS + SCRAM-SHA-512 ferry/ferry-secret or OAUTHBEARER: :$FERRY_KAFKA_SASL_SSL_PORT; mTLS: :$FERRY_KAFKA_MTLS_PORT; CA $STACK_DIR/tls/ca.pem)
  Kafka Connect   http://127.0.0.1:$FERRY_CONNECT_PORT
  Registry        http://127.0.0.1:$FERRY_REGISTRY_PORT/apis/ccompat/v7  (Apicurio API: /apis/registry/v2)
  DynamoDB Local  http://127.0.0.1:$FERRY_DYNAMODB_PORT
  Toxiproxy API   http://127.0.0.1:$FERRY_TOXIPROXY_PORT
EOF
}

stop_pid() {
  local c=$1 pid=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  say "$c (pid $pid) did not stop in 30s, killing"
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_down() {
  local c pid purge=0
  [[ ${1:-} == --purge ]] && purge=1
  # The demo worker (scripts/demo.sh) stops first, so it commits what it wrote while Kafka is up.
  pid=$(cat "$STACK_DIR/worker/worker.pid" 2>/dev/null || true)
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then stop_pid worker "$pid"; say "worker stopped"; fi
  # Connect first (it writes to Kafka), the rest in parallel.
  if pid=$(running_pid connect); then stop_pid connect "$pid"; say "connect stopped"; fi
  for c in kafka registry dynamodb mariadb toxiproxy; do
    if pid=$(running_pid "$c"); then (stop_pid "$c" "$pid"; say "$c stopped") & fi
  done
  wait
  rm -f "$STACK_DIR"/*/*.pid "$STACK_DIR"/*/.ready
  # Leftovers from a lost pid file still carry a .stack path in their command line.
  for pid in $(pgrep -f "$STACK_DIR/" || true); do
    is_ours "$pid" && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == @(java|mariadbd|toxiproxy-*) ]] || continue
    say "stopping leftover process $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-100)"
    stop_pid leftover "$pid"
  done
  if ((purge)); then
    for c in "${COMPONENTS[@]}"; do rm -rf "${STACK_DIR:?}/$c"; done
    say "data removed (cache kept in $STACK_CACHE)"
  fi
}

cmd_stop() {
  local c=${1:-} pid
  known_component "$c"
  pid=$(running_pid "$c") || { say "$c is not running"; return 0; }
  rm -f "$STACK_DIR/$c/.ready"
  if [[ ${2:-} == --kill ]]; then
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    say "$c killed"
  else
    stop_pid "$c" "$pid"
    say "$c stopped"
  fi
}

known_component() { [[ " ${COMPONENTS[*]} " == *" ${1:-} "* ]] || die "unknown component '${1:-}' (${COMPONENTS[*]})"; }

cmd_status() {
  local c pid
  for c in "${COMPONENTS[@]}"; do
    if pid=$(running_pid "$c"); then
      printf '%-9s running  pid %-7s 127.0.0.1:%s\n' "$c" "$pid" "$(port_of "$c")"
    else
      printf '%-9s stopped  %-11s 127.0.0.1:%s\n' "$c" "" "$(port_of "$c")"
    fi
  done
}

cmd_logs() {
  local c=${1:-} follow=()
  [[ ${2:-} == -f || ${1:-} == -f ]] && follow=(-f)
  [[ $c == -f ]] && c=""
  if [[ -n $c ]]; then
    known_component "$c"
    tail -n "${FERRY_LOG_LINES:-100}" "${follow[@]}" "$(log_of "$c")"
  else
    local files=()
    for c in "${COMPONENTS[@]}"; do [[ -f $(log_of "$c") ]] && files+=("$(log_of "$c")"); done
    ((${#files[@]})) || die "no logs yet in $STACK_DIR"
    tail -n "${FERRY_LOG_LINES:-20}" "${follow[@]}" "${files[@]}"
  fi
}

case ${1:-} in
  up) cmd_up "${2:-}" ;;
  down) cmd_down "${2:-}" ;;
  stop) cmd_stop "${2:-}" "${3:-}" ;;
  reset) cmd_down --purge ;;
  status) cmd_status ;;
  logs) shift; cmd_logs "$@" ;;
  *) echo "usage: $0 up [component] | down [--purge] | stop <component> [--kill] | reset | status | logs [component] [-f]" >&2; exit 2 ;;
esac
