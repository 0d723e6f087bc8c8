"""Which Helm process wrote a release revision, and whether it has exited: the proof that lets a
pending release be unlocked without waiting out its deadline.

Every install and upgrade gunj runs stamps its revision with :data:`~shared.labels.RUNNER_LABEL`,
naming the Helm process itself (not gunj): ``<machine>-<pid>-<start>``, where ``machine`` is
the first 20 hex digits of the SHA-256 of the machine's boot id and the PID namespace the
process runs in, ``pid`` its process id there, and ``start`` its start time in clock ticks
after boot (``/proc/<pid>/stat``). Within one boot of one machine and one PID namespace no two
processes have the same pid and start time, so the label names exactly one process: one that
runs now, or one that will never run again.

A runner has **exited** when its machine is this one (same boot, same PID namespace) and no
process with its pid runs here, or the process with that pid started at another time (the pid
was reused), or is a zombie (it has ended; only its exit status waits to be collected). A
runner of another machine (another function instance, a person's laptop, a pod) or of another
PID namespace on this one is never judged: nothing here can see it. Linux draws a new random
boot id at each boot, and gVisor (Cloud Functions' sandbox) one per sandbox. Where ``/proc``
does not tell (no boot id, or a ``/proc`` of another PID namespace than this process's), there
is no machine: no runner is named, and none is judged.

The label holds nothing secret: a hash of the boot id, a pid and a tick count.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
_MACHINE_DIGITS = 20
_LABEL = re.compile(r"^(?P<machine>[0-9a-f]{20})-(?P<pid>[0-9]{1,10})-(?P<start>[0-9]{1,20})$")


@dataclass(frozen=True)
class Runner:
    """One process: the machine (boot and PID namespace) it runs on, its pid, its start."""

    machine: str
    pid: int
    start: int
    """Clock ticks after boot (field 22 of ``/proc/<pid>/stat``)."""

    @property
    def label(self) -> str:
        return f"{self.machine}-{self.pid}-{self.start}"

    @classmethod
    def parse(cls, label: str) -> Runner | None:
        """The runner a label names; None for a value gunj did not write."""
        found = _LABEL.match(label)
        if found is None:
            return None
        return cls(found["machine"], int(found["pid"]), int(found["start"]))

    def here(self) -> bool:
        """It ran on this machine, in this PID namespace: whether it runs can be seen here."""
        machine = this_machine()
        return machine is not None and self.machine == machine

    def exited(self) -> bool:
        """Proved to have exited: it ran here, and its pid is free, or held by another process,
        or by a zombie. False when it may still run, or ran where this process cannot see."""
        if not self.here():
            return False
        found = _stat(self.pid)
        if found is None:
            return True
        state, start = found
        return start != self.start or state in {"Z", "X"}

    def describe(self) -> str:
        where = "on this machine" if self.here() else "on another machine"
        return f"Helm process {self.pid} {where}"


@functools.cache
def this_machine() -> str | None:
    """This boot of this machine and this process's PID namespace, as a short digest; None
    where ``/proc`` does not tell (then no runner is named, and none is judged)."""
    try:
        boot = (PROC / "sys/kernel/random/boot_id").read_text().strip()
        namespace = (PROC / "self/ns/pid").readlink()
        # A /proc of another PID namespace (a host's, mounted into a container) numbers its
        # processes otherwise: its pids are not ours to judge.
        own = (PROC / "self").readlink().name == str(os.getpid())
    except OSError:
        return None
    if not boot or not own:
        return None
    digest = hashlib.sha256(f"{boot}/{namespace}".encode()).hexdigest()
    return digest[:_MACHINE_DIGITS]


def runner_of(pid: int) -> Runner | None:
    """The process ``pid`` of this PID namespace, as a runner; None when it does not run, or
    this machine cannot be told from another."""
    machine = this_machine()
    found = _stat(pid) if machine is not None else None
    if machine is None or found is None:
        return None
    return Runner(machine, pid, found[1])


def _stat(pid: int) -> tuple[str, int] | None:
    """The state and start time of ``pid``, or None when no such process exists."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None  # no such process
    # The command name (field 2) is in parentheses and may itself hold spaces and parentheses:
    # the fields after it start after the last ')'.
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])
