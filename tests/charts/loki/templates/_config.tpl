{{- define "loki.config" -}}
{{- /* tpl: loki.config, loki.structuredConfig.** */}}
{{ tpl (mergeOverwrite (tpl .Values.loki.config . | fromYaml) .Values.loki.structuredConfig | toYaml) . }}
{{- end -}}
