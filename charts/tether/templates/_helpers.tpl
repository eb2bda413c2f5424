{{/* The chart's name, or nameOverride. */}}
{{- define "tether.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: fullnameOverride, or <release>-<name> unless the release already says it. */}}
{{- define "tether.fullname" -}}
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

{{- define "tether.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tether.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tether.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tether.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: ingress-controller
{{- end }}

{{- define "tether.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tether.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tether.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret that holds the cookie key: one given by the user, or the chart's own. */}}
{{- define "tether.cookieKeySecretName" -}}
{{- default (printf "%s-cookie-key" (include "tether.fullname" .)) .Values.cookieKey.existingSecret }}
{{- end }}

{{/*
The base64 cookie key of the chart's own Secret. The value given wins; else the key already
stored in the cluster (so an upgrade never changes it and sessions survive); else a new one.
`helm template` without a cluster sees no Secret and prints a new key each time.
*/}}
{{- define "tether.cookieKey" -}}
{{- if .Values.cookieKey.value }}
{{- .Values.cookieKey.value | b64enc }}
{{- else }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "tether.cookieKeySecretName" .) }}
{{- $stored := "" }}
{{- if $existing }}{{ $stored = index ($existing.data | default dict) "cookie-key" | default "" }}{{ end }}
{{- if $stored }}
{{- $stored }}
{{- else }}
{{- randAlphaNum 48 | b64enc }}
{{- end }}
{{- end }}
{{- end }}

{{/* The Secret with the default certificate: one given by the user, or the chart's own. */}}
{{- define "tether.tlsSecretName" -}}
{{- default (printf "%s-default-tls" (include "tether.fullname" .)) .Values.https.defaultCertificate.secretName }}
{{- end }}

{{/*
The proxy processes of a pod (--workers): the value, else one per CPU of the CPU limit, rounded
up ("500m" is 1, "1.5" is 2), else 1.
*/}}
{{- define "tether.workers" -}}
{{- if .Values.workers -}}
{{- .Values.workers -}}
{{- else -}}
{{- $cpu := toString (dig "limits" "cpu" "1" .Values.resources) -}}
{{- $cores := 1.0 -}}
{{- if hasSuffix "m" $cpu -}}
{{- $cores = divf (trimSuffix "m" $cpu | float64) 1000 -}}
{{- else -}}
{{- $cores = float64 $cpu -}}
{{- end -}}
{{- max 1 (ceil $cores | int) -}}
{{- end -}}
{{- end -}}
