"""Cloud Function ``reconcile``, triggered by Pub/Sub topic ``platform-specs``: a platform spec
to apply to the cluster its message names.

A thin entry point: :mod:`shared.handlers.reconcile` decodes the event, applies it through the
engine and reports the outcome. Returning acknowledges the event; a transient outcome raises, so
Pub/Sub delivers it again. The handler is imported on the first event, not at start.
"""

from __future__ import annotations

from typing import Any

import functions_framework


@functions_framework.cloud_event
def reconcile(event: Any) -> None:
    from shared.handlers.reconcile import handle

    handle(event)
