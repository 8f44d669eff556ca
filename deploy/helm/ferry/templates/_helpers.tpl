{{/* Names: <release> unless the release name already holds the chart's. */}}
{{- define "ferry.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Chart.Name .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ferry.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ferry.labels" -}}
{{ include "ferry.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
ferry.dev/mapping: {{ required "mapping.name is required" .Values.mapping.name | quote }}
{{- end -}}

{{- define "ferry.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ $tag }}
{{- end -}}
{{- end -}}

{{- define "ferry.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "ferry.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "ferry.reconcileServiceAccountName" -}}
{{- if .Values.reconcile.serviceAccount.create -}}
{{- .Values.reconcile.serviceAccount.name | default (printf "%s-verify" (include "ferry.fullname" .)) -}}
{{- else -}}
{{- .Values.reconcile.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "ferry.groupId" -}}
{{- .Values.kafka.groupId | default (printf "ferry.%s" .Values.mapping.name) -}}
{{- end -}}

{{- define "ferry.mappingModule" -}}
{{- if .Values.mapping.configMap.name -}}
{{- printf "/etc/ferry/mappings/%s" (required "mapping.configMap.key is required with mapping.configMap.name" .Values.mapping.configMap.key) -}}
{{- else -}}
{{- required "mapping.module (a path in the image) or mapping.configMap is required" .Values.mapping.module -}}
{{- end -}}
{{- end -}}

{{/* The memory limit in MiB, from Mi, Gi, M, G or bytes. */}}
{{- define "ferry.memoryLimitMi" -}}
{{- $limit := toString (required "worker.resources.limits.memory is required: the V8 heap is sized from it" .Values.worker.resources.limits.memory) -}}
{{- $n := regexReplaceAll "^([0-9]+).*$" $limit "${1}" | int64 -}}
{{- if hasSuffix "Gi" $limit -}}{{ mul $n 1024 }}
{{- else if hasSuffix "Mi" $limit -}}{{ $n }}
{{- else if hasSuffix "G" $limit -}}{{ div (mul $n 1000000000) 1048576 }}
{{- else if hasSuffix "M" $limit -}}{{ div (mul $n 1000000) 1048576 }}
{{- else if regexMatch "^[0-9]+$" $limit -}}{{ div $n 1048576 }}
{{- else -}}{{ fail (printf "worker.resources.limits.memory %q: use Mi, Gi, M, G or bytes" $limit) }}
{{- end -}}
{{- end -}}

{{/* Kafka and source settings every ferry container gets. */}}
{{- define "ferry.env" -}}
- name: FERRY_MAPPING
  value: {{ include "ferry.mappingModule" . | quote }}
- name: FERRY_KAFKA_BROKERS
  value: {{ required "kafka.brokers is required" (join "," .Values.kafka.brokers) | quote }}
- name: FERRY_KAFKA_GROUP_ID
  value: {{ include "ferry.groupId" . | quote }}
- name: FERRY_KAFKA_SSL
  value: {{ .Values.kafka.tls.enabled | quote }}
{{- if .Values.kafka.tls.caSecret }}
- name: FERRY_KAFKA_SSL_CA
  value: /etc/ferry/kafka-ca/ca.crt
{{- end }}
{{- if .Values.kafka.tls.clientCertSecret }}
- name: FERRY_KAFKA_SSL_CERT
  value: /etc/ferry/kafka-client/tls.crt
- name: FERRY_KAFKA_SSL_KEY
  value: /etc/ferry/kafka-client/tls.key
{{- end }}
{{- if .Values.kafka.sasl.mechanism }}
- name: FERRY_KAFKA_SASL_MECHANISM
  value: {{ .Values.kafka.sasl.mechanism | quote }}
{{- end }}
{{- if eq .Values.kafka.sasl.mechanism "aws-msk-iam" }}
# MSK IAM signs its tokens with the pod's AWS role (IRSA or Pod Identity).
- name: FERRY_KAFKA_SASL_REGION
  value: {{ required "kafka.sasl.region is required with aws-msk-iam" .Values.kafka.sasl.region | quote }}
{{- else if .Values.kafka.sasl.mechanism }}
- name: FERRY_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.sasl.secret is required with kafka.sasl.mechanism" .Values.kafka.sasl.secret }}
      key: username
- name: FERRY_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.secret }}
      key: password
{{- end }}
{{- with .Values.schemaRegistry.secret }}
- name: FERRY_SCHEMA_REGISTRY_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: username
- name: FERRY_SCHEMA_REGISTRY_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: password
{{- end }}
{{- if .Values.schemaRegistry.caSecret }}
- name: FERRY_SCHEMA_REGISTRY_CA
  value: /etc/ferry/registry-ca/ca.crt
{{- end }}
{{- range $name, $value := .Values.config }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{- define "ferry.kafkaTlsVolumes" -}}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- with .Values.schemaRegistry.caSecret }}
- name: registry-ca
  secret:
    secretName: {{ . }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- if .Values.kafka.tls.clientCertSecret }}
- name: kafka-client
  secret:
    secretName: {{ .Values.kafka.tls.clientCertSecret }}
    items:
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
{{- end }}
{{- end -}}

{{- define "ferry.mounts" -}}
# jiti caches transpiled mapping modules here.
- name: tmp
  mountPath: /tmp
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/ferry/kafka-ca
  readOnly: true
{{- end }}
{{- if .Values.kafka.tls.clientCertSecret }}
- name: kafka-client
  mountPath: /etc/ferry/kafka-client
  readOnly: true
{{- end }}
{{- if .Values.schemaRegistry.caSecret }}
- name: registry-ca
  mountPath: /etc/ferry/registry-ca
  readOnly: true
{{- end }}
{{- if .Values.mapping.configMap.name }}
- name: mapping
  mountPath: /etc/ferry/mappings
  readOnly: true
{{- end }}
{{- end -}}

{{- define "ferry.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- include "ferry.kafkaTlsVolumes" . }}
{{- if .Values.mapping.configMap.name }}
- name: mapping
  configMap:
    name: {{ .Values.mapping.configMap.name }}
{{- end }}
{{- end -}}

{{/* The restricted Pod Security Standard. */}}
{{- define "ferry.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "ferry.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ['ALL']
{{- end -}}

