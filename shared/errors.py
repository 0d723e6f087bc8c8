"""The root of gunj's own errors: each says whether trying again later can help.

A transient error (an API server or repository that cannot be reached, a lock held by another
reconcile) makes a function fail so that Pub/Sub delivers the event again with backoff; a
permanent one (bad input, a chart that does not exist) is reported and acknowledged, since
delivering it again could never succeed.
"""

from __future__ import annotations


class GunjError(RuntimeError):
    """Something gunj could not do; ``transient`` says whether a retry may succeed."""

    transient = False
