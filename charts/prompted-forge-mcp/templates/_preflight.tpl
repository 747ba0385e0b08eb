{{/*
Cross-field checks that values.schema.json cannot express, all in one place (as cert-manager's
_preflight.tpl keeps them). deployment.yaml, which every install renders, includes this first, so
a bad combination stops the render before any object is written.
Convention: every message begins with the dotted values key to change (then a space); the check
harness (policies/render/render.py) points its error at the values file line that sets that key.
*/}}
{{- define "prompted-forge-mcp.preflight" -}}
{{- if and (gt (int .Values.preStopSleepSeconds) 0) (ge (int .Values.preStopSleepSeconds) (int .Values.terminationGracePeriodSeconds)) }}
{{- fail "preStopSleepSeconds must be less than terminationGracePeriodSeconds" }}
{{- end }}
{{- if and .Values.metrics.enabled (eq (int .Values.metrics.port) (int .Values.containerPort)) }}
{{- fail "metrics.port must differ from containerPort" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- if .Values.budgetGuard.enabled }}
{{- include "prompted-forge-mcp.budgetGuard.preflight" . }}
{{- end }}
{{- end }}

{{/*
Fail the render when the guard's budget asks for a request above its limit
(the API server would reject the LimitRange's defaultRequest > default).
*/}}
{{- define "prompted-forge-mcp.budgetGuard.preflight" -}}
{{- range $resource := list "cpu" "memory" }}
{{- $request := include "prompted-forge-mcp.amount" (list $resource (get $.Values.budgetGuard.requests $resource)) | float64 }}
{{- $limit := include "prompted-forge-mcp.amount" (list $resource (get $.Values.budgetGuard.limits $resource)) | float64 }}
{{- if gt $request $limit }}
{{- fail (printf "budgetGuard.requests.%s must not exceed budgetGuard.limits.%s" $resource $resource) }}
{{- end }}
{{- end }}
{{- end }}
