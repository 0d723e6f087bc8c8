{{- define "loki.config" -}}
{{- $storage := .Values.loki.storage -}}
auth_enabled: {{ .Values.loki.auth_enabled }}
server:
  {{- toYaml .Values.loki.server | nindent 2 }}
common:
  replication_factor: {{ .Values.loki.commonConfig.replication_factor }}
  path_prefix: {{ .Values.loki.commonConfig.path_prefix }}
  storage:
    {{- if eq $storage.type "filesystem" }}
    filesystem:
      {{- toYaml $storage.filesystem | nindent 6 }}
    {{- else if eq $storage.type "s3" }}
    s3:
      bucketnames: {{ $storage.bucketNames.chunks }}
      {{- with $storage.s3.endpoint }}
      endpoint: {{ . }}
      {{- end }}
      {{- with $storage.s3.region }}
      region: {{ . }}
      {{- end }}
      s3forcepathstyle: {{ $storage.s3.s3ForcePathStyle }}
      insecure: {{ $storage.s3.insecure }}
    {{- else if eq $storage.type "gcs" }}
    gcs:
      bucket_name: {{ $storage.bucketNames.chunks }}
    {{- else if eq $storage.type "azure" }}
    azure:
      container_name: {{ $storage.bucketNames.chunks }}
      use_managed_identity: {{ $storage.azure.useManagedIdentity }}
    {{- end }}
schema_config:
  {{- if .Values.loki.useTestSchema }}
  configs:
    - from: "2024-04-01"
      store: tsdb
      object_store: {{ $storage.type }}
      schema: v13
      index: {prefix: index_, period: 24h}
  {{- else }}
  {{- toYaml .Values.loki.schemaConfig | nindent 2 }}
  {{- end }}
limits_config:
  {{- toYaml .Values.loki.limits_config | nindent 2 }}
{{- with .Values.loki.compactor }}
compactor:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
