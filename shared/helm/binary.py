"""A Helm binary and the command-line dialect of its major version.

Helm 4 renamed or reshaped flags the engine relies on; everything that differs lives here so the
client reads the same for both majors:

| intent                      | Helm 3                  | Helm 4                          |
|-----------------------------|-------------------------|---------------------------------|
| wait for resources          | ``--wait``              | ``--wait=watcher`` (kstatus)    |
| roll back a failed change   | ``--atomic``            | ``--rollback-on-failure``       |
| replace objects by force    | ``--force``             | ``--force-replace``             |
| apply                       | client-side 3-way merge | server-side apply (default)     |
"""

from __future__ import annotations

import functools
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HelmBinary:
    path: Path

    @functools.cached_property
    def version(self) -> str:
        result = subprocess.run(
            [str(self.path), "version", "--template", "{{.Version}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return result.stdout.strip()

    @property
    def major(self) -> int:
        match = re.match(r"v?(\d+)\.", self.version)
        if not match:
            raise ValueError(f"cannot read the major version of Helm from {self.version!r}")
        return int(match.group(1))

    def wait_flags(self, wait: bool) -> list[str]:
        if not wait:
            # Helm 4 waits for hooks only unless told otherwise; Helm 3 does not wait at all.
            return []
        return ["--wait"] if self.major < 4 else ["--wait=watcher"]

    def rollback_on_failure_flag(self) -> str:
        return "--atomic" if self.major < 4 else "--rollback-on-failure"

    def force_flag(self) -> str:
        return "--force" if self.major < 4 else "--force-replace"
