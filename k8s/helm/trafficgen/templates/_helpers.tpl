{{/* Chart name, overridable with nameOverride. */}}
{{- define "trafficgen.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, with the chart name appended unless the release
name already contains it. Truncated to 52 characters, the limit for a CronJob name.
*/}}
{{- define "trafficgen.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The Job's name carries the release revision: a Job's pod template is immutable, so every
`helm upgrade` creates a new Job (and Helm deletes the previous one).
*/}}
{{- define "trafficgen.jobName" -}}
{{- printf "%s-r%d" (include "trafficgen.fullname" .) (int .Release.Revision) }}
{{- end }}

{{- define "trafficgen.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "trafficgen.selectorLabels" -}}
app.kubernetes.io/name: {{ include "trafficgen.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "trafficgen.labels" -}}
helm.sh/chart: {{ include "trafficgen.chart" . }}
{{ include "trafficgen.selectorLabels" . }}
app.kubernetes.io/component: load-generator
app.kubernetes.io/part-of: trafficgen
app.kubernetes.io/version: {{ include "trafficgen.tag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "trafficgen.tag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Whole seconds in a duration such as 90s, 10m or 1h30m (milliseconds are dropped). */}}
{{- define "trafficgen.seconds" -}}
{{- $total := 0 }}
{{- range regexFindAll "[0-9]+(ms|h|m|s)" . -1 }}
{{- $n := regexFind "^[0-9]+" . | int }}
{{- $unit := trimPrefix (regexFind "^[0-9]+" .) . }}
{{- if eq $unit "h" }}{{ $total = add $total (mul $n 3600) }}
{{- else if eq $unit "m" }}{{ $total = add $total (mul $n 60) }}
{{- else if eq $unit "s" }}{{ $total = add $total $n }}
{{- end }}
{{- end }}
{{- $total }}
{{- end }}

{{/* Whole seconds of sending: the stages' durations added up, or `duration`. */}}
{{- define "trafficgen.sending" -}}
{{- if .Values.stages }}
{{- $total := 0 }}
{{- range .Values.stages }}{{ $total = add $total (include "trafficgen.seconds" (first (splitList ":" .)) | int) }}{{ end }}
{{- $total }}
{{- else }}
{{- include "trafficgen.seconds" .Values.duration }}
{{- end }}
{{- end }}

{{/* The Job spec, shared by the Job and the CronJob's jobTemplate. */}}
{{- define "trafficgen.jobSpec" -}}
{{- $v := .Values }}
{{- if eq $v.mode "indexed" }}
completionMode: Indexed
# All shards run at once, or the total rate would not hold.
completions: {{ $v.shards }}
parallelism: {{ $v.shards }}
{{- end }}
backoffLimit: {{ $v.job.backoffLimit }}
{{- if $v.job.activeDeadlineSeconds }}
activeDeadlineSeconds: {{ $v.job.activeDeadlineSeconds }}
{{- else }}
{{- $wait := 0 }}
{{- if $v.waitFor.url }}{{ $wait = include "trafficgen.seconds" $v.waitFor.timeout | int }}{{ end }}
{{- $verify := 0 }}
{{- if $v.verify.enabled }}{{ $verify = include "trafficgen.seconds" $v.verify.retryFor | int }}{{ end }}
activeDeadlineSeconds: {{ add $wait $verify (include "trafficgen.sending" . | int) (include "trafficgen.seconds" $v.linger | int) 300 }}
{{- end }}
ttlSecondsAfterFinished: {{ $v.job.ttlSecondsAfterFinished }}
podFailurePolicy:
  rules:
    # 2 = invalid configuration (nothing was sent), 3 = thresholds failed: a retry cannot
    # change either outcome.
    - action: FailJob
      onExitCodes:
        containerName: trafficgen
        operator: In
        values: [2, 3]
    # A node drain or preemption is not the run's fault: retry without using up backoffLimit.
    - action: Ignore
      onPodConditions:
        - type: DisruptionTarget
          status: "True"
    # 143/130: a signal (SIGTERM/SIGINT) ended the run early. From a drain, preemption or eviction
    # the rule above ignores it; otherwise (a deleted pod, a kill) it is retried within backoffLimit.
    - action: Count
      onExitCodes:
        containerName: trafficgen
        operator: In
        values: [130, 143]
template:
  metadata:
    labels:
      {{- include "trafficgen.labels" . | nindent 6 }}
      {{- if eq $v.mesh "istio" }}
      sidecar.istio.io/inject: "true"
      {{- end }}
      {{- with $v.podLabels }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    annotations:
      # If a mesh sidecar is injected (explicitly or by a namespace label), keep the metrics
      # port outside the proxy so Prometheus can scrape it even under STRICT mTLS.
      traffic.sidecar.istio.io/excludeInboundPorts: "9464"
      config.linkerd.io/skip-inbound-ports: "9464"
      {{- if eq $v.mesh "istio" }}
      proxy.istio.io/config: '{"holdApplicationUntilProxyStarts": true}'
      {{- else if eq $v.mesh "linkerd" }}
      linkerd.io/inject: enabled
      config.linkerd.io/proxy-await: enabled
      # Recent Linkerd releases serve /shutdown only when this is enabled.
      config.linkerd.io/proxy-admin-shutdown: enabled
      {{- end }}
      {{- with $v.podAnnotations }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
  spec:
    restartPolicy: Never
    automountServiceAccountToken: false
    enableServiceLinks: false
    {{- with $v.imagePullSecrets }}
    imagePullSecrets:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    securityContext:
      {{- toYaml $v.podSecurityContext | nindent 6 }}
    containers:
      - name: trafficgen
        image: "{{ $v.image.repository }}:{{ include "trafficgen.tag" . }}"
        imagePullPolicy: {{ $v.image.pullPolicy }}
        command: [trafficgen]
        args:
          - run
          {{- range $v.extraArgs }}
          - {{ . | quote }}
          {{- end }}
        env:
          {{- with $v.targets }}
          - name: TRAFFICGEN_URL
            value: {{ join "," . | quote }}
          {{- end }}
          {{- if $v.stages }}
          # The stages set the rate over time and the duration; rate and duration are unused.
          - name: TRAFFICGEN_STAGES
            value: {{ join ", " $v.stages | quote }}
          {{- else }}
          - name: TRAFFICGEN_RATE
            value: {{ include "trafficgen.rate" . | quote }}
          - name: TRAFFICGEN_DURATION
            value: {{ $v.duration | quote }}
          {{- end }}
          {{- if $v.warmup }}
          - name: TRAFFICGEN_WARMUP
            value: {{ $v.warmup | quote }}
          {{- end }}
          {{- with $v.thresholds }}
          - name: TRAFFICGEN_THRESHOLD
            value: {{ join "," . | quote }}
          {{- end }}
          {{- if $v.waitFor.url }}
          - name: TRAFFICGEN_WAIT_FOR
            value: {{ $v.waitFor.url | quote }}
          - name: TRAFFICGEN_WAIT_TIMEOUT
            value: {{ $v.waitFor.timeout | quote }}
          {{- end }}
          - name: TRAFFICGEN_LINGER
            value: {{ $v.linger | quote }}
          - name: TRAFFICGEN_MESH_SHUTDOWN
            value: {{ eq $v.mesh "none" | ternary "auto" $v.mesh }}
          {{- if eq $v.mode "indexed" }}
          # With JOB_COMPLETION_INDEX, set by the Job controller, this pod sends its share.
          - name: TRAFFICGEN_SHARDS
            value: {{ $v.shards | quote }}
          {{- end }}
          {{- if $v.scenario }}
          - name: TRAFFICGEN_SCENARIO
            value: /etc/trafficgen/scenario.yaml
          {{- end }}
          - name: TRAFFICGEN_TRACE_HEADERS
            value: {{ $v.tracing.headers | quote }}
          - name: TRAFFICGEN_TRACE_SAMPLE
            value: {{ $v.tracing.sample | toString | quote }}
          {{- with $v.tracing.otlpEndpoint }}
          - name: TRAFFICGEN_OTLP_ENDPOINT
            value: {{ . | quote }}
          {{- end }}
          - name: TRAFFICGEN_LOG_FORMAT
            value: json
          # The summary as one JSON line too: `kubectl logs` then ends with it, for scripts.
          - name: TRAFFICGEN_OUTPUT
            value: json
          - name: TRAFFICGEN_RUN_ID
            valueFrom:
              fieldRef:
                fieldPath: metadata.labels['batch.kubernetes.io/job-name']
          {{- if $v.verify.enabled }}
          # After the run and linger: PromQL checks of what Prometheus saw (trafficgen verify).
          - name: TRAFFICGEN_VERIFY_PROMETHEUS
            value: {{ $v.verify.prometheusUrl | quote }}
          - name: TRAFFICGEN_VERIFY_MESH
            value: {{ $v.verify.mesh | quote }}
          - name: TRAFFICGEN_VERIFY_NAMESPACE
            value: {{ $v.verify.namespace | quote }}
          - name: TRAFFICGEN_VERIFY_RETRY_FOR
            value: {{ $v.verify.retryFor | quote }}
          - name: TRAFFICGEN_VERIFY_SCRAPE_INTERVAL
            value: {{ $v.podMonitor.interval | quote }}
          {{- if or $v.verify.dashboard.enabled $v.verify.rules.enabled }}
          # The preset stays on beside the dashboard's and rules' checks.
          - name: TRAFFICGEN_VERIFY_PRESET
            value: bookinfo
          {{- end }}
          {{- if $v.verify.dashboard.enabled }}
          # The chart's own dashboard, one check per panel of the rows for this kind of cluster.
          - name: TRAFFICGEN_VERIFY_DASHBOARD
            value: /etc/trafficgen-dashboard/trafficgen.json
          - name: TRAFFICGEN_VERIFY_PANEL
            value: {{ include "trafficgen.verifyPanels" . | quote }}
          {{- end }}
          {{- if $v.verify.rules.enabled }}
          # The chart's alert rules of this kind of cluster, one check per rule.
          - name: TRAFFICGEN_VERIFY_RULES
            value: /etc/trafficgen-rules/rules.yaml
          {{- end }}
          {{- end }}
          # The pod's name, namespace and address: the labels a scrape would add to remote-written series.
          - name: POD_NAME
            valueFrom:
              fieldRef:
                fieldPath: metadata.name
          - name: POD_NAMESPACE
            valueFrom:
              fieldRef:
                fieldPath: metadata.namespace
          - name: POD_IP
            valueFrom:
              fieldRef:
                fieldPath: status.podIP
          {{- with $v.remoteWrite }}
          {{- if .url }}
          - name: TRAFFICGEN_REMOTE_WRITE
            value: {{ .url | quote }}
          - name: TRAFFICGEN_REMOTE_WRITE_INTERVAL
            value: {{ .interval | quote }}
          # One per line; job as the PodMonitor's scrape would name it, so dashboards and rules match.
          - name: TRAFFICGEN_REMOTE_WRITE_LABEL
            value: |
              job={{ $.Release.Namespace }}/{{ include "trafficgen.fullname" $ }}
              {{- range $name, $value := .labels }}
              {{ $name }}={{ $value }}
              {{- end }}
          {{- with .headers }}
          - name: TRAFFICGEN_REMOTE_WRITE_HEADER
            value: |
              {{- range $name, $value := . }}
              {{ $name }}: {{ $value }}
              {{- end }}
          {{- end }}
          {{- if .bearerTokenSecret.name }}
          - name: TRAFFICGEN_REMOTE_WRITE_BEARER_TOKEN_FILE
            value: /etc/trafficgen-remote-write/bearer/{{ .bearerTokenSecret.key }}
          {{- end }}
          {{- if .basicAuthSecret.name }}
          - name: TRAFFICGEN_REMOTE_WRITE_USERNAME_FILE
            value: /etc/trafficgen-remote-write/basic/{{ .basicAuthSecret.usernameKey }}
          - name: TRAFFICGEN_REMOTE_WRITE_PASSWORD_FILE
            value: /etc/trafficgen-remote-write/basic/{{ .basicAuthSecret.passwordKey }}
          {{- end }}
          {{- end }}
          {{- end }}
          {{- with $v.env }}
          {{- toYaml . | nindent 10 }}
          {{- end }}
        ports:
          - name: metrics
            containerPort: 9464
        livenessProbe:
          httpGet:
            path: /healthz
            port: metrics
          periodSeconds: 10
          failureThreshold: 6
        resources:
          {{- toYaml $v.resources | nindent 10 }}
        # The binary writes its verdict here; fall back to the log tail if it could not.
        terminationMessagePolicy: FallbackToLogsOnError
        securityContext:
          {{- toYaml $v.securityContext | nindent 10 }}
        {{- $dashboard := and $v.verify.enabled $v.verify.dashboard.enabled }}
        {{- $rules := and $v.verify.enabled $v.verify.rules.enabled }}
                {{- $bearer := and $v.remoteWrite.url $v.remoteWrite.bearerTokenSecret.name }}
        {{- $basic := and $v.remoteWrite.url $v.remoteWrite.basicAuthSecret.name }}
        {{- if or $v.scenario $dashboard $rules $bearer $basic }}
        volumeMounts:
          {{- if $v.scenario }}
          - name: scenario
            mountPath: /etc/trafficgen
            readOnly: true
          {{- end }}
          {{- if $dashboard }}
          - name: dashboard
            mountPath: /etc/trafficgen-dashboard
            readOnly: true
          {{- end }}
          {{- if $rules }}
          - name: rules
            mountPath: /etc/trafficgen-rules
            readOnly: true
          {{- end }}
          {{- if $bearer }}
          - name: remote-write-bearer
            mountPath: /etc/trafficgen-remote-write/bearer
            readOnly: true
          {{- end }}
          {{- if $basic }}
          - name: remote-write-basic
            mountPath: /etc/trafficgen-remote-write/basic
            readOnly: true
          {{- end }}
        {{- end }}
    {{- if or $v.scenario $dashboard $rules $bearer $basic }}
    volumes:
      {{- if $v.scenario }}
      - name: scenario
        configMap:
          name: {{ include "trafficgen.fullname" . }}-scenario
      {{- end }}
      {{- if $dashboard }}
      - name: dashboard
        configMap:
          name: {{ include "trafficgen.fullname" . }}-dashboard
      {{- end }}
      {{- if $rules }}
      - name: rules
        configMap:
          name: {{ include "trafficgen.fullname" . }}-verify-rules
      {{- end }}
      {{- if $bearer }}
      - name: remote-write-bearer
        secret:
          secretName: {{ $v.remoteWrite.bearerTokenSecret.name }}
      {{- end }}
      {{- if $basic }}
      - name: remote-write-basic
        secret:
          secretName: {{ $v.remoteWrite.basicAuthSecret.name }}
      {{- end }}
    {{- end }}
    {{- with $v.nodeSelector }}
    nodeSelector:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with $v.tolerations }}
    tolerations:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with $v.affinity }}
    affinity:
      {{- toYaml . | nindent 6 }}
    {{- end }}
{{- end }}

{{/* The rate as trafficgen reads it: YAML numbers arrive as floats, and 1e+06 is no rate. */}}
{{- define "trafficgen.rate" -}}
{{- $rate := .Values.rate }}
{{- if and (kindIs "float64" $rate) (eq (float64 (int64 $rate)) $rate) }}
{{- int64 $rate }}
{{- else }}
{{- $rate }}
{{- end }}
{{- end }}

{{/* The scenario file's text: a string as given, an object as YAML. */}}
{{- define "trafficgen.scenario" -}}
{{- if kindIs "string" .Values.scenario }}
{{- .Values.scenario }}
{{- else }}
{{- toYaml .Values.scenario }}
{{- end }}
{{- end }}

{{/* The dashboard panels `verify.dashboard` checks: `panels` as given, else the rows the kind of
cluster has data for (the other mesh's rows would fail; productpage's own row needs its monitor). */}}
{{- define "trafficgen.verifyPanels" -}}
{{- $d := .Values.verify.dashboard }}
{{- if $d.panels }}
{{- $d.panels }}
{{- else }}
{{- $rows := list "Client" "Resources per workload" }}
{{- if eq .Values.verify.mesh "istio" }}{{ $rows = append $rows "Services with Istio" }}{{ end }}
{{- if eq .Values.verify.mesh "linkerd" }}{{ $rows = append $rows "Services with Linkerd" }}{{ end }}
{{- if .Values.monitors.productpage.enabled }}{{ $rows = append $rows "Services with no mesh" }}{{ end }}
{{- printf "^(%s)" (join "|" $rows) }}
{{- end }}
{{- end }}

{{/* The chart's rule groups `verify.rules` checks: the client's, `verify.mesh`'s services group,
and the no-mesh group when productpage's own /metrics is scraped (other groups' metrics are absent). */}}
{{- define "trafficgen.verifyRules" -}}
{{- $file := .Files.Get "files/rules.yaml" | fromYaml }}
{{- $keep := list "trafficgen.client" (printf "trafficgen.services.%s" .Values.verify.mesh) }}
{{- if .Values.monitors.productpage.enabled }}{{ $keep = append $keep "trafficgen.services.nomesh" }}{{ end }}
{{- $groups := list }}
{{- range $file.groups }}{{ if has .name $keep }}{{ $groups = append $groups . }}{{ end }}{{ end }}
{{- toYaml (dict "groups" $groups) }}
{{- end }}

{{/* Settings that the schema cannot express. */}}
{{- define "trafficgen.validate" -}}
{{- if not (or .Values.targets .Values.scenario) }}
{{- fail "targets: give at least one URL, or a scenario" }}
{{- end }}
{{- $g := .Values.grafanaDashboard }}
{{- if and .Values.verify.enabled .Values.verify.dashboard.enabled }}
{{- if not $g.enabled }}
{{- fail "verify.dashboard.enabled: the Job mounts the dashboard's ConfigMap; set grafanaDashboard.enabled too" }}
{{- end }}
{{- if and $g.namespace (ne $g.namespace .Release.Namespace) }}
{{- fail (printf "verify.dashboard.enabled: the dashboard's ConfigMap is in grafanaDashboard.namespace=%s, where the Job cannot mount it; leave grafanaDashboard.namespace empty, or set verify.dashboard.enabled=false" $g.namespace) }}
{{- end }}
{{- end }}
{{- if and .Values.remoteWrite.bearerTokenSecret.name .Values.remoteWrite.basicAuthSecret.name }}
{{- fail "remoteWrite: give bearerTokenSecret or basicAuthSecret, not both" }}
{{- end }}
{{- end }}

{{/* A string map as k=v,k=v, for messages. */}}
{{- define "trafficgen.inline" -}}
{{- $pairs := list }}
{{- range $k, $v := . }}{{ $pairs = append $pairs (printf "%s=%s" $k $v) }}{{ end }}
{{- join "," $pairs }}
{{- end }}
