#!/usr/bin/env bash
# Benchmark: trafficgen beside wrk, oha, hey and h2load against the same local nginx, in one run.
# Writes BENCHMARKS.md (or OUT). Loopback only; every run is bounded in time.
#   bash bench/run.sh            # 10 s per run
#   SECONDS_PER_RUN=5 bash bench/run.sh
#   SECONDS_PER_RUN=1 TURNS=1 OPEN_RATES=20000 OPEN_SECONDS=1 OUT=/tmp/b.md bash bench/run.sh  # a quick check
# Rows: fixed rate at RATE and HIGH_RATE and closed loop (the tools compared take TURNS turns and
# each keeps its median run), the open-loop maximum (the highest of OPEN_RATES that each tool
# sends with < 0.5% missing, OPEN_SECONDS each, stopping at the first miss), and HTTP/2 (prior
# knowledge, H2_CONNECTIONS connections with H2_STREAMS streams each): closed loop, and H2_RATE.
# The floor row (bench/floor.rs, built with rustc) is what the kernel charges for the fixed-rate
# exchange alone: a generator's CPU above it is its own.
# Needs: nginx (nginx-light, with HTTP/2), wrk, hey, h2load (nghttp2-client),
# oha (cargo install oha --locked), GNU time, jq, rustc.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${SECONDS_PER_RUN:-10}
rate=${RATE:-1000}
high=${HIGH_RATE:-10000}
conc=${CONCURRENCY:-50}
open_rates=${OPEN_RATES:-20000 40000 60000 80000 100000}
open_secs=${OPEN_SECONDS:-3}
port=${PORT:-18099}
url="http://127.0.0.1:$port/"
h2_conns=${H2_CONNECTIONS:-10}
h2_streams=${H2_STREAMS:-10}
h2_rate=${H2_RATE:-20000}
h2_url="http://127.0.0.1:$((port + 1))/"
out=${OUT:-BENCHMARKS.md}
work=$(mktemp -d)
trap 'kill $(cat "$work/nginx.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT

for tool in nginx wrk hey oha h2load jq rustc /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "missing $tool (see the header of this script)" >&2; exit 1; }
done
# TRAFFICGEN=path measures an already built binary (e.g. one built with symbols for perf).
tg=${TRAFFICGEN:-target/release/trafficgen}
[ -n "${TRAFFICGEN:-}" ] || cargo build --release --locked -q
rustc -O bench/floor.rs -o "$work/floor"

# Cleartext HTTP/2 with prior knowledge: `listen ... http2` up to nginx 1.25.0, `http2 on;` from
# 1.25.1. nginx closes an h2 connection (GOAWAY) after keepalive_requests requests, 1,000 by
# default, and h2load does not dial again: the h2 server keeps its connections for the run.
if printf '%s\n' 1.25.1 "$(nginx -v 2>&1 | sed 's|.*/||')" | sort -V -C; then
    h2_listen="listen 127.0.0.1:$((port + 1)); http2 on;"
else
    h2_listen="listen 127.0.0.1:$((port + 1)) http2;"
fi
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    server { listen 127.0.0.1:$port; location / { return 200 "hello\n"; } }
    server { $h2_listen keepalive_requests 1000000000; location / { return 200 "hello\n"; } }
}
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

# Each comparison is TURNS turns of the tools, one after the other, and each tool keeps its median
# run: this VM has stalls of tens of milliseconds in which everything on it runs several times
# slower, and one 10 s run against the next moved a ratio by ±15%.
turns=${TURNS:-3}
for i in $(seq "$turns"); do
    for r in "$rate" "$high"; do
        echo "fixed rate: $r req/s for ${secs}s (turn $i of $turns)" >&2
        measure "tg_rate${r}_$i" $tg --rate "$r" --duration "${secs}s" --metrics-addr off --progress-interval 0s --output json "$url"
        measure "oha_rate${r}_$i" oha -q "$r" -z "${secs}s" --no-tui --output-format json "$url"
    done
    measure "floor_rate${rate}_$i" "$work/floor" "127.0.0.1:$port" "$rate" "$secs"
