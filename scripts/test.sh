#!/usr/bin/env bash
# The whole test suite: lint and type check, then unit, integration and e2e tests against the
# local stack (started if it is not running). Extra arguments go to jest, e.g. --selectProjects unit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
# Node 24 from node_modules (see setup.sh), for this script and everything it starts.
export PATH="$PWD/node_modules/.bin:$PATH"
mkdir -p .stack
# helm, kubeconform and promtool (integration/deploy) build from the Go module proxy while the stack starts.
bash scripts/validate-deploy.sh --tools >.stack/deploy-tools.log 2>&1 &
tools=$!
bash scripts/stack.sh up
npm run --silent lint
wait $tools || { cat .stack/deploy-tools.log >&2; exit 1; }

status=0
npx jest --json --outputFile=.stack/jest-results.json "$@" || status=$?
# One closing line that any CI can read.
node -e 'const r=require("./.stack/jest-results.json"); console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""))' || status=1
exit $status
