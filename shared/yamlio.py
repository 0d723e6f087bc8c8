"""PyYAML's safe loader through LibYAML, where PyYAML was built with it.

``yaml.safe_load`` always uses PyYAML's pure-Python scanner and parser, even when LibYAML is
installed; the C ones (``yaml.CSafeLoader``) read the same documents into the same values (the
resolver and the constructor are PyYAML's own in both) five to ten times faster. A function's
cold instance reads chart defaults, Helm's rendered manifests and the release notes it keeps
on its first event, so every YAML gunj reads goes through here; PyYAML without LibYAML still
works, only slower.

This is for YAML whose size gunj or Helm decides. Documents from outside (platform specs,
``valuesFrom`` content, alert payloads, the cluster registry) are read by
:mod:`shared.documents`, which applies its limits on the parser events of the same
:data:`SafeLoader`.

Dumping stays PyYAML's pure-Python emitter: LibYAML's writes some scalars differently (line
folding, quoting), and the text gunj writes is kept and compared (release manifests, digests,
the checked-in CRD).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))
"""Whether PyYAML has LibYAML (``pip install pyyaml`` on a platform with a wheel does)."""

SafeLoader: type[yaml.CSafeLoader] | type[yaml.SafeLoader] = (
    yaml.CSafeLoader if LIBYAML else yaml.SafeLoader
)
"""The safe loader: LibYAML's scanner and parser where there, else PyYAML's."""


def safe_load(text: str | bytes) -> Any:
    """The single document of ``text``, as ``yaml.safe_load`` reads it."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader


def safe_load_all(text: str | bytes) -> Iterator[Any]:
    """Each document of ``text``, as ``yaml.safe_load_all`` reads them."""
    return yaml.load_all(text, Loader=SafeLoader)
