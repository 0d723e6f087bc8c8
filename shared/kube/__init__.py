"""Access to target clusters through the official Kubernetes client.

``ClusterAccess`` is loaded on first use (PEP 562): the Kubernetes client alone takes a quarter
of a second to import, which a function's cold start should pay only when it reaches a cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .access import ClusterAccess

__all__ = ["ClusterAccess"]


def __getattr__(name: str) -> Any:
    if name == "ClusterAccess":
        from .access import ClusterAccess

        return ClusterAccess
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
