"""Native mode: the components as plain manifests, applied by server-side apply."""
