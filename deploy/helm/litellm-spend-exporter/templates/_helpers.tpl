{{/*
Names and labels.
*/}}
{{- define "lse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lse.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "lse.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "lse.labels" -}}
helm.sh/chart: {{ include "lse.chart" . }}
{{ include "lse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: litellm-spend-exporter
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of one component: include "lse.componentLabels" (list . "exporter") */}}
{{- define "lse.componentLabels" -}}
{{ include "lse.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "lse.exporterSelector" -}}
{{ include "lse.selectorLabels" . }}
app.kubernetes.io/component: exporter
{{- end }}

{{- define "lse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lse.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The roles Job's ServiceAccount. The chart's own ServiceAccount is an ordinary resource, created only after the
pre-install hooks ran, so the Job cannot use it: it gets its own, a hook before it (templates/roles-job.yaml).
With serviceAccount.create false, serviceAccount.name exists already and the Job uses it.
*/}}
{{- define "lse.rolesJobServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- printf "%s-roles" (include "lse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- include "lse.serviceAccountName" . }}
{{- end }}
{{- end }}

{{- define "lse.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
Database endpoints. The CNPG -ro service has endpoints only when the Cluster has replicas (instances > 1).
*/}}
{{- define "lse.cnpgNamespace" -}}
{{- default .Release.Namespace .Values.cnpg.namespace }}
{{- end }}

{{- define "lse.cnpgService" -}}
{{- $suffix := ternary "ro" "rw" (gt (int .Values.cnpg.instances) 1) }}
{{- printf "%s-%s.%s.svc" .Values.cnpg.clusterName $suffix (include "lse.cnpgNamespace" .) }}
{{- end }}

{{- define "lse.databaseHost" -}}
{{- default (include "lse.cnpgService" .) .Values.database.host }}
{{- end }}

{{/* The primary (read-write) service: the roles Job writes grants. */}}
{{- define "lse.primaryHost" -}}
{{- if .Values.database.host }}
{{- .Values.database.host }}
{{- else }}
{{- printf "%s-rw.%s.svc" .Values.cnpg.clusterName (include "lse.cnpgNamespace" .) }}
{{- end }}
{{- end }}

{{/* A URL without credentials: libpq takes user and password from PGUSER/PGPASSWORD. Argument: (list . host) */}}
{{- define "lse.credentiallessUrl" -}}
{{- $ := index . 0 }}
{{- printf "postgresql://%s:%d/%s" (index . 1) (int $.Values.database.port) $.Values.database.name }}
{{- with $.Values.database.sslMode }}?sslmode={{ . }}{{ end }}
{{- end }}

{{/*
Environment for a database connection from an existing Secret, in one of two shapes:
  urlKey set: <urlEnv> from that key (a complete URL);
  otherwise:  <urlEnv> = a URL built from host/port/name, PGUSER and PGPASSWORD from the Secret's keys.
Argument: dict "root" . "secret" <existingSecret-like> "urlEnv" <env var> "host" <host> "what" <values path>
*/}}
{{- define "lse.databaseEnv" -}}
{{- $root := .root }}
{{- $secret := .secret }}
{{- $name := required (printf "%s.name is required: the Secret with the %s" .what .purpose) $secret.name }}
{{- if $secret.urlKey }}
- name: {{ .urlEnv }}
  valueFrom:
    secretKeyRef:
      name: {{ $name }}
      key: {{ $secret.urlKey }}
{{- else }}
- name: {{ .urlEnv }}
  value: {{ include "lse.credentiallessUrl" (list $root .host) | quote }}
- name: PGUSER
  valueFrom:
    secretKeyRef:
      name: {{ $name }}
      key: {{ required (printf "%s.usernameKey is required when %s.urlKey is empty" .what .what) $secret.usernameKey }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $name }}
      key: {{ required (printf "%s.passwordKey is required when %s.urlKey is empty" .what .what) $secret.passwordKey }}
{{- end }}
{{- end }}

{{/*
The exporter's config file: values.config plus what the chart owns (listen address, web config, roles).
*/}}
{{- define "lse.roleConfig" -}}
{{- $r := . -}}
name: {{ $r.name }}
connection_limit: {{ $r.connectionLimit }}
statement_timeout: {{ $r.statementTimeout }}
{{- end }}

{{- define "lse.rolesConfig" -}}
roles:
  exporter:
    {{- include "lse.roleConfig" .Values.roles.exporter | nindent 4 }}
{{- if .Values.roles.grafana.enabled }}
  grafana:
    {{- include "lse.roleConfig" .Values.roles.grafana | nindent 4 }}
{{- else }}
  grafana: null
{{- end }}
{{- end }}

{{- define "lse.configFile" -}}
{{- $config := deepCopy .Values.config }}
{{- $web := dict "listen_address" (printf ":%d" (int .Values.web.port)) }}
{{- if .Values.web.configSecret.name }}
{{- $_ := set $web "config_file" (printf "/etc/litellm-spend-exporter/web/%s" .Values.web.configSecret.key) }}
{{- end }}
{{- $_ := set $config "web" $web }}
{{- $_ := set $config "roles" (get (include "lse.rolesConfig" . | fromYaml) "roles") }}
{{- toYaml $config }}
{{- end }}

{{/* Probe handler on /healthz. */}}
{{- define "lse.healthz" -}}
httpGet:
  path: /healthz
  port: http
  scheme: {{ ternary "HTTPS" "HTTP" .Values.web.tls }}
{{- end }}

{{/* Pod scheduling and security fields shared by every pod (each sets its own serviceAccountName). */}}
{{- define "lse.podCommon" -}}
automountServiceAccountToken: {{ .Values.serviceAccount.automountServiceAccountToken }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/*
Hook annotations for objects the pre-install/pre-upgrade roles Job needs (they must exist before it, so they are
hooks of a lower weight). lse.jobDependencyHook: objects that outlive the Job (ExternalSecrets whose Secrets the
exporter reads too); lse.jobScratchHook: objects only the Job uses (its ConfigMap and ServiceAccount), deleted
once every hook of the release step succeeded (Helm deletes hook-succeeded hooks after the last hook of the step).
*/}}
{{- define "lse.jobDependencyHook" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: {{ sub (int .Values.rolesJob.hookWeight) 5 | quote }}
helm.sh/hook-delete-policy: before-hook-creation
{{- end }}

{{- define "lse.jobScratchHook" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: {{ sub (int .Values.rolesJob.hookWeight) 5 | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end }}

{{/* True ("true") when the roles Job reads the given Secret name, so an ExternalSecret for it must be a hook. */}}
{{- define "lse.jobReadsSecret" -}}
{{- $ := index . 0 }}
{{- $name := index . 1 }}
{{- $job := $.Values.rolesJob }}
{{- $passwords := list }}
{{- if $job.setPasswords }}
{{- $passwords = list $.Values.database.existingSecret.name $.Values.roles.grafana.passwordSecret.name }}
{{- end }}
{{- if and $job.enabled $name (or (eq $name $job.adminSecret.name) (has $name $passwords)) -}}
true
{{- end }}
{{- end }}

{{/* The Grafana datasource login. */}}
{{- define "lse.grafanaUser" -}}
{{- default .Values.roles.grafana.name .Values.grafana.datasource.user }}
{{- end }}

{{/*
The datasource provisioning file; argument: (list . <password expression>).
*/}}
{{- define "lse.datasourceFile" -}}
{{- $ := index . 0 }}
{{- $ds := $.Values.grafana.datasource -}}
apiVersion: 1
datasources:
  - name: {{ $ds.name | quote }}
    uid: {{ $ds.uid | quote }}
    type: {{ $ds.type }}
    access: proxy
    url: {{ printf "%s:%d" (default (include "lse.databaseHost" $) $ds.host) (int $.Values.database.port) | quote }}
    user: {{ include "lse.grafanaUser" $ | quote }}
    editable: false
    jsonData:
      database: {{ $.Values.database.name | quote }}
      sslmode: {{ $.Values.database.sslMode | quote }}
      postgresVersion: {{ $ds.postgresVersion }}
      timescaledb: false
      maxOpenConns: {{ $ds.maxOpenConns }}
      maxIdleConns: {{ $ds.maxOpenConns }}
      connMaxLifetime: 14400
    secureJsonData:
      password: {{ index . 1 }}
{{- end }}

{{/* The CNPG spec.managed.roles entries for the two logins (README "Least privilege"). */}}
{{- define "lse.cnpgManagedRoles" -}}
- name: {{ .Values.roles.exporter.name }}
  ensure: present
  login: true
  inherit: false
  connectionLimit: {{ .Values.roles.exporter.connectionLimit }}
  passwordSecret:
    name: {{ default "litellm-spend-exporter-db" .Values.database.existingSecret.name }}
{{- if .Values.roles.grafana.enabled }}
- name: {{ .Values.roles.grafana.name }}
  ensure: present
  login: true
  inherit: false
  connectionLimit: {{ .Values.roles.grafana.connectionLimit }}
  passwordSecret:
    name: {{ .Values.roles.grafana.passwordSecret.name }}
{{- end }}
{{- end }}

{{/* An ExternalSecret remoteRef; argument: (list <remoteRef values> <values path>). */}}
{{- define "lse.remoteRef" -}}
{{- $ref := index . 0 -}}
key: {{ required (printf "%s.key is required: the secret's name in the store" (index . 1)) $ref.key | quote }}
{{- with $ref.property }}
property: {{ . | quote }}
{{- end }}
{{- end }}

{{/*
prometheusRule.thresholds ({section: {name: value}}) and prometheusRule.selector as a flat YAML map
"section.name: value", checked against files/thresholds.yaml: an unknown name or a value of the wrong kind fails,
and so does a threshold the shipped dashboards draw while the chart ships them (they would disagree).
*/}}
{{- define "lse.thresholdOverrides" -}}
{{- $pr := .Values.prometheusRule }}
{{- $map := .Files.Get "files/thresholds.yaml" | fromYaml }}
{{- $known := $map.thresholds | default dict }}
{{- $flat := dict }}
{{- range $section, $values := $pr.thresholds }}
{{- if not (kindIs "map" $values) }}
{{- fail (printf "prometheusRule.thresholds.%s must be a map of thresholds (e.g. {warning_ratio: 0.7}); known thresholds: %s" $section (keys $known | sortAlpha | join ", ")) }}
{{- end }}
{{- range $name, $value := $values }}
{{- $_ := set $flat (printf "%s.%s" $section $name) $value }}
{{- end }}
{{- end }}
{{- with $pr.selector }}
{{- $_ := set $flat "selector" . }}
{{- end }}
{{- range $key, $value := $flat }}
{{- if not (hasKey $known $key) }}
{{- fail (printf "prometheusRule.thresholds: unknown threshold %q; known thresholds: %s" $key (keys $known | sortAlpha | join ", ")) }}
{{- end }}
{{- $kind := (get $known $key).kind }}
{{- if and (eq $kind "number") (not (or (kindIs "float64" $value) (kindIs "int64" $value) (kindIs "int" $value))) }}
{{- fail (printf "prometheusRule.thresholds.%s must be a number (got %v)" $key $value) }}
{{- end }}
{{- if and (eq $kind "duration") (not (and (kindIs "string" $value) (regexMatch "^([0-9]+(ms|s|m|h|d|w|y))+$" (toString $value)))) }}
{{- fail (printf "prometheusRule.thresholds.%s must be a Prometheus duration like 10m or 1h30m (got %v)" $key $value) }}
{{- end }}
{{- if and $.Values.grafana.dashboards.enabled (has $key ($map.dashboards | default list)) }}
{{- fail (printf "prometheusRule.thresholds.%s is also drawn by the dashboards this chart ships (built with the shipped value), so they would disagree with the rules: write both with `litellm-spend-exporter dashboards --thresholds FILE` and load those dashboards instead (grafana.dashboards.enabled=false), or keep the shipped value" $key) }}
{{- end }}
{{- end }}
{{- toYaml $flat }}
{{- end }}

{{/*
A threshold as it appears in rule text; argument: (list value format). The formats match scripts/sync-chart-files:
num = Python's "{:g}" (6 significant digits), x100 = value*100 likewise, seconds = a duration in whole seconds,
raw = as written.
*/}}
{{- define "lse.formatThreshold" -}}
{{- $value := index . 0 }}
{{- $format := index . 1 }}
{{- if eq $format "num" }}
{{- printf "%.6g" (float64 $value) }}
{{- else if eq $format "x100" }}
{{- printf "%.6g" (mulf (float64 $value) 100) }}
{{- else if eq $format "seconds" }}
{{- $units := dict "ms" 0.001 "s" 1 "m" 60 "h" 3600 "d" 86400 "w" 604800 "y" 31536000 }}
{{- $total := 0.0 }}
{{- range regexFindAll "[0-9]+(ms|s|m|h|d|w|y)" (toString $value) -1 }}
{{- $n := regexFind "^[0-9]+" . }}
{{- $total = addf $total (mulf (float64 $n) (get $units (trimPrefix $n .))) }}
{{- end }}
{{- printf "%d" (int64 $total) }}
{{- else }}
{{- $value }}
{{- end }}
{{- end }}
