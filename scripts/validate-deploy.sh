#!/usr/bin/env bash
# Validates what ferry ships for deployment, offline, with the tools platform teams use:
#   - the Helm chart, linted and rendered for three mappings and two more ways to reach Kafka
#     (deploy/helm/examples), every manifest
#     checked by kubeconform against Kubernetes' and the CRDs' (KEDA, Prometheus Operator) schemas;
#   - deploy/prometheus/alerts.yml with promtool check rules and its rule tests (alerts.test.yml);
#   - the Grafana dashboard: every query parses and names a metric ferry exports (so do the alerts);
#   - docker-compose.yml.
# helm, kubeconform and promtool are built from the Go module proxy into .stack/cache/deploy-tools,
# and the schemas generated into .stack/cache/kube-schemas, once.
#
#   scripts/validate-deploy.sh           build what is missing, then validate
#   scripts/validate-deploy.sh --tools   only build what is missing, and print where each tool is
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${FERRY_STACK_DIR:-$ROOT/.stack}/cache
export PATH="$ROOT/node_modules/.bin:$PATH"

HELM=helm.sh/helm/v4/cmd/helm@v4.3.2
KUBECONFORM=github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0
PROMTOOL=github.com/prometheus/prometheus/cmd/promtool@v0.316.0
KUBERNETES=k8s.io/kubernetes@v1.34.4
KEDA=github.com/kedacore/keda/v2@v2.20.2
PROMETHEUS_OPERATOR=github.com/prometheus-operator/prometheus-operator@v0.85.0
MAPPINGS=(customers products orders)

export GOPATH=$CACHE/go GOMODCACHE=$CACHE/go/mod GOCACHE=$CACHE/go/build GOFLAGS=-modcacherw GOTOOLCHAIN=local

# The binary of a Go command at a version, built once into its own directory.
tool() {
  local module=$1 name
  name=$(basename "${module%@*}")
  local dir=$CACHE/deploy-tools/$name-${module#*@}
  if [[ ! -x $dir/$name ]]; then
    echo "validate-deploy: building $module" >&2
    GOBIN=$dir go install "$module" >"$CACHE/deploy-tools/$name.log" 2>&1 || {
      echo "validate-deploy: could not build $module:" >&2
      tail -20 "$CACHE/deploy-tools/$name.log" >&2
      return 1
    }
  fi
  echo "$dir/$name"
}

# The directory of a Go module at a version (its files are the sources the schemas come from).
module_dir() {
  go mod download -json "$1" | node -e 'const m=JSON.parse(require("fs").readFileSync(0,"utf8")); if(m.Error){console.error(m.Error);process.exit(1)} console.log(m.Dir)'
}

mkdir -p "$CACHE/deploy-tools"
# Two builds at a time: the machine's cores, without starving the rest.
pids=()
for module in "$HELM" "$KUBECONFORM" "$PROMTOOL"; do
  tool "$module" >/dev/null &
  pids+=($!)
  ((${#pids[@]} < 2)) || { wait "${pids[0]}"; pids=("${pids[@]:1}"); }
done
for pid in "${pids[@]}"; do wait "$pid"; done
helm=$(tool "$HELM") kubeconform=$(tool "$KUBECONFORM") promtool=$(tool "$PROMTOOL")

schemas=$CACHE/kube-schemas/${KUBERNETES#*@}-keda-${KEDA#*@}-po-${PROMETHEUS_OPERATOR#*@}
if [[ ! -f $schemas/.done ]]; then
  echo "validate-deploy: generating Kubernetes and CRD schemas into $schemas" >&2
  k8s=$(module_dir "$KUBERNETES") keda=$(module_dir "$KEDA") po=$(module_dir "$PROMETHEUS_OPERATOR")
  rm -rf "$schemas"
  tsx "$ROOT/scripts/deploy/kube-schemas.ts" --out "$schemas" --swagger "$k8s/api/openapi-spec/swagger.json" \
    --crd "$keda/config/crd/bases/keda.sh_scaledobjects.yaml" \
    --crd "$keda/config/crd/bases/keda.sh_triggerauthentications.yaml" \
    --crd "$po/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
    --crd "$po/example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml"
  touch "$schemas/.done"
fi
if [[ ${1:-} == --tools ]]; then
  printf 'helm %s\nkubeconform %s\npromtool %s\nschemas %s\n' "$helm" "$kubeconform" "$promtool" "$schemas"
  exit 0
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$ROOT"

chart=deploy/helm/ferry
examples=deploy/helm/examples
render() {
  local name=$1; shift
  "$helm" lint --strict --quiet "$chart" "$@" >/dev/null
  "$helm" template "ferry-${name%%-*}" "$chart" "$@" >"$out/$name.yaml"
}
for mapping in "${MAPPINGS[@]}"; do render "$mapping" -f "$examples/common.yaml" -f "$examples/$mapping.yaml"; done
# The other ways to reach Kafka: mTLS, and MSK's IAM authentication.
for kafka in mtls msk-iam; do
  render "customers-$kafka" -f "$examples/common.yaml" -f "$examples/customers.yaml" -f "$examples/kafka-$kafka.yaml"
done
# Every manifest against a schema: none may be skipped for want of one.
"$kubeconform" -strict -summary -schema-location "$schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$out"/*.yaml

"$promtool" check rules deploy/prometheus/alerts.yml
"$promtool" test rules deploy/prometheus/alerts.test.yml
tsx scripts/deploy/check-queries.ts --promql-rules "$out/dashboard-rules.yml"
"$promtool" check rules "$out/dashboard-rules.yml"

if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
"${compose[@]}" -f docker-compose.yml config --quiet
echo "validate-deploy: docker-compose.yml is valid"
