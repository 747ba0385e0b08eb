{{/*
Chart name, truncated to 63 characters.
*/}}
{{- define "prompted-forge-mcp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, truncated to 63 characters (DNS label limit).
*/}}
{{- define "prompted-forge-mcp.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version for the helm.sh/chart label.
*/}}
{{- define "prompted-forge-mcp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "prompted-forge-mcp.labels" -}}
helm.sh/chart: {{ include "prompted-forge-mcp.chart" . }}
{{ include "prompted-forge-mcp.selectorLabels" . }}
{{- /* An image tag may be 128 characters and start with `_`; a label value may not. */}}
{{- $version := .Values.image.tag | default .Chart.AppVersion | trunc 63 }}
app.kubernetes.io/version: {{ regexReplaceAll "^[^A-Za-z0-9]+|[^A-Za-z0-9]+$" $version "" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "prompted-forge-mcp.name" . }}
{{- end }}

{{/*
Selector labels: exactly name + instance, nothing that can change.
*/}}
{{- define "prompted-forge-mcp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "prompted-forge-mcp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of the helm test pod. Its name label differs on purpose so the
Service, PodDisruptionBudget and NetworkPolicy selectors never match it.
*/}}
{{- define "prompted-forge-mcp.budgetTestSelectorLabels" -}}
app.kubernetes.io/name: {{ include "prompted-forge-mcp.name" . }}-budget-test
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "prompted-forge-mcp.budgetTestLabels" -}}
helm.sh/chart: {{ include "prompted-forge-mcp.chart" . }}
{{ include "prompted-forge-mcp.budgetTestSelectorLabels" . }}
app.kubernetes.io/component: test
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "prompted-forge-mcp.name" . }}
{{- end }}

{{/*
ServiceAccount name.
*/}}
{{- define "prompted-forge-mcp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "prompted-forge-mcp.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Server image: repository@digest when a digest is set, else repository:tag
(tag defaults to the chart appVersion).
*/}}
{{- define "prompted-forge-mcp.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
helm test image: repository@digest when a digest is set, else repository:tag.
*/}}
{{- define "prompted-forge-mcp.budgetTestImage" -}}
{{- if .Values.budgetTest.image.digest }}
{{- printf "%s@%s" .Values.budgetTest.image.repository .Values.budgetTest.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.budgetTest.image.repository .Values.budgetTest.image.tag }}
{{- end }}
{{- end }}

{{/*
True ("true") when more than one replica can exist.
*/}}
{{- define "prompted-forge-mcp.multiReplica" -}}
{{- if .Values.autoscaling.enabled }}
{{- if gt (int .Values.autoscaling.maxReplicas) 1 }}true{{ end }}
{{- else if gt (int .Values.replicaCount) 1 }}true{{ end }}
{{- end }}

{{/*
Pod regex for PromQL: Deployment pods are <fullname>-<rs hash>-<5 chars>,
which never matches the <fullname>-budget-test pod.
*/}}
{{- define "prompted-forge-mcp.podRegex" -}}
{{- printf "%s-[a-z0-9]{1,10}-[a-z0-9]{5}" (include "prompted-forge-mcp.fullname" .) }}
{{- end }}

{{/*
PromQL label selector of the release's series, one scope at a time:
"pod" (namespace + pod regex), "container" (plus the app container),
"deployment" and "hpa" (kube-state-metrics' object labels).
Argument: (list $ scope).
*/}}
{{- define "prompted-forge-mcp.promqlSelector" -}}
{{- $root := index . 0 }}
{{- $scope := index . 1 }}
{{- $ns := printf "namespace=%q" $root.Release.Namespace }}
{{- $fullname := include "prompted-forge-mcp.fullname" $root }}
{{- $pod := printf "%s, pod=~%q" $ns (include "prompted-forge-mcp.podRegex" $root) }}
{{- if eq $scope "pod" }}{{ $pod }}
{{- else if eq $scope "container" }}{{ printf "%s, container=%q" $pod $root.Chart.Name }}
{{- else if eq $scope "deployment" }}{{ printf "%s, deployment=%q" $ns $fullname }}
{{- else if eq $scope "hpa" }}{{ printf "%s, horizontalpodautoscaler=%q" $ns $fullname }}
{{- else }}{{ fail (printf "prompted-forge-mcp.promqlSelector: unknown scope %q" $scope) }}
{{- end }}
{{- end }}

{{/*
The PromQL queries of the release, shared by the PrometheusRule (window 5m,
plus the alert's comparison) and the Grafana dashboard (window
$__rate_interval), so an alert and its panel query the same series the same
way. Argument: (list $ name window).
*/}}
{{- define "prompted-forge-mcp.promql" -}}
{{- $root := index . 0 }}
{{- $name := index . 1 }}
{{- $window := index . 2 }}
{{- $pod := include "prompted-forge-mcp.promqlSelector" (list $root "pod") }}
{{- $ctr := include "prompted-forge-mcp.promqlSelector" (list $root "container") }}
{{- if eq $name "cpuOfRequests" -}}
100 *
  sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{ {{- $ctr -}} }[{{ $window }}]))
/
  sum by (namespace, pod, container) (kube_pod_container_resource_requests{ {{- $ctr -}}, resource="cpu"})
{{- else if eq $name "memoryOfLimits" -}}
100 *
  sum by (namespace, pod, container) (container_memory_working_set_bytes{ {{- $ctr -}} })
/
  sum by (namespace, pod, container) (kube_pod_container_resource_limits{ {{- $ctr -}}, resource="memory"})
{{- else if eq $name "healthCheckP95Seconds" -}}
histogram_quantile(0.95,
  sum by (namespace, probe_type, le) (rate(prober_probe_duration_seconds_bucket{ {{- $ctr -}}, probe_type=~"Liveness|Readiness"}[{{ $window }}]))
)
{{- else if eq $name "podNotReady" -}}
kube_pod_status_ready{ {{- $pod -}}, condition="false"}
{{- else if eq $name "podsReady" -}}
sum by (namespace) (kube_pod_status_ready{ {{- $pod -}}, condition="true"})
{{- else if eq $name "replicas" -}}
sum by (namespace) (kube_deployment_spec_replicas{ {{- include "prompted-forge-mcp.promqlSelector" (list $root "deployment") -}} })
{{- else if eq $name "hpaDesiredReplicas" -}}
sum by (namespace) (kube_horizontalpodautoscaler_status_desired_replicas{ {{- include "prompted-forge-mcp.promqlSelector" (list $root "hpa") -}} })
{{- else if eq $name "restarts" -}}
sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{ {{- $ctr -}} }[{{ $window }}]))
{{- else if eq $name "scrapeDurationSeconds" -}}
max by (namespace, pod) (scrape_duration_seconds{ {{- $pod -}} })
{{- else if eq $name "scrapeBytes" -}}
max by (namespace, pod) (scrape_body_size_bytes{ {{- $pod -}} })
{{- else }}{{ fail (printf "prompted-forge-mcp.promql: unknown query %q" $name) }}
{{- end }}
{{- end }}
