"""gunj's own metrics: the figures each outcome carries (:mod:`.figures`), the metrics made of
them (:mod:`.metrics`, the same names as the Terraform module's log-based metrics), the
Prometheus exposition ``gunj serve`` offers (:mod:`.exporter`) and the Grafana dashboard that
reads it (``dashboards/gunj.json``)."""
