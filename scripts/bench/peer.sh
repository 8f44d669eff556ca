#!/usr/bin/env bash
# Builds the benchmark's peer, Bento v1.20.0 with its kafka, aws and pure components only, from
# the Go module proxy into .stack/cache/peer (the first build downloads ~4 GB of modules and takes
# several minutes; later builds are cached). Prints the binary's path.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${FERRY_STACK_DIR:-$ROOT/.stack}/cache
BIN=$CACHE/peer/bento-v1.20.0
if [[ ! -x $BIN ]]; then
  command -v go >/dev/null || { echo "peer: go is required to build Bento" >&2; exit 1; }
  export GOPATH=$CACHE/go GOMODCACHE=$CACHE/go/mod GOCACHE=$CACHE/go/build GOFLAGS="-mod=mod -buildvcs=false -modcacherw"
  SRC=$CACHE/peer/src
  mkdir -p "$SRC"
  cp "$ROOT/scripts/bench/peer/main.go" "$SRC/main.go"
  cp "$ROOT/scripts/bench/peer/go.mod.in" "$SRC/go.mod"
  echo "peer: building Bento v1.20.0 (Go module proxy)" >&2
  (cd "$SRC" && go mod tidy >&2 && go build -trimpath -ldflags "-s -w" -o "$BIN" .)
fi
echo "$BIN"
