#!/usr/bin/env bash
# The local static build that docs/kubernetes.md documents: no interpreter, no shared libraries,
# and it runs `--version` alone in an empty directory tree (chroot). Prints the binary's size.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-gnu
RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --target "$target"
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
echo "ok    size: $(stat -c %s "$bin") bytes ($(( $(stat -c %s "$bin") / 1024 / 1024 )) MiB)"
