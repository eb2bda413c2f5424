#!/usr/bin/env bash
# Proxy benchmark: Tether's proxy against HAProxy and against Fastify + @fastify/http-proxy,
# in one run, on the same three backends.
#
#   npm run bench -- [-r REPS] [-d SECONDS] [-c CONNECTIONS]
#
# Starts three nginx origin servers (127.0.0.1:18181-18183), HAProxy 2.x with
# `cookie SRVID insert indirect nocache httponly` and `nbthread 1` (127.0.0.1:18190) and the
# Tether proxy as one Node.js process with the equivalent cookie policy (127.0.0.1:18194), and
# the stack Tether was first designed on, Fastify with @fastify/http-proxy (undici) and the same
# cookie logic (127.0.0.1:18196).
# Proxies run on core 1; wrk and the origins on core 0. It first checks that every proxy
# spread new clients and pin a cookie to one backend, then runs wrk against each proxy with
# and without a sticky cookie, interleaved, REPS times, and prints medians of requests/s,
# p50/p99 latency, CPU time per request (from /proc), RSS (now and peak) and the ratios.
# Exits 1 when a check fails or any request fails. Installs haproxy, nginx, wrk and curl
# from Debian when they are missing. Tether runs with the node flags of the image
# (test/bench/node-flags); NODE_FLAGS replaces them (NODE_FLAGS= for node's defaults).
set -euo pipefail
cd "$(dirname "$0")/../.."
conf=test/bench/conf
REPS=5 DUR=10 CONNS=64 WARM=2
while getopts r:d:c: opt; do
  case $opt in r) REPS=$OPTARG ;; d) DUR=$OPTARG ;; c) CONNS=$OPTARG ;; *) exit 2 ;; esac
done

missing=()
for tool in haproxy nginx wrk curl taskset; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  echo "installing ${missing[*]} from Debian" >&2
  apt-get update -qq && apt-get install -y -qq haproxy nginx wrk curl util-linux >/dev/null
fi
npx tsc -b test/bench

