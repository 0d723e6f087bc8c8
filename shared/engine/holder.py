"""Who holds a platform's Lease: the identity each reconcile takes it with, and how one of
gunj's is told from anyone else's.

A reconcile's identity is its process's (``<host>-<pid>-<6 hex>``, :func:`process_identity`)
and a suffix of its own (``/<8 hex>``): a warm function instance serves several events at once,
and each must hold the Lease alone. A holder of another form is someone else's: a person's or
another program's, believed only so far (:class:`~shared.kube.lease.Lease`).
"""

from __future__ import annotations

import os
import re
import socket
import uuid

_GUNJ_HOLDER = re.compile(r"[^\s/]{1,253}-[0-9]{1,10}-[0-9a-f]{6}/[0-9a-f]{8}")


def process_identity() -> str:
    """This process's part of a holder identity: host, process id and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def reconcile_holder(process: str) -> str:
    """A holder identity for one reconcile of the process ``process``."""
    return f"{process}/{uuid.uuid4().hex[:8]}"


def is_gunj_holder(holder: str) -> bool:
    """Whether ``holder`` has the form of a reconcile's identity."""
    return _GUNJ_HOLDER.fullmatch(holder) is not None
