#!/usr/bin/env bash
# The image users pull is the image CI built and ran:
#   - build the static binary and check it (.ci/check-static.sh; a no-op build when it is fresh);
#   - build the image with buildah from the Dockerfile itself, its `build` stage replaced by a
#     directory laid out as that stage's /out: this binary and Debian's CA bundle. The final stage,
#     the one users get from `docker build .`, is the recipe;
#   - check its config (user, PATH, CMD, no ENTRYPOINT, labels) and that its one layer holds the
#     binary, the CA bundle and nothing else;
#   - run it with podman as the restricted Pod Security profile would (read-only root, no
#     capabilities, no privilege escalation): --version, the demo, the README's one-liner against
#     a server on the host's loopback, a failed threshold, SIGTERM; exit codes must come out
#     unchanged, and /metrics must answer from the host;
#   - save it as an OCI archive, target/image/trafficgen-<version>.oci.tar, and print its size and
#     digest: a release pushes exactly this file (skopeo copy oci-archive:FILE docker://...).
# Needs buildah, podman, runc, curl and ca-certificates (Debian packages); without them it skips,
# or fails when TRAFFICGEN_REQUIRE_EXTERNAL=1.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

bash .ci/check-static.sh
bin=target/x86_64-unknown-linux-gnu/release/trafficgen
ca_bundle=/etc/ssl/certs/ca-certificates.crt

passed=0
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*" >&2; exit 1; }

# No Docker here to run the Dockerfile's `build` stage, so check that it builds as check-static.sh
# does: the same target, the same cargo command and RUSTFLAGS.
static_target=$(sed -n 's/^target=//p' .ci/check-static.sh)
static_build=$(grep -oE "RUSTFLAGS=.* --target " .ci/check-static.sh)
[[ -n $static_target && -n $static_build ]] || fail "no target= or cargo build line in .ci/check-static.sh"
grep -qx "ARG TARGET=$static_target" Dockerfile || fail "Dockerfile: ARG TARGET=$static_target, as .ci/check-static.sh"
grep -qF -- "$static_build\"\$TARGET\"" Dockerfile || fail "Dockerfile: $static_build\"\$TARGET\", as .ci/check-static.sh"
ok "Dockerfile's build stage builds as .ci/check-static.sh: $static_build$static_target"

