{{/*
A Deployment or StatefulSet for one component of a test chart. Arguments (a dict):
  ctx, name, component, kind ("Deployment" | "StatefulSet"), replicas, image, args, ports
  (list of {name, port}), resources, nodeSelector, tolerations, affinity, envFrom, env,
  configMap (mounted at /etc/config), volume ({enabled, size, storageClass, accessModes}),
  secretMounts (list of {name, mountPath, secretName, readOnly}, as upstream's extraSecretMounts),
  podAnnotations.
A StatefulSet gets one claim per pod; a Deployment shares one claim named like the workload.
*/}}
{{- define "common.workload" -}}
{{- $volume := .volume | default dict -}}
apiVersion: apps/v1
kind: {{ .kind | default "Deployment" }}
metadata:
  name: {{ .name }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
spec:
  replicas: {{ .replicas }}
  {{- if eq .kind "StatefulSet" }}
  serviceName: {{ .name }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "common.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "common.selectorLabels" . | nindent 8 }}
      annotations:
        checksum/config: {{ .configChecksum | default "" | quote }}
        {{- with .podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      containers:
        - name: {{ .component }}
          image: {{ .image | quote }}
          {{- with .args }}
          args:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .ports }}
          ports:
            {{- range . }}
            - name: {{ .name }}
              containerPort: {{ .port }}
            {{- end }}
          {{- end }}
          {{- with .env }}
          env:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .envFrom }}
          envFrom:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          volumeMounts:
            {{- if .configMap }}
            - name: config
              mountPath: /etc/config
            {{- end }}
            - name: data
              mountPath: /data
            {{- range .secretMounts }}
            - name: {{ .name }}
              mountPath: {{ .mountPath }}
              readOnly: {{ .readOnly | default true }}
            {{- end }}
      {{- with .nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumes:
        {{- if .configMap }}
        - name: config
          configMap:
            name: {{ .configMap }}
        {{- end }}
        {{- if and $volume.enabled (ne .kind "StatefulSet") }}
        - name: data
          persistentVolumeClaim:
            claimName: {{ .name }}
        {{- else if not $volume.enabled }}
        - name: data
          emptyDir: {}
        {{- end }}
        {{- range .secretMounts }}
        - name: {{ .name }}
          secret:
            secretName: {{ .secretName }}
        {{- end }}
  {{- if and $volume.enabled (eq .kind "StatefulSet") }}
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        {{- include "common.claimSpec" $volume | nindent 8 }}
  {{- end }}
{{- if and $volume.enabled (ne .kind "StatefulSet") }}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ .name }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
spec:
  {{- include "common.claimSpec" $volume | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "common.claimSpec" -}}
accessModes:
  {{- toYaml (.accessModes | default (list "ReadWriteOnce")) | nindent 2 }}
{{- if .storageClass }}
storageClassName: {{ .storageClass | quote }}
{{- end }}
resources:
  requests:
    storage: {{ .size | quote }}
{{- end -}}

{{/* A ClusterIP Service. Arguments: ctx, name, component, ports (list of {name, port, targetPort}). */}}
{{- define "common.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .name }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  ports:
    {{- range .ports }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .targetPort | default .port }}
      protocol: TCP
    {{- end }}
  selector:
    {{- include "common.selectorLabels" . | nindent 4 }}
{{- end -}}
