#!/usr/bin/env bash
# Quick start: installs what is missing, starts the local stack, registers the Debezium connector,
# runs the worker for mappings/customers.ts and shows rows arriving in DynamoDB.
# The worker keeps running in the background; `scripts/stack.sh down` stops it with the stack.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
# Node 24 from node_modules (see setup.sh), for this script and everything it starts.
export PATH="$PWD/node_modules/.bin:$PATH"
bash scripts/stack.sh up
bash scripts/connector.sh register json

dir=.stack/worker
mkdir -p "$dir"
if [[ -f $dir/worker.pid ]] && kill -0 "$(<"$dir/worker.pid")" 2>/dev/null; then
  echo "demo: stopping the previous demo worker"
  kill -TERM "$(<"$dir/worker.pid")"
  while kill -0 "$(<"$dir/worker.pid")" 2>/dev/null; do sleep 0.2; done
fi

# DynamoDB Local keeps its tables in memory, Kafka its offsets on disk: after a restart of the
# stack the table is new and empty while the group would go on from where it stopped. Replay.
FERRY_KAFKA_BROKERS=127.0.0.1:${FERRY_KAFKA_PORT:-9092} node --import tsx src/cli/bin.ts offsets reset \
  --mapping customers --to earliest >>"$dir/worker.log" 2>&1
echo "demo: starting the worker (log: $dir/worker.log)"
FERRY_MAPPING=mappings/customers.ts FERRY_DYNAMODB_ENDPOINT=http://127.0.0.1:${FERRY_DYNAMODB_PORT:-8000} \
  FERRY_DYNAMODB_CREATE_TABLES=true FERRY_KAFKA_BROKERS=127.0.0.1:${FERRY_KAFKA_PORT:-9092} \
  setsid node --import tsx src/cli/bin.ts run >>"$dir/worker.log" 2>&1 </dev/null &
echo $! >"$dir/worker.pid"

FERRY_DEMO_WORKER_PID=$(<"$dir/worker.pid") npx tsx scripts/demo.ts
echo
echo "demo: the worker keeps running (pid $(<"$dir/worker.pid")). Watch it: tail -f $dir/worker.log"
echo "demo: metrics: curl -s 127.0.0.1:9464/metrics | grep ferry_events_total"
echo "demo: change a row and see it in DynamoDB:"
echo "        mariadb -h127.0.0.1 -P${FERRY_MARIADB_PORT:-3307} -uferry -pferry inventory -e \"UPDATE customers SET email='new@example.com' WHERE id=1001\""
echo "demo: stop everything: bash scripts/stack.sh down"
