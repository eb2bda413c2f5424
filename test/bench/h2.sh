#!/usr/bin/env bash
# HTTP/2 over TLS: Tether (ALPN h2) against HAProxy (`alpn h2,http/1.1`, one thread) in one
# run, both in front of the same three nginx origins with cookie persistence, loaded by h2load
# (Debian's nghttp2-client) on the other core. Reports requests per second, CPU per request,
# and new TLS handshakes per second (`openssl s_time -new`). Two more cases bound what a Node
# proxy can reach: Node's HTTP/2 server answering by itself (h2-static.ts), and the same server
# relaying each stream over Tether's upstream client and doing nothing else (h2-relay.ts).
#
#   bash test/bench/h2.sh [-r reps] [-d seconds] [-c connections] [-m streams per connection]
#
# Load generator and origins share core 0, the proxies core 1, as in bench.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
conf=test/bench/conf
REPS=3 DUR=10 CONNS=32 STREAMS=10 WARM=2
while getopts r:d:c:m: opt; do
  case $opt in r) REPS=$OPTARG ;; d) DUR=$OPTARG ;; c) CONNS=$OPTARG ;; m) STREAMS=$OPTARG ;; *) exit 2 ;; esac
done

missing=()
for tool in haproxy nginx h2load openssl curl taskset; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  echo "installing ${missing[*]} from Debian" >&2
  sudo=$( ((EUID == 0)) || echo sudo)
  $sudo apt-get update -qq && $sudo apt-get install -y -qq haproxy nginx nghttp2-client openssl curl util-linux >/dev/null
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

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=bench.example.test -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cat "$work/cert.pem" "$work/key.pem" >"$work/haproxy.pem"
sed "s#@PEM@#$work/haproxy.pem#" "$conf/haproxy-h2.cfg" >"$work/haproxy-h2.cfg"

nginx -p "$work/" -c "$PWD/$conf/backends.conf" -e stderr -g 'daemon off;' &
origins=$!; children+=("$origins")
haproxy -f "$work/haproxy-h2.cfg" -db &
hap=$!; children+=("$hap")
NODE_FLAGS=${NODE_FLAGS-$(cat test/bench/node-flags)}
# shellcheck disable=SC2086
node ${NODE_FLAGS} .build/bench/serve-bench.js --port 18294 --admin 18295 --https-port 18296 \
  --cert "$work/cert.pem" --key "$work/key.pem" --backends 18181,18182,18183 >"$work/tether.log" 2>&1 &
tether=$!; children+=("$tether")
# The ceiling: Node's HTTP/2 server answering by itself, proxying nothing.
# shellcheck disable=SC2086
node ${NODE_FLAGS} .build/bench/h2-static.js --port 18297 --cert "$work/cert.pem" --key "$work/key.pem" \
  >"$work/static.log" 2>&1 &
static=$!; children+=("$static")
# The most any proxy on these parts can reach: Node's HTTP/2 server relaying over Tether's upstream
# client, with no routing, session or header work.
# shellcheck disable=SC2086
node ${NODE_FLAGS} .build/bench/h2-relay.js --port 18298 --cert "$work/cert.pem" --key "$work/key.pem" \
  --backends 18181,18182,18183 >"$work/relay.log" 2>&1 &
relay=$!; children+=("$relay")

wait_tls() {
  for _ in $(seq 200); do curl -sk -o /dev/null "https://127.0.0.1:$1/" && return 0; sleep 0.1; done
  echo "nothing answers on https://127.0.0.1:$1" >&2; cat "$work/tether.log" >&2; exit 1
}
for port in 18290 18296 18297 18298; do wait_tls "$port"; done

