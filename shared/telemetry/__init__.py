"""gunj's own metrics: the figures each outcome carries (:mod:`.figures`), the metrics made of
them (:mod:`.metrics`, the same names as the Terraform module's log-based metrics) and the
Grafana dashboard that reads them (``dashboards/gunj.json``). ``gunj serve`` exposes them
(:mod:`shared.localstack.exporter`)."""
