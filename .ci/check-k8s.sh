#!/usr/bin/env bash
# Offline checks of the image recipe and the Kubernetes files (no Docker engine, no cluster):
#   - hadolint on the Dockerfile, and the image contract (no ENTRYPOINT, user 65532, ...);
#   - the JSON schemas themselves against their metaschemas;
#   - every object in k8s/ and every object rendered by `kubectl kustomize` (base, each overlay,
#     overlays combined with the mesh components) and by `helm template` (each ci/*-values.yaml):
#     Kubernetes kinds with kubernetes-validate --strict for Kubernetes $KUBE_VERSION, PodMonitors
#     and PrometheusRules with check-jsonschema against k8s/schemas/, plus the house rules of
#     `policy` below (restricted pod security, podFailurePolicy, deadlines, labels, ...);
#   - the chart's rule file with `promtool check rules` and `promtool test rules` (tests/rules/, one
#     file per kind of cluster), and its dashboard as Grafana JSON whose every query names a metric
#     trafficgen, Istio, Linkerd, productpage or cAdvisor exports (the tests evaluate them in a real
#     Prometheus);
#   - `helm lint --strict` of the chart with each ci/*-values.yaml;
#   - the chart's schema rejects k8s/helm/bad-values.yaml and a few single mistakes.
# Tools: bash .ci/k8s-tools.sh
set -euo pipefail

cd "$(dirname "$0")/.."
K8S_TOOLS_DIR=${K8S_TOOLS_DIR:-$HOME/.local/share/trafficgen-k8s-tools}
export PATH=$K8S_TOOLS_DIR/bin:$K8S_TOOLS_DIR/venv/bin:$PATH
# The policy checks are Python asserts.
unset PYTHONOPTIMIZE
KUBE_VERSION=1.30.0
CHART=k8s/helm/trafficgen
PODMONITOR_SCHEMA=k8s/schemas/podmonitor-v1.json
PROMETHEUSRULE_SCHEMA=k8s/schemas/prometheusrule-v1.json

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0

step() { printf '\n== %s\n' "$*"; }
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*" >&2; exit 1; }

for tool in helm kubectl kubernetes-validate check-jsonschema hadolint promtool python3; do
  command -v "$tool" >/dev/null || fail "$tool is not installed: run bash .ci/k8s-tools.sh"
done

# The checks on one YAML stream, in Python: `split` writes each object to its own file and
# prints "<kind> <file>"; `policy` asserts the rules every rendered workload must follow and
# prints the kinds it saw.
py() {
  python3 - "$@" <<'PY'
import os, re, sys, yaml

def seconds(text):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"([0-9]+)(ms|h|m|s)", text or "")
    assert parts and "".join(n + u for n, u in parts) == text, f"not a duration: {text!r}"
    return sum(int(n) * units[u] for n, u in parts)

def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]

def split(path, outdir):
    os.makedirs(outdir, exist_ok=True)
    for i, doc in enumerate(load(path)):
        out = os.path.join(outdir, f"{i:03d}-{doc['kind'].lower()}.yaml")
        with open(out, "w") as f:
            yaml.safe_dump(doc, f)
        print(doc["kind"], out)

