#!/usr/bin/env bash
# Benchmark: trafficgen beside wrk, oha and hey against the same local nginx, in one run.
# Writes BENCHMARKS.md. Loopback only; every run is bounded in time.
#   bash bench/run.sh            # 10 s per run
#   SECONDS_PER_RUN=5 bash bench/run.sh
# Needs: nginx (nginx-light), wrk, hey, oha (cargo install oha --locked), GNU time, jq.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${SECONDS_PER_RUN:-10}
rate=${RATE:-1000}
conc=${CONCURRENCY:-50}
port=${PORT:-18099}
url="http://127.0.0.1:$port/"
work=$(mktemp -d)
trap 'kill $(cat "$work/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT

for tool in nginx wrk hey oha jq /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "missing $tool (see the header of this script)" >&2; exit 1; }
done
cargo build --release --locked -q
tg=target/release/trafficgen

cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$port; location / { return 200 "hello\n"; } } }
CONF
nginx -c "$work/nginx.conf"
sleep 0.5

# measure NAME CMD...: runs CMD under GNU time; leaves stdout in $work/NAME.out, "cpu_s max_rss_kb" in $work/NAME.res
measure() {
    local name=$1; shift
    /usr/bin/time -f '%U %S %M' -o "$work/$name.time" "$@" > "$work/$name.out" 2> "$work/$name.err" || true
    awk '{ printf "%.2f %d\n", $1 + $2, $3 }' "$work/$name.time" > "$work/$name.res"
}
field() { awk -v f="$2" '{ print $f }' "$work/$1.res"; }

echo "fixed rate: $rate req/s for ${secs}s" >&2
measure tg_rate $tg --rate "$rate" --duration "${secs}s" --metrics-addr off --progress-interval 0s --output json "$url"
measure oha_rate oha -q "$rate" -z "${secs}s" --no-tui --output-format json "$url"
# hey's -q is per worker: 10 workers x rate/10.
measure hey_rate hey -z "${secs}s" -c 10 -q $((rate / 10)) "$url"
echo "closed loop: $conc connections for ${secs}s" >&2
measure tg_max $tg --rate max --concurrency "$conc" --connections "$conc" --duration "${secs}s" --metrics-addr off --progress-interval 0s --output json "$url"
measure wrk_max wrk -t 2 -c "$conc" -d "${secs}s" --latency "$url"
measure oha_max oha -c "$conc" -z "${secs}s" --no-tui --output-format json "$url"
measure hey_max hey -z "${secs}s" -c "$conc" "$url"

rps() {
    case $1 in
        tg_*) jq -r '.achieved_rps' "$work/$1.out" ;;
        oha_*) jq -r '.summary.requestsPerSec' "$work/$1.out" ;;
        *) awk '/Requests\/sec:/ { print $2 }' "$work/$1.out" ;;
    esac
}
p99() {
    case $1 in
        tg_*) jq -r '.latency_ms.p99' "$work/$1.out" ;;
        oha_*) jq -r '.latencyPercentiles.p99 * 1000' "$work/$1.out" ;;
        wrk_*) awk '$1 == "99%" { v = $2; if (v ~ /ms$/) { sub(/ms/, "", v); print v } else if (v ~ /us$/) { sub(/us/, "", v); print v / 1000 } else { sub(/s/, "", v); print v * 1000 } }' "$work/$1.out" ;;
        hey_*) awk '/ 99% in / { print $3 * 1000 }' "$work/$1.out" ;;
    esac
}
row() {
    local name=$1 label=$2 base=$3
    local r c m p
    r=$(rps "$name"); c=$(field "$name" 1); m=$(field "$name" 2); p=$(p99 "$name")
    local br bc bm
    br=$(rps "$base"); bc=$(field "$base" 1); bm=$(field "$base" 2)
    awk -v l="$label" -v r="$r" -v c="$c" -v m="$m" -v p="$p" -v br="$br" -v bc="$bc" -v bm="$bm" 'BEGIN {
        printf "| %s | %.1f | %.2f | %.1f | %.2f | %.2fx | %.2fx | %.2fx |\n", l, r, c, m / 1024, p, r / br, (bc > 0 ? c / bc : 0), m / bm }'
}

header='| tool | achieved req/s | CPU s | max RSS MiB | p99 ms (as reported) | rps vs trafficgen | CPU vs trafficgen | RSS vs trafficgen |
|---|---|---|---|---|---|---|---|'
{
    echo "# Benchmarks"
    echo
    echo "Measured by \`bash bench/run.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, against one local nginx"
    echo "(\`return 200\`, 1 worker) on loopback; ${secs} s per run, one run after another. CPU = user + system seconds,"
    echo "RSS = peak resident set (GNU time). Ratios are the other tool divided by trafficgen."
    echo "trafficgen's p99 is coordinated-omission corrected (measured from the intended send time, so the few hundred"
    echo "microseconds by which tokio's 1 ms timer wakes a send late count against it); the others report service time."
    echo
    echo "## Fixed rate: $rate req/s"
    echo
    echo "$header"
    row tg_rate "trafficgen --rate $rate" tg_rate
    row oha_rate "oha -q $rate" tg_rate
    row hey_rate "hey -c 10 -q $((rate / 10))" tg_rate
    echo
    echo "wrk has no rate option (that is wrk2), so it appears only below."
    echo
    echo "## Closed loop: $conc connections, as fast as possible"
    echo
    echo "$header"
    row tg_max "trafficgen --rate max --concurrency $conc" tg_max
    row wrk_max "wrk -t 2 -c $conc" tg_max
    row oha_max "oha -c $conc" tg_max
    row hey_max "hey -c $conc" tg_max
    echo
    echo "On 2 cores the load generator and nginx share the CPU, so closed-loop figures measure the pair."
} > BENCHMARKS.md
cat BENCHMARKS.md
