"""Access to target clusters through the official Kubernetes client."""

from .access import ClusterAccess

__all__ = ["ClusterAccess"]