done
# hey's -q is per worker: 10 workers x rate/10.
measure "hey_rate$rate" hey -z "${secs}s" -c 10 -q $((rate / 10)) "$url"
for i in $(seq "$turns"); do
    echo "closed loop: $conc connections for ${secs}s (turn $i of $turns)" >&2
    measure "tg_max_$i" $tg --rate max --concurrency "$conc" --connections "$conc" --duration "${secs}s" --metrics-addr off --progress-interval 0s --output json "$url"
    measure "wrk_max_$i" wrk -t 1 -c "$conc" -d "${secs}s" --latency "$url"
done
measure oha_max oha -c "$conc" -z "${secs}s" --no-tui --output-format json "$url"
measure hey_max hey -z "${secs}s" -c "$conc" "$url"

# HTTP/2: the same connections and streams on every side. h2load and oha open H2_STREAMS
# streams on each of H2_CONNECTIONS connections; trafficgen keeps as many requests in flight
# (--concurrency in closed loop, --max-in-flight at H2_RATE) over as many connections.
h2_flight=$((h2_conns * h2_streams))
tg_h2=($tg --http2 --connections "$h2_conns" --duration "${secs}s" --metrics-addr off --progress-interval 0s --output json)
for i in $(seq "$turns"); do
    echo "h2 closed loop: $h2_conns connections x $h2_streams streams for ${secs}s (turn $i of $turns)" >&2
    measure "tg_h2max_$i" "${tg_h2[@]}" --rate max --concurrency "$h2_flight" "$h2_url"
    measure "h2load_max_$i" h2load -t 1 -c "$h2_conns" -m "$h2_streams" -D "$secs" "$h2_url"
    echo "h2 fixed rate: $h2_rate req/s for ${secs}s (turn $i of $turns)" >&2
    measure "tg_h2rate_$i" "${tg_h2[@]}" --rate "$h2_rate" --max-in-flight "$h2_flight" "$h2_url"
    measure "oha_h2rate_$i" oha --http2 -c "$h2_conns" -p "$h2_streams" -q "$h2_rate" -z "${secs}s" --no-tui --output-format json "$h2_url"
done
measure oha_h2max oha --http2 -c "$h2_conns" -p "$h2_streams" -z "${secs}s" --no-tui --output-format json "$h2_url"

# Open loop: share of the schedule not sent (trafficgen: dropped at --max-in-flight; oha: the
# shortfall of its achieved rate), per rate, until the first rate that misses 0.5%.
missing() {
    case $1 in
        tg_*) jq -r '(.dropped / ((.requests + .dropped) | if . == 0 then 1 else . end))' "$work/$1.out" ;;
        oha_*) jq -r --arg r "$2" '[1 - .summary.requestsPerSec / ($r | tonumber), 0] | max' "$work/$1.out" ;;
    esac
}
# oha queues a send it cannot make yet without bound; trafficgen drops it at --max-in-flight (k6's
# maxVUs works the same way). The ladder that counts gives trafficgen one second of the schedule
# (--max-in-flight = rate), as a user sending that fast would; tg_cap keeps the default 1,000.
# open_run TOOL RATE: one open-loop run, left in TOOL_openRATE.
open_run() {
    local tool=$1 r=$2
    local tg_args=(--rate "$r" --connections "$conc" --duration "${open_secs}s" --metrics-addr off --progress-interval 0s --output json "$url")
    echo "open loop: $tool at $r req/s for ${open_secs}s" >&2
    case $tool in
        tg) measure "tg_open$r" $tg --max-in-flight "$r" "${tg_args[@]}" ;;
        tg_cap) measure "tg_cap_open$r" $tg "${tg_args[@]}" ;;
        oha) measure "oha_open$r" oha -q "$r" -c "$conc" -z "${open_secs}s" --no-tui --output-format json "$url" ;;
    esac
}
declare -A open_max=([tg]=0 [tg_cap]=0 [oha]=0)
for tool in tg tg_cap oha; do
    for r in $open_rates; do
        open_run "$tool" "$r"
        miss=$(missing "${tool}_open$r" "$r" 2>/dev/null || echo 1)
        echo "$r $miss" >> "$work/${tool}_open.steps"
        awk -v m="$miss" 'BEGIN { exit !(m < 0.005) }' || break
        open_max[$tool]=$r
    done
done
# Service time at 40,000 req/s (its own run when the steps did not reach it).
for tool in tg oha; do
    [ -s "$work/${tool}_open40000.out" ] || open_run "$tool" 40000
