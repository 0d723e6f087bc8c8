{{- define "prometheus.config" -}}
{{- $global := deepCopy .Values.server.global -}}
global:
  {{- toYaml $global | nindent 2 }}
{{- with .Values.server.remoteWrite }}
remote_write:
  {{- /* As upstream, each URL is evaluated as a template. */}}
  {{- $remoteWrites := list }}
  {{- range $remoteWrite := . }}
  {{- /* tpl: server.remoteWrite[*].url */}}
  {{- $remoteWrites = append $remoteWrites (set (deepCopy $remoteWrite) "url" (tpl $remoteWrite.url $)) }}
  {{- end }}
  {{- toYaml $remoteWrites | nindent 2 }}
{{- end }}
{{- with .Values.server.remoteRead }}
remote_read:
  {{- $remoteReads := list }}
  {{- range $remoteRead := . }}
  {{- /* tpl: server.remoteRead[*].url */}}
  {{- $remoteReads = append $remoteReads (set (deepCopy $remoteRead) "url" (tpl $remoteRead.url $)) }}
  {{- end }}
  {{- toYaml $remoteReads | nindent 2 }}
{{- end }}
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["localhost:9090"]
{{- with .Values.extraScrapeConfigs }}
{{- /* As upstream, the whole string is evaluated as a template before it is used. */}}
{{- /* tpl: extraScrapeConfigs */}}
{{- $extra := fromYamlArray (tpl . $) }}
{{- range $extra }}
{{- if not (kindIs "map" .) }}
{{- fail (printf "extraScrapeConfigs must be a YAML list of scrape configs, got: %v" .) }}
{{- end }}
{{- end }}
  {{- toYaml $extra | nindent 2 }}
{{- end }}
{{- end -}}