def policy(path, expected):
    docs = load(path)
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == sorted(expected.split()), f"kinds {kinds}, expected {expected.split()}"
    workloads = [d for d in docs if d["kind"] in ("Job", "CronJob")]
    assert len(workloads) == 1, "exactly one Job or CronJob"
    w = workloads[0]
    if w["kind"] == "CronJob":
        s = w["spec"]
        assert s["concurrencyPolicy"] == "Forbid", "CronJob: concurrencyPolicy Forbid"
        for key in ("schedule", "startingDeadlineSeconds", "successfulJobsHistoryLimit",
                    "failedJobsHistoryLimit"):
            assert key in s, f"CronJob: {key} is set"
        job = s["jobTemplate"]["spec"]
    else:
        job = w["spec"]
    tmpl = job["template"]
    pod = tmpl["spec"]
    labels = tmpl["metadata"]["labels"]
    annotations = tmpl["metadata"].get("annotations", {})
    for key in ("name", "instance", "component", "part-of", "version"):
        assert f"app.kubernetes.io/{key}" in labels, f"pod label app.kubernetes.io/{key}"
    assert pod["restartPolicy"] == "Never", "restartPolicy Never"
    assert pod["automountServiceAccountToken"] is False, "automountServiceAccountToken false"
    assert pod["enableServiceLinks"] is False, "enableServiceLinks false"
    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True and psc["runAsUser"] == 65532, "pod runs as 65532, non-root"
    assert psc["seccompProfile"]["type"] == "RuntimeDefault", "seccompProfile RuntimeDefault"
    (c,) = [c for c in pod["containers"] if c["name"] == "trafficgen"]
    sc = c["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False, "allowPrivilegeEscalation false"
    assert sc["readOnlyRootFilesystem"] is True, "readOnlyRootFilesystem true"
    assert "ALL" in sc["capabilities"]["drop"], "capabilities drop ALL"
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"][bound]), f"resources.{bound} cpu and memory"
    assert {"name": "metrics", "containerPort": 9464} in c["ports"], "port metrics 9464"
    # The image has no ENTRYPOINT, so the manifests name the binary.
    assert c["command"] == ["trafficgen"] and c["args"][0] == "run", "command trafficgen, args run"
    env = {e["name"]: e.get("value") for e in c["env"]}
    if "TRAFFICGEN_VERIFY_PROMETHEUS" in env:
        assert env["TRAFFICGEN_VERIFY_PROMETHEUS"].startswith("http"), "verify: a Prometheus URL"
        assert job["activeDeadlineSeconds"] >= seconds(env["TRAFFICGEN_DURATION"]) + \
            seconds(env["TRAFFICGEN_LINGER"]) + seconds(env["TRAFFICGEN_VERIFY_RETRY_FOR"]), \
            "deadline covers the run, the linger and the verification"

    # POD_* are no settings but the downward API's facts, the labels of remote-written series.
    downward = {"POD_NAME", "POD_NAMESPACE", "POD_IP"}
    assert all(n.startswith("TRAFFICGEN_") or n in downward for n in env), "settings are TRAFFICGEN_* env vars"
    assert downward <= set(env), "the downward API's POD_NAME, POD_NAMESPACE and POD_IP are set"
    # --stages set the rate and the duration; trafficgen refuses them alongside.
    stages = env.get("TRAFFICGEN_STAGES")
    shape = () if stages else ("TRAFFICGEN_RATE", "TRAFFICGEN_DURATION")
    for n in shape + ("TRAFFICGEN_LINGER", "TRAFFICGEN_MESH_SHUTDOWN"):
        assert env.get(n), f"{n} is set"
    if stages:
        assert not ({"TRAFFICGEN_RATE", "TRAFFICGEN_DURATION"} & set(env)), "no rate or duration with stages"
    assert "TRAFFICGEN_URL" in env or "TRAFFICGEN_SCENARIO" in env, "a target or a scenario"
    rules = job["podFailurePolicy"]["rules"]
    assert any(r["action"] == "FailJob" and r["onExitCodes"]["containerName"] == "trafficgen"
               and r["onExitCodes"]["operator"] == "In" and {2, 3} <= set(r["onExitCodes"]["values"])
               for r in rules if "onExitCodes" in r), "FailJob on exit codes 2 and 3 of trafficgen"
    assert any(r["action"] == "Ignore" and {"type": "DisruptionTarget", "status": "True"} in r["onPodConditions"]
               for r in rules if "onPodConditions" in r), "Ignore DisruptionTarget"
    assert job["backoffLimit"] >= 0 and job["ttlSecondsAfterFinished"] > 0, "backoffLimit, ttl"
    if stages:
        sending = sum(seconds(s.split(":")[0].strip()) for s in stages.split(","))
    else:
        sending = seconds(env["TRAFFICGEN_DURATION"])
    run = sending + seconds(env["TRAFFICGEN_LINGER"])
    if env.get("TRAFFICGEN_WAIT_FOR"):
        run += seconds(env["TRAFFICGEN_WAIT_TIMEOUT"])
    assert job["activeDeadlineSeconds"] > run, \
        f"activeDeadlineSeconds {job['activeDeadlineSeconds']} > wait + duration + linger ({run:g}s)"
    if job.get("completionMode") == "Indexed":
        shards = int(env["TRAFFICGEN_SHARDS"])
        assert job["completions"] == job["parallelism"] == shards, \
            "Indexed: completions == parallelism == TRAFFICGEN_SHARDS"
    else:
        assert env.get("TRAFFICGEN_SHARDS", "1") == "1", "shards > 1 only in an Indexed Job"
    mesh = env["TRAFFICGEN_MESH_SHUTDOWN"]
    if labels.get("sidecar.istio.io/inject") == "true":
        assert mesh == "istio", "istio sidecar: TRAFFICGEN_MESH_SHUTDOWN=istio"
        assert "holdApplicationUntilProxyStarts" in annotations.get("proxy.istio.io/config", ""), \
            "istio sidecar: holdApplicationUntilProxyStarts"
    if annotations.get("linkerd.io/inject") == "enabled":
        assert mesh == "linkerd", "linkerd proxy: TRAFFICGEN_MESH_SHUTDOWN=linkerd"
        assert annotations.get("config.linkerd.io/proxy-admin-shutdown") == "enabled", \
            "linkerd proxy: proxy-admin-shutdown enabled"
    assert mesh in ("auto", "istio", "linkerd"), "mesh-shutdown auto unless a mesh is chosen"
    for cm in (d for d in docs if d["kind"] == "ConfigMap" and "grafana_dashboard" in d["metadata"]["labels"]):
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1", "dashboard ConfigMap: grafana_dashboard: \"1\""
        import json
        (board,) = cm["data"].values()
        assert json.loads(board)["uid"] == "trafficgen", "dashboard ConfigMap holds the trafficgen dashboard"
    for rule in (d for d in docs if d["kind"] == "PrometheusRule"):
        assert rule["metadata"]["labels"].get("release") == "prometheus", "PrometheusRule release: prometheus"
        assert rule["spec"]["groups"], "PrometheusRule has rule groups"
    for pm in (d for d in docs if d["kind"] == "PodMonitor"):
        assert pm["metadata"]["labels"].get("release") == "prometheus", "PodMonitor release: prometheus"
        if pm["metadata"]["labels"].get("app.kubernetes.io/component") == "service-monitor":
            # The optional monitors of the services: never a job filter, always an interval.
            for ep in pm["spec"]["podMetricsEndpoints"]:
                assert ep["interval"], "service monitor has an interval"
                assert not any("job" in (r.get("targetLabel") or "") and r.get("targetLabel") != "k8s_job"
                               for r in ep.get("relabelings", [])), "service monitor does not set job"
            continue
        sel = pm["spec"]["selector"]["matchLabels"]
        assert sel and all(labels.get(k) == v for k, v in sel.items()), "PodMonitor selects the pods"
        (ep,) = pm["spec"]["podMetricsEndpoints"]
        assert ep["port"] == "metrics", "PodMonitor scrapes port metrics"
        assert seconds(env["TRAFFICGEN_LINGER"]) >= 2 * seconds(ep["interval"]), \
            "linger >= 2 x scrape interval"
    print(" ".join(kinds))

globals()[sys.argv[1]](*sys.argv[2:])
PY
}