missing=()
for tool in buildah podman runc curl python3; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[[ -r $ca_bundle ]] || missing+=(ca-certificates)
if ((${#missing[@]})); then
  [[ ${TRAFFICGEN_REQUIRE_EXTERNAL:-} == 1 ]] &&
    fail "image: ${missing[*]} not installed (apt-get install podman buildah runc curl ca-certificates)"
  printf '\n!!!!  SKIPPED the image check: %s not installed\n' "${missing[*]}" >&2
  printf '!!!!  apt-get install podman buildah runc curl ca-certificates, or set TRAFFICGEN_REQUIRE_EXTERNAL=1 to fail\n\n' >&2
  exit 0
fi

work=$(mktemp -d)
image=localhost/trafficgen-check:$$
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  podman rm -f --ignore "trafficgen-check-$$" >/dev/null 2>&1 || true
  buildah rmi "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# podman's settings, in a file of our own rather than in /etc: no default ulimits (podman's
# exceed this kind of machine's hard nofile limit, and runc fails with "error setting rlimit
# type 7"); runc, the runtime .ci/run installs; cgroupfs, as no systemd manages cgroups here.
cat >"$work/containers.conf" <<'EOF'
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
export CONTAINERS_CONF=$work/containers.conf

version=$("$bin" --version)
version=${version#trafficgen }
grep -qx "ARG VERSION=$version" Dockerfile || fail "Dockerfile: ARG VERSION=$version, the version the binary reports"
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
[[ $revision == unknown ]] || git diff --quiet HEAD -- || revision+=-dirty
# The commit's time, not now: the same commit and binary give the same image, digest included.
created=$(git log -1 --format=%ct 2>/dev/null || echo 0)

step() { printf '\n== %s\n' "$*"; }

step "Build"
mkdir -p "$work/context"
install -D -m 0755 "$bin" "$work/build/out/usr/local/bin/trafficgen"
install -D -m 0644 "$ca_bundle" "$work/build/out/etc/ssl/certs/ca-certificates.crt"
# An empty context: the final stage takes nothing from it, only from `build`.
buildah build --quiet --identity-label=false --timestamp "$created" \
  --build-context build="$work/build" \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  -f Dockerfile -t "$image" "$work/context" >"$work/build.log" 2>&1 ||
  fail "buildah build: $(cat "$work/build.log")"
ok "buildah build: the Dockerfile's final stage, from the binary checked above"

archive=target/image/trafficgen-$version.oci.tar
mkdir -p target/image
rm -f "$archive"
buildah push --quiet --digestfile "$work/digest" "$image" "oci-archive:$archive:trafficgen:$version" >"$work/push.log" 2>&1 ||
  fail "buildah push oci-archive: $(cat "$work/push.log")"
digest=$(<"$work/digest")

step "Contents"
# Read from the archive, the file a release pushes.
python3 - "$archive" "$bin" "$ca_bundle" "$version" "$revision" <<'PY' || fail "image contents"
import hashlib, json, sys, tarfile
archive, binary, ca_bundle, version, revision = sys.argv[1:]
oci_tar = tarfile.open(archive)
def blob(digest):
    return oci_tar.extractfile("blobs/sha256/" + digest.split(":", 1)[1])
(manifest,) = json.load(oci_tar.extractfile("index.json"))["manifests"]
manifest = json.load(blob(manifest["digest"]))
c = json.load(blob(manifest["config"]["digest"]))["config"]
assert c.get("User") == "65532:65532", f"User {c.get('User')}"
assert c.get("Env") == ["PATH=/usr/local/bin"], f"Env {c.get('Env')}"
assert c.get("Cmd") == ["trafficgen", "demo"], f"Cmd {c.get('Cmd')}"
assert not c.get("Entrypoint"), f"Entrypoint {c.get('Entrypoint')}"
assert c.get("ExposedPorts") == {"9464/tcp": {}}, f"ExposedPorts {c.get('ExposedPorts')}"
labels = c.get("Labels") or {}
oci = "org.opencontainers.image."
for key in ("title", "description", "source"):
    assert labels.get(oci + key), f"label {oci}{key}"
assert labels.get(oci + "version") == version, f"label version {labels.get(oci + 'version')}"
assert labels.get(oci + "revision") == revision, f"label revision {labels.get(oci + 'revision')}"
assert labels.get(oci + "licenses") == "Apache-2.0", "label licenses"
extra = sorted(set(labels) - {oci + k for k in ("title", "description", "source", "version", "revision", "licenses")})
assert not extra, f"labels beyond the OCI ones: {extra}"

def sha256(f):
    return hashlib.sha256(f.read()).hexdigest()

layers = manifest["layers"]
assert len(layers) == 1, f"{len(layers)} layers"
with tarfile.open(fileobj=blob(layers[0]["digest"])) as layer:
    files = {m.name.lstrip("./"): m for m in layer.getmembers() if not m.isdir()}
    expected = {"usr/local/bin/trafficgen": (binary, 0o755), "etc/ssl/certs/ca-certificates.crt": (ca_bundle, 0o644)}
    assert set(files) == set(expected), f"files {sorted(files)}, expected {sorted(expected)}"
    for name, (source, mode) in expected.items():
        m = files[name]
        assert m.isfile() and m.mode & 0o7777 == mode and m.uid == 0 and m.gid == 0, \
            f"{name}: mode {oct(m.mode)}, owner {m.uid}:{m.gid}"
        assert sha256(layer.extractfile(m)) == sha256(open(source, "rb")), f"{name} differs from {source}"
PY
ok "config: user 65532:65532, PATH=/usr/local/bin, CMD trafficgen demo, no ENTRYPOINT, port 9464, OCI labels (version $version, revision $revision)"
ok "one layer: the tested binary and the CA bundle, nothing else"

step "Runs"
# As the restricted Pod Security profile runs it. --read-only-tmpfs=false: a Pod's read-only root
# has no writable /tmp either.
restricted=(--rm --pull never --read-only --read-only-tmpfs=false --cap-drop ALL
  --security-opt no-new-privileges)

# `podman run`'s exit code is the container's; print the code and keep going. 124: it hung.
run() {
  local name=$1
  shift
  local rc=0
  timeout 120 podman run "${restricted[@]}" "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null || rc=$?
  printf '%s' "$rc"
}
# Wait until a file has a line matching an extended regex: the readiness signal of a process.
wait_for_line() {
  local file=$1 pattern=$2 deadline=$((SECONDS + $3))
  until grep -qE -- "$pattern" "$file" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

rc=$(run version --network none "$image" trafficgen --version)
[[ $rc == 0 && $(<"$work/version.out") == "trafficgen $version" ]] ||
  fail "trafficgen --version: exit $rc, $(cat "$work/version.out" "$work/version.err")"
ok "trafficgen --version: $(<"$work/version.out"), exit 0"

rc=$(run demo --network none "$image" trafficgen demo --duration 3s)
[[ $rc == 0 ]] && grep -q '^trafficgen summary' "$work/demo.out" ||
  fail "trafficgen demo --duration 3s: exit $rc: $(cat "$work/demo.out" "$work/demo.err")"
ok "trafficgen demo --duration 3s: exit 0"

# The target: the binary's own plain server on the host's loopback, 20 ms per answer.
"$bin" serve --listen 127.0.0.1:0 --delay 20ms >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
wait_for_line "$work/serve.err" '^serving on http://' 10 || fail "trafficgen serve did not start: $(cat "$work/serve.err")"
serve_line=$(grep -m1 '^serving on http://' "$work/serve.err")
url=${serve_line#serving on }/productpage

# The README's one-liner, shortened; --metrics-addr keeps it off the host's port 9464.
rc=$(run pass --network host "$image" trafficgen --rate 150 --duration 2s \
  --threshold 'p99<500ms' --threshold 'error_rate<1%' --metrics-addr 127.0.0.1:0 "$url")
[[ $rc == 0 ]] && grep -q 'verdict *PASS' "$work/pass.out" ||
  fail "one-liner against $url: exit $rc, expected 0: $(cat "$work/pass.out" "$work/pass.err")"
ok "trafficgen --rate 150 --duration 2s --threshold ... $url: exit 0, from the container"

rc=$(run threshold --network host "$image" trafficgen --rate 150 --duration 2s \
  --threshold 'p99<1ms' --metrics-addr 127.0.0.1:0 "$url")
[[ $rc == 3 ]] && grep -q 'verdict *FAIL' "$work/threshold.out" ||
  fail "p99<1ms against a 20 ms target: exit $rc, expected 3: $(cat "$work/threshold.out" "$work/threshold.err")"
ok "--threshold 'p99<1ms' against a 20 ms target: exit 3, from the container"

# No --duration: it sends until SIGTERM. Ready when /metrics, read from the host, counts answers:
# by then the signal handlers are installed.
podman run "${restricted[@]}" --name "trafficgen-check-$$" --network host "$image" \
  trafficgen --rate 150 --log-format json --metrics-addr 127.0.0.1:0 "$url" \
  >"$work/sigterm.out" 2>"$work/sigterm.err" </dev/null &
sigterm_pid=$!
pids+=("$sigterm_pid")
wait_for_line "$work/sigterm.err" '"serving /metrics"' 30 ||
  fail "no 'serving /metrics' from the container: $(cat "$work/sigterm.err")"
metrics_line=$(grep -m1 '"serving /metrics"' "$work/sigterm.err")
metrics_addr=$(sed -E 's/.*"addr":"([^"]+)".*/\1/' <<<"$metrics_line")
deadline=$((SECONDS + 10))
until curl -fsS "http://$metrics_addr/metrics" >"$work/metrics.txt" 2>"$work/curl.err" &&
  grep -qE '^http_client_request_duration_seconds_count\{.*\} [1-9]' "$work/metrics.txt"; do
  ((SECONDS < deadline)) || fail "http://$metrics_addr/metrics from the host: no answered request counted: $(cat "$work/curl.err" "$work/metrics.txt")"
  sleep 0.1
done
grep -q '^trafficgen_target_rps.* 150$' "$work/metrics.txt" || fail "/metrics has no trafficgen_target_rps 150"
ok "http://$metrics_addr/metrics answers from the host, counting requests"
podman kill --signal TERM "trafficgen-check-$$" >/dev/null
deadline=$((SECONDS + 30))
while kill -0 "$sigterm_pid" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "SIGTERM: the container still runs after 30 s: $(cat "$work/sigterm.err")"
  sleep 0.1
done
rc=0
wait "$sigterm_pid" || rc=$?
# A run a signal ended exits 128 + the signal: 143 for SIGTERM, as a shell reports it.
[[ $rc == 143 ]] && grep -q '^trafficgen summary (interrupted)' "$work/sigterm.out" ||
  fail "SIGTERM: exit $rc, expected 143 and the summary: $(cat "$work/sigterm.out" "$work/sigterm.err")"
ok "podman kill --signal TERM: the summary, exit $rc"

step "Archive"
size=$(stat -c %s "$archive")
ok "image $archive: $size bytes ($(awk -v b="$size" 'BEGIN { printf "%.2f MiB", b / 1048576 }')), digest $digest"
printf '\n%d image checks passed\n' "$passed"
