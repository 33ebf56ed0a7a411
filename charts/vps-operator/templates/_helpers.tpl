{{/* Names and labels shared by the templates. */}}
{{- define "vps-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "vps-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "vps-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vps-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "vps-operator.labels" -}}
{{ include "vps-operator.selectorLabels" . }}
app.kubernetes.io/part-of: vps-operator
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "vps-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "vps-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name: name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* A Kubernetes memory quantity (Ki/Mi/Gi/Ti or plain bytes) in MiB, for the heap check. */}}
{{- define "vps-operator.mib" -}}
{{- $q := toString . -}}
{{- if hasSuffix "Ti" $q -}}{{ mul (trimSuffix "Ti" $q | int) 1048576 }}
{{- else if hasSuffix "Gi" $q -}}{{ mul (trimSuffix "Gi" $q | int) 1024 }}
{{- else if hasSuffix "Mi" $q -}}{{ trimSuffix "Mi" $q | int }}
{{- else if hasSuffix "Ki" $q -}}{{ div (trimSuffix "Ki" $q | int) 1024 }}
{{- else if regexMatch "^[0-9]+$" $q -}}{{ div ($q | int64) 1048576 }}
{{- else -}}{{ fail (printf "resources.limits.memory: %q is not a quantity this chart reads; write it in Mi or Gi (e.g. 256Mi)" $q) }}
{{- end -}}
{{- end -}}

{{/* NODE_OPTIONS from nodeHeap, refused when the old space does not fit the memory limit. */}}
{{- define "vps-operator.nodeOptions" -}}
{{- $old := int .Values.nodeHeap.maxOldSpaceSizeMiB -}}
{{- $limit := dig "limits" "memory" "" .Values.resources -}}
{{- if $limit -}}
{{- $mib := include "vps-operator.mib" $limit | int -}}
{{- if ge $old $mib -}}
{{- fail (printf "nodeHeap.maxOldSpaceSizeMiB (%d) must be below resources.limits.memory (%s = %d MiB): V8 would grow past the limit and the pod be OOM-killed; keep it at about 65%% of the limit" $old $limit $mib) -}}
{{- end -}}
{{- end -}}
{{- printf "--max-semi-space-size=%d --max-old-space-size=%d" (int .Values.nodeHeap.maxSemiSpaceSizeMiB) $old -}}
{{- end -}}