family() { echo "$1"; pgrep -P "$1" || true; }
pin() { local cpu=$1 p; shift; for root in "$@"; do for p in $(family "$root"); do taskset -a -p -c "$cpu" "$p" >/dev/null; done; done; }
pin 0 "$origins"; pin 1 "$hap" "$tether" "$static" "$relay"
cpu_ticks() { local sum=0 p; for p in $(family "$1"); do sum=$((sum + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}'))); done; echo "$sum"; }

# Checks: both answer over HTTP/2 and issue the session cookie.
for port in 18290 18296; do
  head=$(curl -sk --http2 -D - -o /dev/null "https://127.0.0.1:$port/" | tr -d '\r')
  [[ $head == HTTP/2\ 200* ]] || { echo "FAIL: port $port did not answer HTTP/2 200" >&2; exit 1; }
  grep -qi '^set-cookie: SRVID=' <<<"$head" || { echo "FAIL: port $port issued no cookie" >&2; exit 1; }
done
echo "checks passed: both proxies answer HTTP/2 with a session cookie" >&2

hz=$(getconf CLK_TCK)
measure() { # name port pid seconds -> name rps p50ms errors cpu_us_per_request
  local before after
  before=$(cpu_ticks "$3")
  taskset -c 0 h2load -t1 -c"$CONNS" -m"$STREAMS" -D"$4" "https://127.0.0.1:$2/" >"$work/h2load.txt" 2>&1 || true
  after=$(cpu_ticks "$3")
  awk -v name="$1" -v ticks=$((after - before)) -v hz="$hz" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^finished in/ { gsub(/,/, ""); rps = $4 }
    /^requests:/ { n = $8; errors = $10 + $12 }
    /^time for request:/ { p50 = ms($6) }
    END { printf "%s %.0f %.2f %d %.1f\n", name, rps, p50, errors, 1e6 * ticks / hz / (n > 0 ? n : 1) }' "$work/h2load.txt"
}
handshakes() { # name port seconds -> name handshakes_per_second (full handshakes, no resumption)
  local start end
  start=$(date +%s.%N)
  taskset -c 0 openssl s_time -connect "127.0.0.1:$2" -new -time "$3" >"$work/s_time.txt" 2>/dev/null || true
  end=$(date +%s.%N)
  awk -v name="$1" -v wall="$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')" \
    '/connections in [0-9.]+ real seconds/ { printf "%s %.0f\n", name, $1 / wall }' "$work/s_time.txt"
}
cases=("haproxy-h2 18290 $hap" "tether-h2 18296 $tether" "node-h2-alone 18297 $static" "node-h2-relay 18298 $relay")
for c in "${cases[@]}"; do read -r n p pid <<<"$c"; measure "$n" "$p" "$pid" "$WARM" >/dev/null; done
: >"$work/results"
: >"$work/handshakes"
for _ in $(seq "$REPS"); do
  for c in "${cases[@]}"; do
    read -r n p pid <<<"$c"
    measure "$n" "$p" "$pid" "$DUR" | tee -a "$work/results" >&2
    handshakes "$n" "$p" "$((DUR / 2 > 0 ? DUR / 2 : 1))" | tee -a "$work/handshakes" >&2
  done
done

echo
echo "HTTP/2 over TLS: HAProxy $(haproxy -v | awk 'NR == 1 {print $3}') nbthread 1 vs Tether (node $(node -v) ${NODE_FLAGS:-}), h2load -t1 -c$CONNS -m$STREAMS -D${DUR}s, $REPS interleaved repetitions, medians"
awk -v hfile="$work/handshakes" '
  function median(v, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  function col(name, k,   i, n, v) { n = 0; for (i = 1; i <= rows; i++) if (who[i] == name) v[++n] = cell[i, k]; return median(v, n) }
  function hs(name,   i, n, v) { n = 0; for (i = 1; i <= hrows; i++) if (hwho[i] == name) v[++n] = hval[i]; return median(v, n) }
  BEGIN { while ((getline line < hfile) > 0) { split(line, f, " "); hrows++; hwho[hrows] = f[1]; hval[hrows] = f[2] } }
  { rows++; who[rows] = $1; for (k = 2; k <= 5; k++) cell[rows, k] = $k; failed[$1] += $4; errors += $4 }
  END {
    printf "%-14s %9s %8s %11s %7s %14s\n", "case", "req/s", "p50 ms", "CPU us/req", "errors", "handshakes/s"
    split("haproxy-h2 tether-h2 node-h2-alone node-h2-relay", names, " ")
    for (i = 1; i <= 4; i++) { c = names[i]; printf "%-14s %9.0f %8.2f %11.1f %7d %14.0f\n", c, col(c, 2), col(c, 3), col(c, 5), failed[c], hs(c) }
    printf "throughput ratio tether/haproxy over HTTP/2: %.2f (goal >= 0.33)\n", col("tether-h2", 2) / col("haproxy-h2", 2)
    printf "CPU per request ratio tether/haproxy over HTTP/2: %.1f\n", col("tether-h2", 5) / col("haproxy-h2", 5)
    printf "TLS handshakes per second ratio tether/haproxy: %.2f\n", hs("tether-h2") / hs("haproxy-h2")
    printf "ceiling: the Node HTTP/2 server alone, proxying nothing, against HAProxy proxying: %.2f\n", col("node-h2-alone", 2) / col("haproxy-h2", 2)
    printf "ceiling: the Node HTTP/2 server relaying over the Tether upstream client, nothing else: %.2f\n", col("node-h2-relay", 2) / col("haproxy-h2", 2)
    printf "Tether against that relay: %.2f of its requests per second\n", col("tether-h2", 2) / col("node-h2-relay", 2)
    if (errors > 0) { print "FAIL: " errors " requests failed"; exit 1 }
  }' "$work/results"
