{{/*
Behaviours a chart version can carry through its Chart.yaml annotations, so that one chart
source yields good and bad versions:
  gunj.io/test-result: fail      its Helm test pod fails (the local cluster's kwok stage reads
                                 the same annotation on the pod)
  gunj.io/install-result: fail   it renders an object the API server rejects, so every install
                                 or upgrade to it fails
*/}}
{{- define "common.testPod" -}}
{{- $result := index (.ctx.Chart.Annotations | default dict) "gunj.io/test-result" | default "pass" -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ .name }}-test
  labels:
    {{- include "common.labels" (dict "ctx" .ctx "component" "test") | nindent 4 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
    gunj.io/test-result: {{ $result | quote }}
spec:
  restartPolicy: Never
  containers:
    - name: test
      image: docker.io/curlimages/curl:8.11.1
      args: ["--fail", "--silent", "--max-time", "10", {{ .url | quote }}]
{{- end -}}

{{/*
failWith: a value that makes the chart refuse to render, quoting the value in its error, as a
chart's own `fail` checks do (tests use it to show that a secret value given there is scrubbed
from every error gunj reports).
*/}}
{{- define "common.failWith" -}}
{{- with .Values.failWith }}{{ fail (printf "refusing to render with failWith=%s" .) }}{{ end }}
{{- end -}}

{{- define "common.installFailure" -}}
{{- if eq (index (.Chart.Annotations | default dict) "gunj.io/install-result" | default "") "fail" }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "common.fullname" . }}-broken
data:
  # Not a valid ConfigMap key: the API server refuses the object.
  "this key is not valid!": "true"
{{- end }}
{{- end -}}
