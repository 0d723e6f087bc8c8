"""Every label and annotation gunj sets on, or reads from, objects in a target cluster: one name
each, defined here once.

gunj's own keys are under ``gunj.io/``. The Kubernetes recommended labels
(``app.kubernetes.io/*``) are named ``APP_*`` here, so ``COMPONENT_LABEL`` always means gunj's
component (prometheus, loki, tempo, grafana) and ``APP_COMPONENT_LABEL`` a chart's part of one
(server, gateway, ...).
"""

from __future__ import annotations

# --- on releases (Helm's storage Secrets and native revisions) and the objects they hold -----
PLATFORM_LABEL = "gunj.io/platform"
"""The platform (its name) that made a release or an object."""
COMPONENT_LABEL = "gunj.io/component"
"""The platform's component a release or an object belongs to."""
DIGEST_LABEL = "gunj.io/desired"
"""On a revision: the digest of what gunj asked for (a hint; Helm copies labels forward)."""
DEADLINE_LABEL = "gunj.io/deadline"
"""On a revision: the Unix time after which no Helm process of its operation can still run."""
RUNNER_LABEL = "gunj.io/helm-runner"
"""On a revision: the Helm process that wrote it (:mod:`shared.helm.runner`): when it has exited,
the revision's lock can be released at once."""
ARCHIVE_LABEL = "gunj.io/chart-archive"
"""On a revision: the start of the SHA-256 of the chart archive it was made from (a chart
republished under the same version has another)."""

# --- native mode's objects -------------------------------------------------------------------
NATIVE_LABEL = "gunj.io/native"
"""On every object native mode applies (``true``): what it may prune."""
NAMESPACE_LABEL = "gunj.io/namespace"
"""The platform's namespace, on native objects (cluster-scoped ones have none of their own)."""
NATIVE_INSTANCE_LABEL = "gunj.io/native-instance"
"""What native Services select their pods by (the release name)."""
CHECKSUM_ANNOTATION = "gunj.io/config-checksum"
"""On native pod templates: the checksum of the configuration they mount (a change rolls them)."""

# --- verification ----------------------------------------------------------------------------
PROBE_LABEL = "gunj.io/probe"
"""On gunj's verification probe pods."""
CHART_LABEL = "gunj.io/chart"
"""On probe pods: the chart and version they verify."""

# --- the ObservabilityPlatform object --------------------------------------------------------
GENERATION_ANNOTATION = "gunj.io/generation"
"""The publisher's generation of the spec (the Pub/Sub message's ``generation``)."""
SOURCE_ANNOTATION = "gunj.io/source"
"""Where the spec came from (a commit, ``gunj apply``, ``upgrade-check``)."""

# --- Kubernetes recommended labels -----------------------------------------------------------
APP_NAME_LABEL = "app.kubernetes.io/name"
APP_COMPONENT_LABEL = "app.kubernetes.io/component"
APP_INSTANCE_LABEL = "app.kubernetes.io/instance"
"""What every upstream chart selects its pods by (with name and component): the release."""
APP_MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"

# --- Helm's own ------------------------------------------------------------------------------
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
"""On every object a Helm release owns: the release's name."""
HELM_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"
"""On every object a Helm release owns: the release's namespace."""
