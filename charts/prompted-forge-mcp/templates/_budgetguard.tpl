{{/*
Admission guards (budgetGuard): quantities as numbers and the ResourceQuota's sizing.
The harness recomputes the same arithmetic from the rendered objects
(policies/checks/guardsizing.py) and fails when the two disagree.
*/}}

{{/*
A CPU quantity (`250m`, `1`, `0.5`, or a number) in millicores, printed as a float.
*/}}
{{- define "prompted-forge-mcp.cpuMillis" -}}
{{- $text := toString . -}}
{{- if hasSuffix "m" $text -}}
{{- float64 (trimSuffix "m" $text) -}}
{{- else -}}
{{- mulf (float64 $text) 1000 -}}
{{- end -}}
{{- end }}

{{/*
A memory quantity (`256Mi`, `1Gi`, `1.5G`, `1000`, or a number) in bytes, printed as a float.
*/}}
{{- define "prompted-forge-mcp.memoryBytes" -}}
{{- $text := toString . -}}
{{- $suffix := regexFind "[A-Za-z]+$" $text -}}
{{- $factors := dict "" 1.0 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 -}}
{{- mulf (float64 (trimSuffix $suffix $text)) (get $factors $suffix) -}}
{{- end }}

{{/*
(list resource amount) -> a quantity: cpu as whole millicores, memory in the largest
binary unit that divides it exactly. Both round up, as admission must fit the amount.
*/}}
{{- define "prompted-forge-mcp.quantity" -}}
{{- $resource := index . 0 -}}
{{- $amount := ceil (index . 1) -}}
{{- if eq $resource "cpu" -}}
{{- printf "%.0fm" $amount -}}
{{- else if ge $amount 9007199254740992.0 -}}
{{- /* Beyond float64's exact integers: plain digits, no unit arithmetic. */ -}}
{{- printf "%.0f" $amount -}}
{{- else if eq (mod (int64 $amount) 1073741824) 0 -}}
{{- printf "%.0fGi" (divf $amount 1073741824) -}}
{{- else if eq (mod (int64 $amount) 1048576) 0 -}}
{{- printf "%.0fMi" (divf $amount 1048576) -}}
{{- else -}}
{{- printf "%.0f" $amount -}}
{{- end -}}
{{- end }}

{{/*
(list resource quantity) -> the quantity in base units (millicores or bytes), as a float.
*/}}
{{- define "prompted-forge-mcp.amount" -}}
{{- if eq (index . 0) "cpu" -}}
{{- include "prompted-forge-mcp.cpuMillis" (index . 1) -}}
{{- else -}}
{{- include "prompted-forge-mcp.memoryBytes" (index . 1) -}}
{{- end -}}
{{- end }}

{{/*
Pods the namespace must admit at the worst legitimate moment, as YAML:
a rollout at maximum scale (maxReplicas + maxSurge pods), the old pods it has
already replaced but that still count against quota until their grace period
ends, and the helm test pod.

Terminating pods: the Deployment controller does not count them against
maxSurge, so it keeps replacing while earlier victims shut down. A replacement
step takes at least `minReadySeconds` plus the probes' initial delay, so one
grace period overlaps at most floor(grace / step) + 1 steps of maxSurge pods,
and never more than the old pods that exist (maxReplicas).
*/}}
{{- define "prompted-forge-mcp.budgetGuard.sizing" -}}
{{- $replicas := int .Values.replicaCount }}
{{- if .Values.autoscaling.enabled }}{{ $replicas = int .Values.autoscaling.maxReplicas }}{{ end }}
{{- $surge := 0 }}
{{- $rawSurge := toString .Values.rollout.maxSurge }}
{{- if hasSuffix "%" $rawSurge }}
{{- /* Kubernetes rounds a percentage of maxSurge up. */}}
{{- $surge = div (add (mul (int (trimSuffix "%" $rawSurge)) $replicas) 99) 100 }}
{{- else }}
{{- $surge = int $rawSurge }}
{{- end }}
{{- $step := add (int .Values.rollout.minReadySeconds) (max (int .Values.probes.startup.initialDelaySeconds) (int .Values.probes.readiness.initialDelaySeconds)) }}
{{- $grace := int .Values.terminationGracePeriodSeconds }}
{{- $terminating := $replicas }}
{{- if gt $step 0 }}
{{- $terminating = min $replicas (mul $surge (add (div $grace $step) 1)) }}
{{- end }}
{{- $testPods := 0 }}
{{- if .Values.budgetTest.enabled }}{{ $testPods = 1 }}{{ end }}
replicas: {{ $replicas }}
surge: {{ $surge }}
terminating: {{ $terminating }}
servicePods: {{ add $replicas $surge $terminating }}
testPods: {{ $testPods }}
{{- end }}
