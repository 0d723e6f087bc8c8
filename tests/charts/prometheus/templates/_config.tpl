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
{{- /* As upstream: one job per key of scrapeConfigs (the key its name unless job_name says
otherwise), unless it says enabled: false. */}}
{{- range $key, $job := .Values.scrapeConfigs }}
{{- if or (not (hasKey $job "enabled")) $job.enabled }}
  - job_name: {{ default $key $job.job_name }}
    {{- toYaml (omit $job "enabled" "job_name") | nindent 4 }}
{{- end }}
{{- end }}
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
{{- /* As upstream: server.alertmanagers, or else the Alertmanager pods discovered cluster-wide and
kept by the release's namespace and name. */}}
{{- if or .Values.alertmanager.enabled .Values.server.alertmanagers }}
alerting:
  alertmanagers:
  {{- if .Values.server.alertmanagers }}
    {{- toYaml .Values.server.alertmanagers | nindent 4 }}
  {{- else }}
    - kubernetes_sd_configs:
        - role: pod
      tls_config:
        ca_file: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
      bearer_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token
      relabel_configs:
        - source_labels: [__meta_kubernetes_namespace]
          regex: {{ .Release.Namespace }}
          action: keep
        - source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_instance]
          regex: {{ .Release.Name }}
          action: keep
        - source_labels: [__meta_kubernetes_pod_container_port_number]
          regex: "9093"
          action: keep
  {{- end }}
{{- end }}
{{- end -}}