# Schema-validate every object in a YAML stream; Kustomization and Component files are
# build inputs, checked by building them.
validate() {
  local name=$1 file=$2 out=$work/split/$1
  local -a kube=() podmonitors=() rules=()
  mkdir -p "$out"
  py split "$file" "$out" >"$out/objects" || fail "$name: not a YAML stream of objects"
  while read -r kind path; do
    case $kind in
      PodMonitor) podmonitors+=("$path") ;;
      PrometheusRule) rules+=("$path") ;;
      Kustomization | Component) ;;
      *) kube+=("$path") ;;
    esac
  done <"$out/objects"
  if ((${#kube[@]})); then
    # Quiet, so any output (an error, or a WARN for a kind it has no schema for) is a failure.
    local report
    report=$(kubernetes-validate --strict --quiet -k "$KUBE_VERSION" "${kube[@]}" 2>&1) &&
      [[ -z $report ]] || fail "$name: kubernetes-validate: $report"
  fi
  if ((${#podmonitors[@]})); then
    check-jsonschema --schemafile "$PODMONITOR_SCHEMA" "${podmonitors[@]}" >/dev/null ||
      fail "$name: PodMonitor does not match $PODMONITOR_SCHEMA"
  fi
  if ((${#rules[@]})); then
    check-jsonschema --schemafile "$PROMETHEUSRULE_SCHEMA" "${rules[@]}" >/dev/null ||
      fail "$name: PrometheusRule does not match $PROMETHEUSRULE_SCHEMA"
  fi
  ok "$name: $((${#kube[@]} + ${#podmonitors[@]} + ${#rules[@]})) object(s) valid for Kubernetes $KUBE_VERSION"
}

# Validate a rendered stream and apply the policy; $3 is the kinds it must contain.
rendered() {
  local name=$1 file=$2 kinds=$3 seen
  validate "$name" "$file"
  seen=$(py policy "$file" "$kinds" 2>&1) || fail "$name: policy: ${seen##*AssertionError: }"
  ok "$name: policy holds ($seen)"
}

# Run a command that must fail, with output matching a pattern.
must_fail() {
  local name=$1 pattern=$2 output
  shift 2
  if output=$("$@" 2>&1); then
    fail "$name: expected a failure, but it succeeded"
  fi
  grep -qE -- "$pattern" <<<"$output" || fail "$name: failed, but not with /$pattern/: $output"
  ok "$name: rejected"
}

step "The checks catch mistakes"
# Each mutant of the base output must be rejected, so a check that silently passes
# everything (say, asserts stripped by PYTHONOPTIMIZE) cannot go unnoticed.
kubectl kustomize k8s/base >"$work/base.yaml" || fail "kubectl kustomize k8s/base"
while IFS='|' read -r what check edit; do
  python3 - "$work/base.yaml" "$edit" >"$work/mutant.yaml" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
job, pm = (next(d for d in docs if d["kind"] == k) for k in ("Job", "PodMonitor"))
c = job["spec"]["template"]["spec"]["containers"][0]
exec(sys.argv[2])
yaml.safe_dump_all(docs, sys.stdout)
PY
  if ($check "mutant: $what" "$work/mutant.yaml" "Job PodMonitor") >/dev/null 2>&1; then
    fail "a mutant with $what passed $check"
  fi
  ok "$check rejects a $what"
done <<'MUTANTS'
Job field the API does not know|validate|c["imagePullPolice"] = "Always"
misspelt PodMonitor field|validate|pm["spec"]["podMetricsEndpoint"] = pm["spec"].pop("podMetricsEndpoints")
writable root filesystem|rendered|c["securityContext"]["readOnlyRootFilesystem"] = False
deadline shorter than the run|rendered|job["spec"]["activeDeadlineSeconds"] = 600
retry on failed thresholds|rendered|job["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"] = [2]
PodMonitor without the release label|rendered|del pm["metadata"]["labels"]["release"]
MUTANTS

# The PrometheusRule schema, likewise: a misspelt rule field must not pass.
# Render first, then edit: a failing helm at the head of a pipe would end the script without a word.
helm template tg "$CHART" --kube-version "$KUBE_VERSION" --show-only templates/prometheusrule.yaml \
  --set prometheusRule.enabled=true >"$work/rule.yaml" || fail "helm template --show-only templates/prometheusrule.yaml"
sed 's/^\(  *\)for:/\1fro:/' "$work/rule.yaml" >"$work/mutant.yaml"
grep -q 'fro:' "$work/mutant.yaml" || fail "the PrometheusRule mutant did not apply"
if (validate "mutant: misspelt rule field" "$work/mutant.yaml") >/dev/null 2>&1; then
  fail "a PrometheusRule with a misspelt rule field passed validate"
fi
ok "validate rejects a misspelt PrometheusRule field"

step "Dockerfile"
hadolint --failure-threshold style Dockerfile || fail "hadolint Dockerfile"
ok "hadolint Dockerfile"
grep -q '^ENTRYPOINT' Dockerfile && fail "Dockerfile: an ENTRYPOINT would break 'kubectl create job --image=IMG -- trafficgen ...'"
grep -q '^CMD \["trafficgen", "demo"\]' Dockerfile || fail "Dockerfile: CMD runs trafficgen demo"
grep -q '^USER 65532:65532' Dockerfile || fail "Dockerfile: USER 65532:65532"
grep -q '/usr/local/bin/trafficgen' Dockerfile || fail "Dockerfile: binary at /usr/local/bin/trafficgen"
grep -qx 'target/' .dockerignore || fail ".dockerignore: target/"
ok "image contract: no ENTRYPOINT, CMD trafficgen demo, USER 65532, /usr/local/bin/trafficgen"

step "JSON schemas"
for schema in "$PODMONITOR_SCHEMA" "$PROMETHEUSRULE_SCHEMA" "$CHART/values.schema.json"; do
  check-jsonschema --check-metaschema "$schema" >/dev/null || fail "$schema is not a valid JSON schema"
  ok "$schema is a valid JSON schema"
done

step "Rules and dashboard"
promtool check rules "$CHART/files/rules.yaml" >"$work/rules.txt" 2>&1 ||
  fail "promtool check rules $CHART/files/rules.yaml: $(cat "$work/rules.txt")"
ok "promtool check rules $CHART/files/rules.yaml"
for kind in none linkerd istio; do
  promtool test rules "tests/rules/$kind.yaml" >"$work/rules.txt" 2>&1 ||
    fail "promtool test rules tests/rules/$kind.yaml: $(cat "$work/rules.txt")"
  ok "promtool test rules tests/rules/$kind.yaml (alerts of a cluster with $kind mesh)"
done
python3 - "$CHART/files/dashboard.json" <<'PY' || fail "$CHART/files/dashboard.json"
import json, re, sys
board = json.load(open(sys.argv[1]))
assert board["uid"] == "trafficgen" and board["panels"], "a dashboard with uid trafficgen and panels"
known = re.compile(r"\b(http_client_request_duration_seconds_(count|bucket)|trafficgen_[a-z_]+|process_[a-z_]+"
                   r"|istio_requests_total|istio_request_duration_milliseconds_bucket"
                   r"|request_total|response_total|response_latency_ms_bucket|request_result_total"
                   r"|container_(cpu_usage_seconds|network_(receive|transmit)_bytes)_total"
                   r"|container_memory_working_set_bytes)\b")
assert not re.search(r'job=~?"(?!\$job)', json.dumps(board)), "no query filters on a fixed job value"
ids = set()
for p in board["panels"]:
    assert p["id"] not in ids, f"panel id {p['id']} is unique"
    ids.add(p["id"])
    for t in p.get("targets", []):
        assert known.search(t["expr"]), f"{p['title']}: {t['expr']} names no exported metric"
        assert t["datasource"]["uid"] == "${datasource}", f"{p['title']}: uses the datasource variable"
PY
ok "$CHART/files/dashboard.json: Grafana JSON, every query on an exported metric"

step "Files in k8s/"
while IFS= read -r file; do
  if [[ $(basename "$file") == kustomization.yaml ]]; then
    ok "$file: a kustomization, checked by building it below"
  else
    validate "$file" "$file"
  fi
done < <(find k8s -name '*.yaml' -not -path 'k8s/helm/*' | sort)

step "kubectl kustomize ($(kubectl version --client | sed -n 's/^Kustomize Version: //p'))"
declare -A kustomize_kinds=(
  [k8s/base]="Job PodMonitor"
  [k8s/overlays/cronjob]="CronJob PodMonitor"
  [k8s/overlays/indexed]="Job PodMonitor"
  [k8s/overlays/istio]="Job PodMonitor"
  [k8s/overlays/linkerd]="Job PodMonitor"
)
for dir in k8s/base k8s/overlays/*/; do
  dir=${dir%/}
  [[ -n ${kustomize_kinds[$dir]:-} ]] || fail "$dir: add it to kustomize_kinds in $0"
  kubectl kustomize "$dir" >"$work/out.yaml" || fail "kubectl kustomize $dir"
  rendered "kustomize $dir" "$work/out.yaml" "${kustomize_kinds[$dir]}"
done
# The mesh components must also fit the CronJob and the Indexed Job.
for combo in cronjob:istio cronjob:linkerd indexed:istio indexed:linkerd; do
  overlay=${combo%%:*} mesh=${combo##*:}
  dir=$work/combo-$overlay-$mesh
  mkdir -p "$dir"
  rel=$(realpath --relative-to="$dir" k8s)
  printf 'resources: [%s]\ncomponents: [%s]\n' "$rel/overlays/$overlay" "$rel/components/$mesh" \
    >"$dir/kustomization.yaml"
  kubectl kustomize "$dir" >"$work/out.yaml" || fail "kubectl kustomize overlays/$overlay + components/$mesh"
  grep -q "value: $mesh" "$work/out.yaml" || fail "overlays/$overlay + components/$mesh: the component did not apply"
  rendered "kustomize overlays/$overlay + components/$mesh" "$work/out.yaml" "${kustomize_kinds[k8s/overlays/$overlay]}"
done

# The remote-write component fits every overlay: the push is set and the PodMonitor goes.
for overlay in cronjob indexed istio linkerd; do
  dir=$work/remote-write-$overlay
  mkdir -p "$dir"
  rel=$(realpath --relative-to="$dir" k8s)
  printf 'resources: [%s]\ncomponents: [%s]\n' "$rel/overlays/$overlay" "$rel/components/remote-write" \
    >"$dir/kustomization.yaml"
  kubectl kustomize "$dir" >"$work/out.yaml" || fail "kubectl kustomize overlays/$overlay + components/remote-write"
  grep -q "name: TRAFFICGEN_REMOTE_WRITE$" "$work/out.yaml" ||
    fail "overlays/$overlay + components/remote-write: the component did not apply"
  kinds=${kustomize_kinds[k8s/overlays/$overlay]}
  rendered "kustomize overlays/$overlay + components/remote-write" "$work/out.yaml" "${kinds% PodMonitor}"
done

step "helm ($(helm version --short))"
declare -A helm_kinds=(
  [job]="ConfigMap Job PodMonitor"
  [cronjob]="ConfigMap CronJob PodMonitor"
  [indexed]="ConfigMap Job PodMonitor"
  [istio]="ConfigMap Job PodMonitor"
  [linkerd]="ConfigMap Job PodMonitor"
  [scenario]="ConfigMap ConfigMap Job PodMonitor"
  [stages]="ConfigMap Job PodMonitor"
  [monitoring]="Job PodMonitor PrometheusRule"
  [verify]="ConfigMap ConfigMap Job PodMonitor PodMonitor PodMonitor PodMonitor"
  [remote-write]="ConfigMap ConfigMap Job"
)
helm lint --strict --kube-version "$KUBE_VERSION" "$CHART" >"$work/lint.txt" 2>&1 ||
  fail "helm lint --strict $CHART: $(cat "$work/lint.txt")"
ok "helm lint --strict (default values)"
helm template tg "$CHART" -n bookinfo --kube-version "$KUBE_VERSION" >"$work/out.yaml" ||
  fail "helm template (default values)"
rendered "helm template (default values)" "$work/out.yaml" "ConfigMap Job PodMonitor"
for values in "$CHART"/ci/*-values.yaml; do
  mode=$(basename "$values" -values.yaml)
  [[ -n ${helm_kinds[$mode]:-} ]] || fail "$values: add $mode to helm_kinds in $0"
  helm lint --strict --kube-version "$KUBE_VERSION" "$CHART" -f "$values" >"$work/lint.txt" 2>&1 ||
    fail "helm lint --strict -f $values: $(cat "$work/lint.txt")"
  ok "helm lint --strict -f $values"
  helm template tg "$CHART" -n bookinfo --kube-version "$KUBE_VERSION" -f "$values" >"$work/out.yaml" ||
    fail "helm template -f $values"
  rendered "helm template -f $values" "$work/out.yaml" "${helm_kinds[$mode]}"
done
# An upgrade must create a new Job rather than patch the immutable old one.
helm template tg "$CHART" --kube-version "$KUBE_VERSION" --is-upgrade >"$work/out.yaml"
grep -q '^  name: tg-trafficgen-r1$' "$work/out.yaml" || fail "the Job name carries the release revision"
ok "the Job name carries the release revision (tg-trafficgen-r1 for revision 1)"

step "helm rejects bad values"
bad=k8s/helm/bad-values.yaml
schema_error="values don't meet the specifications of the schema"
must_fail "helm lint --strict -f $bad" "$schema_error" \
  helm lint --strict --kube-version "$KUBE_VERSION" "$CHART" -f "$bad"
must_fail "helm template -f $bad" "$schema_error" \
  helm template tg "$CHART" --kube-version "$KUBE_VERSION" -f "$bad"
helm template tg "$CHART" --kube-version "$KUBE_VERSION" -f "$bad" >/dev/null 2>"$work/bad.txt" || true
for mistake in "/mode" "'rat' not allowed" "/rate" "/duration" "/shards" "/targets/0" \
  "/podMonitor/enabled" "'release' not allowed"; do
  grep -qF -- "$mistake" "$work/bad.txt" || fail "$bad: the schema did not report $mistake"
done
ok "$bad: every deliberate mistake is reported"
while IFS='|' read -r what pattern args; do
  read -ra argv <<<"$args"
  must_fail "$what" "$pattern" helm template tg "$CHART" --kube-version "$KUBE_VERSION" "${argv[@]}"
done <<'CASES'
unknown top-level key|additional properties 'rat' not allowed|--set rat=150
rate that is not a number|/rate|--set rate=fast
unknown mode|/mode|--set mode=deployment
shards without mode indexed|/shards|--set shards=3
unknown podMonitor key|additional properties 'enable' not allowed|--set podMonitor.enable=true
unknown prometheusRule key|additional properties 'enable' not allowed|--set prometheusRule.enable=true
dashboard namespace that is no name|/grafanaDashboard/namespace|--set grafanaDashboard.namespace=Monitoring
unknown verify mesh|/verify/mesh|--set verify.mesh=consul
unknown monitor|additional properties 'envoy' not allowed|--set monitors.envoy.enabled=true
target with a comma|/targets/0|--set-json targets=["http://a/b,c"]
threshold with a comma|/thresholds/0|--set-json thresholds=["p99<1s,p90<1s"]
env entry with an unknown field|additional properties 'valu' not allowed|--set-json env=[{"name":"X","valu":"1"}]
neither targets nor scenario|give at least one URL, or a scenario|--set-json targets=[]
stage that is no DURATION:RATE|/stages/0|--set-json stages=["fast"]
warm-up that is no duration|/warmup|--set warmup=soon
unknown trace header format|/tracing/headers|--set tracing.headers=zipkin
trace sample above 1|/tracing/sample|--set tracing.sample=5
OTLP endpoint that is not http|/tracing/otlpEndpoint|--set tracing.otlpEndpoint=collector:4318
CASES

printf '\n%d passed, 0 failed\n' "$passed"
