{{- define "tempo.config" -}}
{{- $tempo := .Values.tempo -}}
{{- /* Like upstream, the chart reads the jaeger receiver's protocols: null breaks rendering. */ -}}
{{- $jaeger := $tempo.receivers.jaeger.protocols -}}
server:
  {{- toYaml $tempo.server | nindent 2 }}
usage_report:
  reporting_enabled: {{ $tempo.reportingEnabled }}
distributor:
  receivers:
    {{- toYaml $tempo.receivers | nindent 4 }}
compactor:
  compaction:
    block_retention: {{ $tempo.retention }}
{{- if $tempo.metricsGenerator.enabled }}
metrics_generator:
  storage:
    path: /var/tempo/generator/wal
    remote_write:
      - url: {{ $tempo.metricsGenerator.remoteWriteUrl }}
        send_exemplars: true
{{- end }}
storage:
  trace:
    {{- toYaml $tempo.storage.trace | nindent 4 }}
overrides:
  {{- toYaml $tempo.overrides | nindent 2 }}
{{- end -}}
