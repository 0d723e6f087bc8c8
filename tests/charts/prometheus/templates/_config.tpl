{{- define "prometheus.config" -}}
{{- $global := deepCopy .Values.server.global -}}
global:
  {{- toYaml $global | nindent 2 }}
{{- with .Values.server.remoteWrite }}
remote_write:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.server.remoteRead }}
remote_read:
  {{- toYaml . | nindent 2 }}
{{- end }}
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["localhost:9090"]
{{- with .Values.extraScrapeConfigs }}
{{- $extra := fromYamlArray . }}
{{- range $extra }}
{{- if not (kindIs "map" .) }}
{{- fail (printf "extraScrapeConfigs must be a YAML list of scrape configs, got: %v" .) }}
{{- end }}
{{- end }}
  {{- toYaml $extra | nindent 2 }}
{{- end }}
{{- end -}}