work=$(mktemp -d)
mkdir -p "$work/tmp"
children=()
finish() {
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap finish EXIT

nginx -p "$work/" -c "$PWD/$conf/backends.conf" -e stderr -g 'daemon off;' &
origins=$!; children+=("$origins")
haproxy -f "$conf/haproxy.cfg" -db &
hap=$!; children+=("$hap")
NODE_FLAGS=${NODE_FLAGS-$(cat test/bench/node-flags)}
# shellcheck disable=SC2086
node ${NODE_FLAGS} .build/bench/serve-bench.js --port 18194 --backends 18181,18182,18183 >"$work/tether.log" 2>&1 &
tether=$!; children+=("$tether")
node .build/bench/fastify-bench.js --port 18196 --backends 18181,18182,18183 >"$work/fastify.log" 2>&1 &
fastify=$!; children+=("$fastify")

wait_port() {
  for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done
  echo "nothing answers on 127.0.0.1:$1" >&2; cat "$work/tether.log" >&2; exit 1
}
for port in 18181 18182 18183 18190 18194 18196; do wait_port "$port"; done

family() { echo "$1"; pgrep -P "$1" || true; }
pin() { local cpu=$1 p; shift; for root in "$@"; do for p in $(family "$root"); do taskset -a -p -c "$cpu" "$p" >/dev/null; done; done; }
pin 0 "$origins"; pin 1 "$hap" "$tether" "$fastify"
cpu_ticks() { local sum=0 p; for p in $(family "$1"); do sum=$((sum + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}'))); done; echo "$sum"; }
mem_kib() { local sum=0 p; for p in $(family "$1"); do sum=$((sum + $(awk -v k="$2:" '$1 == k {print $2}' "/proc/$p/status"))); done; echo "$sum"; }

# Checks: a cookie is issued; with it every request reaches one backend; without it several.
first_cookie() { curl -s -D - -o /dev/null "http://127.0.0.1:$1/" | tr -d '\r' | awk -F': ' 'tolower($1) == "set-cookie" {split($2, a, ";"); print a[1]; exit}'; }
backend_seen() { curl -s -D - -o /dev/null ${2:+-H "Cookie: $2"} "http://127.0.0.1:$1/" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-backend" {print $2}'; }
declare -A cookie
for port in 18190 18194 18196; do
  cookie[$port]=$(first_cookie "$port")
  [[ -n ${cookie[$port]} ]] || { echo "FAIL: port $port issued no cookie" >&2; exit 1; }
  pinned=$(for _ in $(seq 10); do backend_seen "$port" "${cookie[$port]}"; done | sort -u | wc -l)
  ((pinned == 1)) || { echo "FAIL: port $port sent one cookie to $pinned backends" >&2; exit 1; }
  spread=$(for _ in $(seq 9); do backend_seen "$port"; done | sort -u | wc -l)
  ((spread == 3)) || { echo "FAIL: port $port spread new clients over $spread backends, not 3" >&2; exit 1; }
done
[[ ${cookie[18194]} != *18181* && ${cookie[18194]} != *127.0.0.1* ]] || { echo "FAIL: the cookie shows an address" >&2; exit 1; }
bad=$(curl -s -o /dev/null -w '%{http_code}' -H 'Cookie: SRVID=forged' http://127.0.0.1:18194/)
[[ $bad == 200 ]] || { echo "FAIL: a forged cookie got $bad" >&2; exit 1; }
echo "checks passed: all three proxies spread new clients over 3 backends and pin a cookie to one" >&2

hz=$(getconf CLK_TCK)
measure() { # name port pid cookie seconds -> name rps p50ms p99ms errors cpu_us_per_request
  local extra=() before after
  [[ -n $4 ]] && extra=(-H "Cookie: $4")
  before=$(cpu_ticks "$3")
  taskset -c 0 wrk -t1 -c"$CONNS" -d"$5s" --latency "${extra[@]}" "http://127.0.0.1:$2/" >"$work/wrk.txt"
  after=$(cpu_ticks "$3")
  awk -v name="$1" -v ticks=$((after - before)) -v hz="$hz" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /requests in/ { n = $1 }
    /Non-2xx/ { errors += $NF }
    /Socket errors/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
    END { printf "%s %.0f %.2f %.2f %d %.1f\n", name, rps, p50, p99, errors, 1e6 * ticks / hz / (n > 0 ? n : 1) }' "$work/wrk.txt"
}
cases=("haproxy 18190 $hap -" "haproxy+cookie 18190 $hap ${cookie[18190]}" "tether 18194 $tether -" "tether+cookie 18194 $tether ${cookie[18194]}" "fastify 18196 $fastify -" "fastify+cookie 18196 $fastify ${cookie[18196]}")
for c in "${cases[@]}"; do read -r n p pid ck <<<"$c"; [[ $ck == - ]] && ck=; measure "$n" "$p" "$pid" "$ck" "$WARM" >/dev/null; done
: >"$work/results"
for rep in $(seq "$REPS"); do
  for c in "${cases[@]}"; do
    read -r n p pid ck <<<"$c"; [[ $ck == - ]] && ck=
    measure "$n" "$p" "$pid" "$ck" "$DUR" | tee -a "$work/results" >&2
  done
done

echo
echo "HAProxy $(haproxy -v | awk 'NR == 1 {print $3}') nbthread 1 vs Tether (node $(node -v) ${NODE_FLAGS:-}) vs Fastify + @fastify/http-proxy, wrk -t1 -c$CONNS -d${DUR}s, $REPS interleaved repetitions, medians"
awk -v hrss="$(mem_kib "$hap" VmRSS)" -v hpeak="$(mem_kib "$hap" VmHWM)" -v trss="$(mem_kib "$tether" VmRSS)" -v tpeak="$(mem_kib "$tether" VmHWM)" -v frss="$(mem_kib "$fastify" VmRSS)" -v fpeak="$(mem_kib "$fastify" VmHWM)" '
  function median(col, name,   n, i, j, t, v) {
    n = 0; for (i = 1; i <= rows; i++) if (who[i] == name) v[++n] = cell[i, col]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  { rows++; who[rows] = $1; for (k = 2; k <= 6; k++) cell[rows, k] = $k; errors[$1] += $5; if (!(($1) in seen)) { seen[$1] = 1; order[++kinds] = $1 } }
  END {
    printf "%-16s %9s %8s %8s %11s %7s\n", "case", "req/s", "p50 ms", "p99 ms", "CPU us/req", "errors"
    for (i = 1; i <= kinds; i++) { c = order[i]; printf "%-16s %9.0f %8.2f %8.2f %11.1f %7d\n", c, median(2, c), median(3, c), median(4, c), median(6, c), errors[c]; total += errors[c] }
    printf "RSS MiB now/peak: haproxy %.0f/%.0f, tether %.0f/%.0f, fastify %.0f/%.0f\n", hrss / 1024, hpeak / 1024, trss / 1024, tpeak / 1024, frss / 1024, fpeak / 1024
    printf "throughput ratio tether/haproxy: %.2f without cookie, %.2f with cookie (goal >= 0.33)\n", median(2, "tether") / median(2, "haproxy"), median(2, "tether+cookie") / median(2, "haproxy+cookie")
    printf "CPU per request ratio tether/haproxy: %.1f without cookie, %.1f with cookie (goal <= 3)\n", median(6, "tether") / median(6, "haproxy"), median(6, "tether+cookie") / median(6, "haproxy+cookie")
    printf "throughput ratio fastify/haproxy: %.2f without cookie, %.2f with cookie\n", median(2, "fastify") / median(2, "haproxy"), median(2, "fastify+cookie") / median(2, "haproxy+cookie")
    printf "CPU per request ratio fastify/haproxy: %.1f without cookie, %.1f with cookie\n", median(6, "fastify") / median(6, "haproxy"), median(6, "fastify+cookie") / median(6, "haproxy+cookie")
    if (total > 0) { print "FAIL: " total " requests failed"; exit 1 }
  }' "$work/results"

# Then the HTTP/2 case (h2.sh), with the origins' ports free again.
finish
trap - EXIT
exec bash test/bench/h2.sh -r "$REPS" -d "$DUR"
