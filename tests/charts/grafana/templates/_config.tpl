{{- define "grafana.config" -}}
grafana.ini: |
  {{- range $section, $settings := index .Values "grafana.ini" }}
  {{- if kindIs "map" $settings }}
  [{{ $section }}]
  {{- range $key, $value := $settings }}
  {{ $key }} = {{ $value }}
  {{- end }}
  {{- else }}
  {{ $section }} = {{ $settings }}
  {{- end }}
  {{- end }}
{{- range $file, $content := .Values.datasources }}
{{ $file }}: |
  {{- toYaml $content | nindent 2 }}
{{- end }}
{{- if .Values.sidecar.dashboards.enabled }}
dashboard-sidecar.yaml: |
  label: {{ .Values.sidecar.dashboards.label }}
  labelValue: {{ .Values.sidecar.dashboards.labelValue | quote }}
  searchNamespace: {{ .Values.sidecar.dashboards.searchNamespace | default "" | toYaml | trim }}
{{- end }}
{{- end -}}
