#!/usr/bin/env bash
# The local static build that docs/kubernetes.md documents: no interpreter, no shared libraries,
# and it runs `--version` alone in an empty directory tree (chroot). Prints the binary's size and
# fails over 8 MiB, the budget of the image (.ci/check-image.sh puts this binary in it).
# BENCHMARKS.md ("Binary size") lists what each part weighs and what each saving bought.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-gnu
# Not position-independent: a static PIE carries 0.4 MiB of relocations for its own load-time
# address randomisation, which is a part of what keeps the binary under the image's budget
# (Go's static binaries make the same trade). Identical code folding (`--icf=all`, rust-lld, the
# target's default linker) keeps one copy of functions that compile to the same bytes, which
# generic code makes many of; Rust promises no distinct addresses for functions.
# no-unwind-tables.ld drops the unwind tables, which panic = "abort" leaves nothing to use but a
# backtrace of bare addresses. The Dockerfile builds with the same flags.
RUSTFLAGS='-C target-feature=+crt-static -C relocation-model=static -C link-arg=-Wl,--icf=all -C link-arg=-Wl,-T,no-unwind-tables.ld -C link-arg=-Wl,--no-eh-frame-hdr' cargo build --release --locked --target "$target"
bin="target/$target/release/trafficgen"
# Read whole outputs first: `readelf | grep -q` under pipefail fails on SIGPIPE, not on the match.
program_headers=$(readelf -lW "$bin")
dynamic_section=$(readelf -dW "$bin")
if grep -q 'Requesting program interpreter' <<<"$program_headers"; then
    echo "FAIL: $bin asks for a dynamic loader" >&2; exit 1
fi
if grep -q '(NEEDED)' <<<"$dynamic_section"; then
    echo "FAIL: $bin needs shared libraries:" >&2; grep NEEDED <<<"$dynamic_section" >&2; exit 1
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
cp "$bin" "$root/trafficgen"
version=$(chroot "$root" /trafficgen --version)
echo "ok    static binary runs in an empty root: $version"
size=$(stat -c %s "$bin")
budget=$((8 * 1024 * 1024))
mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB", b / 1048576 }'; }
if ((size > budget)); then
    echo "FAIL: $bin is $size bytes ($(mib "$size")), over the image's budget of $(mib "$budget"): see what it carries with cargo bloat" >&2
    exit 1
fi
echo "ok    size: $size bytes ($(mib "$size")), budget $(mib "$budget")"
