#!/usr/bin/env bash
# How `tether serve --workers N` scales: the built CLI serving an Ingress with cookie affinity
# in front of the three nginx origins, once with one worker and once with two, loaded by wrk
# over plain HTTP. Nothing is pinned: on a two-core machine the origins and wrk share the cores
# with the workers, so two workers cannot reach twice the requests of one.
#
#   bash test/bench/workers.sh [-d seconds] [-c connections]
set -euo pipefail
cd "$(dirname "$0")/../.."
conf=test/bench/conf
DUR=10 CONNS=64
while getopts d:c: opt; do
  case $opt in d) DUR=$OPTARG ;; c) CONNS=$OPTARG ;; *) exit 2 ;; esac
done
missing=()
for tool in nginx wrk curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  sudo=$( ((EUID == 0)) || echo sudo)
  $sudo apt-get update -qq && $sudo apt-get install -y -qq nginx wrk curl >/dev/null
fi
npx tsc -b

work=$(mktemp -d)
mkdir -p "$work/tmp"
children=()
finish() {
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap finish EXIT

cat >"$work/app.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: bench
  annotations: { nginx.ingress.kubernetes.io/affinity: cookie }
spec:
  ingressClassName: tether
  rules:
    - http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: bench }
spec: { ports: [{ name: http, port: 80 }] }
YAML
for port in 18181 18182 18183; do
  cat >>"$work/app.yaml" <<YAML
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-$port, namespace: bench, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
ports: [{ name: http, port: $port }]
endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]
YAML
done

nginx -p "$work/" -c "$PWD/$conf/backends.conf" -e stderr -g 'daemon off;' &
children+=($!)
head -c 32 /dev/urandom | base64 >"$work/cookie-key"
NODE_FLAGS=${NODE_FLAGS-$(cat test/bench/node-flags)}
echo "serve --workers N, wrk -t1 -c$CONNS -d${DUR}s, plain HTTP, nothing pinned (wrk and the origins share both cores)"
declare -A rps
for n in 1 2; do
  # shellcheck disable=SC2086
  node ${NODE_FLAGS} packages/cli/dist/bin.js serve --manifests "$work/app.yaml" --listen 127.0.0.1:18394 \
    --admin 127.0.0.1:18395 --api 127.0.0.1:18396 --workers "$n" --cookie-key-file "$work/cookie-key" \
    --log-level error >"$work/tether-$n.log" 2>&1 &
  tether=$!
  for _ in $(seq 200); do curl -sf -o /dev/null http://127.0.0.1:18395/readyz && break; sleep 0.1; done
  wrk -t1 -c"$CONNS" -d2s http://127.0.0.1:18394/ >/dev/null
  rps[$n]=$(wrk -t1 -c"$CONNS" -d"${DUR}s" http://127.0.0.1:18394/ | awk '/Requests\/sec/ { printf "%.0f", $2 }')
  echo "workers $n: ${rps[$n]} requests/s"
  kill -TERM "$tether"
  wait "$tether" 2>/dev/null || true
done
awk -v a="${rps[1]}" -v b="${rps[2]}" 'BEGIN { printf "two workers / one: %.2f\n", b / a }'