done

rps() {
    case $1 in
        tg_*) jq -r '.achieved_rps' "$work/$1.out" ;;
        oha_*) jq -r '.summary.requestsPerSec' "$work/$1.out" ;;
        h2load_*) awk '/^finished in/ { print $4 }' "$work/$1.out" ;;
        floor_*) awk -v s="$secs" '{ print $1 / s }' "$work/$1.out" ;;
        *) awk '/Requests\/sec:/ { print $2 }' "$work/$1.out" ;;
    esac
}
p99() {
    case $1 in
        tg_*) jq -r '.latency_ms.p99' "$work/$1.out" ;;
        oha_*) jq -r '.latencyPercentiles.p99 * 1000' "$work/$1.out" ;;
        wrk_*) awk '$1 == "99%" { v = $2; if (v ~ /ms$/) { sub(/ms/, "", v); print v } else if (v ~ /us$/) { sub(/us/, "", v); print v / 1000 } else { sub(/s/, "", v); print v * 1000 } }' "$work/$1.out" ;;
        hey_*) awk '/ 99% in / { print $3 * 1000 }' "$work/$1.out" ;;
        *) echo n/a ;;
    esac
}
service_p99() {
    case $1 in
        tg_*) jq -r '.service_time_ms.p99 * 100 | round / 100' "$work/$1.out" ;;
        oha_*) jq -r '.latencyPercentiles.p99 * 100000 | round / 100' "$work/$1.out" ;;
    esac
}
# ratio NAME A B TARGET: one line of the ratios table, A / B, and whether it meets TARGET (">=x" or "<=x").
ratio() {
    awk -v n="$1" -v a="$2" -v b="$3" -v t="$4" 'BEGIN {
        r = (b > 0 ? a / b : 0); op = substr(t, 1, 2); x = substr(t, 3) + 0
        ok = (op == ">=" ? r >= x : r <= x)
        printf "| %s | %.2f | %s | %s |\n", n, r, t, (ok ? "met" : "missed") }'
}
cpu_per_req() { awk -v c="$(field "$1" 1)" -v r="$(rps "$1")" -v s="$2" 'BEGIN { print (r > 0 ? c / (r * s) * 1e6 : 0) }'; }
req_per_cpu() { awk -v c="$(field "$1" 1)" -v r="$(rps "$1")" -v s="$2" 'BEGIN { print (c > 0 ? r * s / c : 0) }'; }
# keep_median NAME METRIC: of the runs NAME_1 .. NAME_$turns, the median by METRIC becomes NAME;
# NAME.runs keeps every run's figure, in order.
keep_median() {
    local name=$1 metric=$2 i median
    for i in $(seq "$turns"); do echo "$($metric "${name}_$i" "$secs") $i"; done | sort -n > "$work/$name.runs"
    median=$(awk -v n="$turns" 'NR == int((n + 1) / 2) { print $2 }' "$work/$name.runs")
    for ext in out res time; do cp "$work/${name}_$median.$ext" "$work/$name.$ext"; done
}
runs() { awk -v d="${2:-0}" '{ printf "%s%.*f", (NR > 1 ? ", " : ""), d, $1 }' "$work/$1.runs"; }
for r in "$rate" "$high"; do
    keep_median "tg_rate$r" cpu_per_req
    keep_median "oha_rate$r" cpu_per_req
done
keep_median "floor_rate$rate" cpu_per_req
keep_median tg_max req_per_cpu
keep_median wrk_max req_per_cpu
keep_median tg_h2max req_per_cpu
keep_median h2load_max req_per_cpu
keep_median tg_h2rate cpu_per_req
keep_median oha_h2rate cpu_per_req

