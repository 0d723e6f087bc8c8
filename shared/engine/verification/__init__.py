"""Verifying a component after every change: its workloads are ready, gunj's own probe reaches
its readiness endpoint through its Service, and the chart's Helm tests pass where it has any.
The real upstream charts ship no Helm tests, so verification never rests on them alone, and an
empty Helm test run is reported as "no Helm tests", never as a pass."""
