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