row() {
    local name=$1 label=$2 base=$3
    local r c m p
    r=$(rps "$name"); c=$(field "$name" 1); m=$(field "$name" 2); p=$(p99 "$name")
    local br bc bm
    br=$(rps "$base"); bc=$(field "$base" 1); bm=$(field "$base" 2)
    awk -v l="$label" -v r="$r" -v c="$c" -v m="$m" -v p="$p" -v br="$br" -v bc="$bc" -v bm="$bm" 'BEGIN {
        p = (p ~ /^[0-9.]+$/ ? sprintf("%.2f", p) : p)
        printf "| %s | %.1f | %.2f | %.1f | %s | %.2fx | %.2fx | %.2fx |\n", l, r, c, m / 1024, p, r / br, (bc > 0 ? c / bc : 0), m / bm }'
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
    for r in "$rate" "$high"; do
        echo "## Fixed rate: $r req/s"
        echo
        echo "$header"
        row "tg_rate$r" "trafficgen --rate $r" "tg_rate$r"
        row "oha_rate$r" "oha -q $r" "tg_rate$r"
        [ "$r" = "$rate" ] && row "hey_rate$r" "hey -c 10 -q $((r / 10))" "tg_rate$r"
        [ "$r" = "$rate" ] && row "floor_rate$r" "floor: \`bench/floor.rs\`, the exchange alone" "tg_rate$r"
        echo
        echo "Each took $turns turns, and each row is that one's median run. CPU µs per request of every run:"
        echo "trafficgen $(runs "tg_rate$r" 1); oha $(runs "oha_rate$r" 1)$([ "$r" = "$rate" ] && echo "; floor $(runs "floor_rate$r" 1)")."
        echo
    done
    echo "wrk has no rate option (that is wrk2), so it appears only below."
    echo
    echo "## Closed loop: $conc connections, as fast as possible"
    echo
    echo "$header"
    row tg_max "trafficgen --rate max --concurrency $conc" tg_max
    row wrk_max "wrk -t 1 -c $conc" tg_max
    row oha_max "oha -c $conc" tg_max
    row hey_max "hey -c $conc" tg_max
    echo
    echo "On 2 cores the load generator and nginx share the CPU, so closed-loop figures measure the pair."
    echo "trafficgen and wrk took $turns turns; each row is that tool's median run. Requests per CPU-second"
    echo "of every run: trafficgen $(runs tg_max); wrk $(runs wrk_max)."
    echo
    echo "## HTTP/2 closed loop: $h2_conns connections x $h2_streams streams, as fast as possible"
    echo
    echo "Cleartext h2 with prior knowledge; trafficgen keeps $h2_flight requests in flight over $h2_conns connections."
    echo
    echo "$header"
    row tg_h2max "trafficgen --http2 --rate max --concurrency $h2_flight --connections $h2_conns" tg_h2max
    row h2load_max "h2load -t 1 -c $h2_conns -m $h2_streams" tg_h2max
    row oha_h2max "oha --http2 -c $h2_conns -p $h2_streams" tg_h2max
    echo
    echo "h2load reports no percentiles. trafficgen and h2load took $turns turns; each row is that tool's median"
    echo "run. Requests per CPU-second of every run: trafficgen $(runs tg_h2max); h2load $(runs h2load_max)."
    echo
    echo "## HTTP/2 fixed rate: $h2_rate req/s"
    echo
    echo "At most $h2_flight requests in flight on each side: trafficgen's \`--max-in-flight\`, oha's $h2_conns x $h2_streams workers."
    echo
    echo "$header"
    row tg_h2rate "trafficgen --http2 --rate $h2_rate --max-in-flight $h2_flight --connections $h2_conns" tg_h2rate
    row oha_h2rate "oha --http2 -q $h2_rate -c $h2_conns -p $h2_streams" tg_h2rate
    echo
    echo "trafficgen and oha took $turns turns; each row is that tool's median run. CPU µs per request of every"
    echo "run: trafficgen $(runs tg_h2rate 1); oha $(runs oha_h2rate 1)."
    echo
    echo "## Open loop: the highest rate sent with < 0.5% missing"
    echo
    echo "Rates tried: $open_rates, ${open_secs} s each, $conc connections, stopping at the first miss."
    echo "Missing = trafficgen's dropped sends (at \`--max-in-flight\`); for oha, the shortfall of its achieved rate."
    echo "oha queues a send it cannot make yet without bound, so the first trafficgen row may hold one second of"
    echo "the schedule (\`--max-in-flight\` = the rate) and is the one compared; the second keeps the default 1,000,"
    echo "which this VM's stalls (tens of milliseconds in which everything on it, nginx too, runs several times"
    echo "slower) overflow at high rates."
    echo
    echo "| tool | highest rate | missing at each rate tried | service-time p99 ms at 40,000 req/s |"
    echo "|---|---|---|---|"
    for tool in tg tg_cap oha; do
        steps=$(awk '{ printf "%s%s: %.2f%%", (NR > 1 ? ", " : ""), $1, $2 * 100 }' "$work/${tool}_open.steps")
        case $tool in
            tg) label="trafficgen --max-in-flight RATE"; p=$(service_p99 tg_open40000) ;;
            tg_cap) label="trafficgen (default --max-in-flight 1000)"; p="" ;;
            oha) label="oha"; p=$(service_p99 oha_open40000) ;;
        esac
        echo "| $label | ${open_max[$tool]} | $steps | $p |"
    done
    echo
    echo "## Ratios against their targets"
    echo
    echo "| ratio | value | target | |"
    echo "|---|---|---|---|"
    ratio "closed loop req per CPU-s, trafficgen / wrk -t1" "$(req_per_cpu tg_max "$secs")" "$(req_per_cpu wrk_max "$secs")" ">=0.9"
    ratio "closed loop req per CPU-s, trafficgen / oha" "$(req_per_cpu tg_max "$secs")" "$(req_per_cpu oha_max "$secs")" ">=1.3"
    ratio "CPU per request at $rate req/s, trafficgen / oha" "$(cpu_per_req "tg_rate$rate" "$secs")" "$(cpu_per_req "oha_rate$rate" "$secs")" "<=0.5"
    ratio "CPU per request at $high req/s, trafficgen / oha" "$(cpu_per_req "tg_rate$high" "$secs")" "$(cpu_per_req "oha_rate$high" "$secs")" "<=0.6"
    ratio "open-loop max rate, trafficgen / oha" "${open_max[tg]}" "${open_max[oha]}" ">=1"
    ratio "service-time p99 at 40,000 req/s, trafficgen / oha" "$(service_p99 tg_open40000)" "$(service_p99 oha_open40000)" "<=1"
    ratio "h2 closed loop req per CPU-s, trafficgen / h2load" "$(req_per_cpu tg_h2max "$secs")" "$(req_per_cpu h2load_max "$secs")" ">=0.9"
    ratio "h2 CPU per request at $h2_rate req/s, trafficgen / oha" "$(cpu_per_req tg_h2rate "$secs")" "$(cpu_per_req oha_h2rate "$secs")" "<=0.6"
    echo
    echo "CPU per request (µs): $(for r in "$rate" "$high"; do printf 'at %s req/s trafficgen %.1f, oha %.1f; ' "$r" "$(cpu_per_req "tg_rate$r" "$secs")" "$(cpu_per_req "oha_rate$r" "$secs")"; done)"
    floor=$(cpu_per_req "floor_rate$rate" "$secs")
    echo "The floor at $rate req/s (\`bench/floor.rs\`: sleep to the tick, write, read, nothing else; one request a millisecond"
    echo "leaves nothing to batch) costs $(printf %.1f "$floor") µs per request, $(awk -v a="$floor" -v b="$(cpu_per_req "oha_rate$rate" "$secs")" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') of oha's:"
    echo "a target below that cannot be met by a generator that sleeps between ticks."
    echo "Closed loop req per CPU-s: trafficgen $(req_per_cpu tg_max "$secs" | cut -d. -f1), wrk $(req_per_cpu wrk_max "$secs" | cut -d. -f1), oha $(req_per_cpu oha_max "$secs" | cut -d. -f1)."
    echo "h2 closed loop req per CPU-s: trafficgen $(req_per_cpu tg_h2max "$secs" | cut -d. -f1), h2load $(req_per_cpu h2load_max "$secs" | cut -d. -f1), oha $(req_per_cpu oha_h2max "$secs" | cut -d. -f1). h2 CPU per request at $h2_rate req/s (µs): trafficgen $(printf %.1f "$(cpu_per_req tg_h2rate "$secs")"), oha $(printf %.1f "$(cpu_per_req oha_h2rate "$secs")")."
    # The static binary's size, and what was changed and what it bought: kept by hand beside this script.
    for kept in bench/size.md bench/notes.md; do
        if [ -f "$kept" ]; then echo; cat "$kept"; fi
    done
} > "$out"
cat "$out"
