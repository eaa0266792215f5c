#!/usr/bin/env bash
# The local static build that docs/kubernetes.md documents: no interpreter, no shared libraries,
# and it runs `--version` alone in an empty directory tree (chroot). Prints the binary's size.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-gnu
RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --target "$target"
bin="target/$target/release/trafficgen"
if readelf -lW "$bin" | grep -q 'Requesting program interpreter'; then
    echo "FAIL: $bin asks for a dynamic loader" >&2; exit 1
fi
if readelf -dW "$bin" | grep -q '(NEEDED)'; then
    echo "FAIL: $bin needs shared libraries:" >&2; readelf -dW "$bin" | grep NEEDED >&2; exit 1
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
cp "$bin" "$root/trafficgen"
version=$(chroot "$root" /trafficgen --version)
echo "ok    static binary runs in an empty root: $version"
echo "ok    size: $(stat -c %s "$bin") bytes ($(( $(stat -c %s "$bin") / 1024 / 1024 )) MiB)"
