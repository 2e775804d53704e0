{{- define "adpulse.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "adpulse.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "adpulse.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ include "adpulse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: include "adpulse.selector" (list . "api") */}}
{{- define "adpulse.selector" -}}
app.kubernetes.io/name: {{ include "adpulse.name" (index . 0) }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "adpulse.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "adpulse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ .Values.serviceAccount.name | default (include "adpulse.fullname" .) }}
{{- else -}}
{{ .Values.serviceAccount.name | default "default" }}
{{- end -}}
{{- end -}}

{{- define "adpulse.secretName" -}}
{{ .Values.existingSecret | default (include "adpulse.fullname" .) }}
{{- end -}}

{{/* The non-secret environment (ConfigMap data). */}}
{{- define "adpulse.configData" -}}
ADPULSE_HOST: "0.0.0.0"
ADPULSE_KAFKA_BOOTSTRAP: {{ .Values.kafka.bootstrap | quote }}
ADPULSE_KAFKA_SECURITY_PROTOCOL: {{ .Values.kafka.securityProtocol | quote }}
{{- with .Values.kafka.saslMechanism }}
ADPULSE_KAFKA_SASL_MECHANISM: {{ . | quote }}
{{- end }}
{{- with .Values.kafka.username }}
ADPULSE_KAFKA_USERNAME: {{ . | quote }}
{{- end }}
{{- if .Values.kafka.caSecret.name }}
ADPULSE_KAFKA_CA_FILE: "/etc/adpulse/kafka-ca/{{ .Values.kafka.caSecret.key }}"
{{- end }}
{{- if .Values.kafka.clientCertSecret.name }}
ADPULSE_KAFKA_CERT_FILE: "/etc/adpulse/kafka-client/tls.crt"
ADPULSE_KAFKA_KEY_FILE: "/etc/adpulse/kafka-client/tls.key"
{{- end }}
ADPULSE_EVENTS_PARTITIONS: {{ .Values.kafka.eventsPartitions | quote }}
ADPULSE_KAFKA_REPLICATION_FACTOR: {{ .Values.kafka.replicationFactor | quote }}
ADPULSE_KAFKA_MIN_INSYNC_REPLICAS: {{ .Values.kafka.minInsyncReplicas | quote }}
{{- range $name, $value := .Values.config }}
{{- if ne (toString $value) "" }}
ADPULSE_{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* envFrom + volumes shared by every adpulse container; argument: (list . configMapName secretName) */}}
{{- define "adpulse.envFrom" -}}
- configMapRef:
    name: {{ index . 1 }}
- secretRef:
    name: {{ index . 2 }}
{{- end -}}

{{- define "adpulse.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.kafka.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/adpulse/kafka-ca
  readOnly: true
{{- end }}
{{- if .Values.kafka.clientCertSecret.name }}
- name: kafka-client
  mountPath: /etc/adpulse/kafka-client
  readOnly: true
{{- end }}
{{- end -}}

{{- define "adpulse.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .Values.kafka.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.caSecret.name }}
{{- end }}
{{- if .Values.kafka.clientCertSecret.name }}
- name: kafka-client
  secret:
    secretName: {{ .Values.kafka.clientCertSecret.name }}
{{- end }}
{{- end -}}

{{/* The Secret's data (unless existingSecret). */}}
{{- define "adpulse.secretData" -}}
{{- $ch := .Values.clickhouse -}}
ADPULSE_CLICKHOUSE_URL: {{ printf "%s://%s:%s@%s:%v/%s" $ch.scheme (urlquery $ch.username) (urlquery $ch.password) $ch.host $ch.port $ch.database | quote }}
{{- with .Values.kafka.password }}
ADPULSE_KAFKA_PASSWORD: {{ . | quote }}
{{- end }}
{{- range $name, $value := .Values.secrets }}
ADPULSE_{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Fail early on values that cannot work. */}}
{{- define "adpulse.validate" -}}
{{- if gt (int .Values.aggregator.replicas) (int .Values.kafka.eventsPartitions) -}}
{{- fail (printf "aggregator.replicas (%v) must not exceed kafka.eventsPartitions (%v): a consumer-group member without a partition stays idle" .Values.aggregator.replicas .Values.kafka.eventsPartitions) -}}
{{- end -}}
{{- $stop := add1 (int (float64 (.Values.config.SHUTDOWN_TIMEOUT_S | default "10"))) -}}
{{- if ge (add $stop (int .Values.api.preStopSleepSeconds) 5) (int .Values.terminationGracePeriodSeconds) -}}
{{- fail (printf "config.SHUTDOWN_TIMEOUT_S + api.preStopSleepSeconds + 5 s must be under terminationGracePeriodSeconds (%v)" .Values.terminationGracePeriodSeconds) -}}
{{- end -}}
{{- if and (hasPrefix "SASL" .Values.kafka.securityProtocol) (not .Values.kafka.saslMechanism) -}}
{{- fail "kafka.saslMechanism is required with a SASL security protocol" -}}
{{- end -}}
{{- end -}}
