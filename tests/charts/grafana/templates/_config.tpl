{{- /*
As upstream: every string in grafana.ini and the whole datasources documents are evaluated as
templates before Grafana reads them. Settings outside a section come first.
*/ -}}
{{- define "grafana.config" -}}
{{- $root := . -}}
grafana.ini: |
  {{- range $key, $value := index .Values "grafana.ini" }}
  {{- if not (kindIs "map" $value) }}
  {{ $key }} = {{ include "grafana.iniValue" (dict "value" $value "root" $root) }}
  {{- end }}
  {{- end }}
  {{- range $section, $settings := index .Values "grafana.ini" }}
  {{- if kindIs "map" $settings }}
  [{{ $section }}]
  {{- range $key, $value := $settings }}
  {{ $key }} = {{ include "grafana.iniValue" (dict "value" $value "root" $root) }}
  {{- end }}
  {{- end }}
  {{- end }}
{{- range $file, $content := .Values.datasources }}
{{ $file }}: |
  {{- /* tpl: datasources.** */}}
  {{- tpl (toYaml $content | nindent 2) $root }}
{{- end }}
{{- if .Values.sidecar.dashboards.enabled }}
{{- /* As upstream's _pod.tpl: the sidecar's label, value and namespaces are evaluated. */}}
dashboard-sidecar.yaml: |
  {{- /* tpl: sidecar.*.label */}}
  label: {{ tpl .Values.sidecar.dashboards.label $root }}
  {{- /* tpl: sidecar.*.labelValue */}}
  labelValue: {{ tpl (.Values.sidecar.dashboards.labelValue | toString) $root | quote }}
  {{- with .Values.sidecar.dashboards.searchNamespace }}
  {{- /* tpl: sidecar.*.searchNamespace.** */}}
  searchNamespace: {{ tpl (. | join ",") $root | quote }}
  {{- end }}
{{- end }}
{{- end -}}

{{- define "grafana.iniValue" -}}
{{- if kindIs "string" .value -}}
{{- /* tpl: grafana\.ini.*, grafana\.ini.*.* */ -}}
{{ tpl .value .root }}
{{- else if kindIs "slice" .value -}}
{{ toJson .value }}
{{- else if kindIs "invalid" .value -}}
{{- else -}}
{{ .value }}
{{- end -}}
{{- end -}}
