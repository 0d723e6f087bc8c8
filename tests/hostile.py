"""Hostile documents, for the tests that drive them through the real handlers, and how to
measure a process that reads them (its memory limited as the functions' is)."""

from __future__ import annotations

import itertools
import resource
from dataclasses import dataclass, field
from pathlib import Path

SECRET = "hunter2-hostile-secret"
FUNCTION_MEMORY = 1024 * 1024 * 1024
"""The functions' memory (Terraform's ``available_memory``): the address space a test gives."""
MESSAGE_MEMORY = 256 * 1024 * 1024
"""What reading one hostile document may add to a process's resident memory (docs/security.md)."""

HEADER = (
    "apiVersion: observability.io/v1beta1\n"
    "kind: ObservabilityPlatform\n"
    "metadata: {name: obs, namespace: hostile}\n"
)


@dataclass(frozen=True)
class Hostile:
    name: str
    data: bytes
    where: str
    """What the refusal must name: a field path, or a line (``line``)."""
    attributes: dict[str, str] = field(default_factory=dict)


def _alias_bomb(levels: int, width: int) -> str:
    names = [f"l{i}" for i in range(levels)]
    lines = [f"    {names[0]}: &{names[0]} [{', '.join([SECRET] * width)}]"]
    for previous, name in itertools.pairwise(names):
        lines.append(f"    {name}: &{name} [{', '.join([f'*{previous}'] * width)}]")
    return "\n".join(lines) + "\n"


def _spec(body: str) -> bytes:
    return (HEADER + body).encode()


def specs() -> list[Hostile]:
    """Spec messages: each must end ``invalid``, naming where."""
    bomb = _alias_bomb(9, 9)
    return [
        Hostile("alias bomb 9x9", _spec("spec:\n  prometheus:\n   config:\n" + bomb), "line"),
        Hostile(
            "billion laughs 30x2",
            _spec("spec:\n  prometheus:\n   config:\n" + _alias_bomb(30, 2)),
            "aliases",
        ),
        Hostile(
            "billion laughs, one level, wide",
            _spec(
                f"spec:\n  prometheus:\n    config:\n      a: &a {SECRET}\n      b: ["
                + ", ".join(["*a"] * 200_000)
                + "]\n"
            ),
            "spec.prometheus.config.b",
        ),
        Hostile(
            "merge-key bomb",
            _spec(
                "spec:\n  prometheus:\n    config:\n      m0: &m0 {"
                + ", ".join(f"k{i}: {SECRET}" for i in range(50))
                + "}\n"
                + "".join(
                    f"      m{i}: &m{i} {{<<: [*m{i - 1}], a: [*m{i - 1}, *m{i - 1}]}}\n"
                    for i in range(1, 40)
                )
            ),
            "spec.prometheus.config",
        ),
        Hostile(
            "5000-digit integer",
            _spec("spec:\n  prometheus:\n    replicas: " + "9" * 5000 + "\n"),
            "spec.prometheus.replicas",
        ),
        Hostile(
            "5000-digit integer in JSON",
            b'{"apiVersion": "observability.io/v1beta1", "spec": {"prometheus": {"replicas": '
            + b"9" * 5000
            + b"}}}",
            "spec.prometheus.replicas",
        ),
        Hostile(
            "JSON nested 100 000 deep",
            b'{"spec": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "line 1",
        ),
        Hostile(
            "YAML flow nested 100 000 deep",
            _spec("spec: " + "[" * 100_000 + "]" * 100_000),
            "line 4",
        ),
        Hostile(
            "YAML block nested 500 deep",
            _spec("spec:\n" + "".join("  " * (i + 1) + "a:\n" for i in range(500))),
            "spec.a.a",
        ),
        Hostile(
            "a string of 1.5 MiB",
            _spec("spec:\n  grafana:\n    config:\n      x: " + SECRET * 70_000 + "\n"),
            "spec.grafana.config.x",
        ),
        Hostile(
            "a text of 3 MiB", _spec("spec: {}\n# " + "x" * (3 * 1024 * 1024)), "the document is"
        ),
        Hostile(
            "!!binary password",
            _spec(
                "spec:\n  grafana:\n    adminPassword: !!binary aHVudGVyMi1ob3N0aWxlLXNlY3JldA==\n"
            ),
            "spec.grafana.adminPassword (line 6",
        ),
        Hostile(
            "!!python/object",
            _spec(
                "spec:\n  grafana:\n    config:\n"
                f"      x: !!python/object/apply:os.system ['{SECRET}']\n"
            ),
            "spec.grafana.config.x (line 7",
        ),
        Hostile(
            "!!set",
            _spec(f"spec:\n  loki:\n    config: !!set {{{SECRET}: null}}\n"),
            "spec.loki.config (line 6",
        ),
        Hostile(
            "duplicate keys",
            _spec(
                "spec:\n  prometheus:\n    replicas: 2\n  grafana: {}\n"
                f"  prometheus:\n    config: {{password: {SECRET}}}\n"
            ),
            'the key "prometheus" is given twice (first at line 5, column 3)',
        ),
        Hostile("invalid UTF-8", _spec("spec: {}\n") + b"# \xff\xfe " + SECRET.encode(), "byte"),
    ]


GOOD_SPEC = _spec("spec:\n  prometheus: {enabled: false}\n")


def generations() -> list[Hostile]:
    """A good spec with a bad ``generation`` attribute."""
    return [
        Hostile(f"generation {value!r}", GOOD_SPEC, "attribute generation", {"generation": value})
        for value in ("²", "1" * 30, "-1", "", "1e3", "١٢")
    ]


def named() -> list[Hostile]:
    """Delete and resync messages, which name a platform by its metadata."""
    bomb = _spec("spec:\n  prometheus:\n   config:\n" + _alias_bomb(9, 9))
    return [
        Hostile(f"alias bomb, action {action}", bomb, "line", {"action": action})
        for action in ("delete", "resync")
    ]


def alerts() -> list[Hostile]:
    """Alert payloads (Pub/Sub and the HTTP webhook)."""
    return [
        Hostile(
            "JSON nested 100 000 deep",
            b'{"alerts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "line 1",
        ),
        Hostile(
            "5000-digit integer",
            b'{"incident": {"started_at": ' + b"9" * 5000 + b"}}",
            "incident.started_at",
        ),
        Hostile(
            "duplicate keys",
            b'{"alerts": [], "status": "firing",\n "status": "' + SECRET.encode() + b'"}',
            "line 2, column 2",
        ),
        Hostile(
            "a string of 512 KiB",
            b'{"alerts": [{"labels": {"x": "' + b"x" * 524_288 + b'"}}]}',
            "alerts[0].labels.x",
        ),
        Hostile("NaN", b'{"incident": {"started_at": NaN}}', "incident.started_at"),
        Hostile("invalid UTF-8", b'{"alerts": "\xff' + SECRET.encode() + b'"}', "byte"),
        Hostile("YAML, not JSON", f"alerts: !!binary {SECRET}\n".encode(), "line 1"),
    ]


def peak_rss(pid: int) -> int:
    """The high-water mark of a process's resident memory, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for {pid}")


def reset_peak(pid: int) -> int:
    """Start the high-water mark again from the current resident memory (Linux 4.0+); that
    memory, in bytes."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return peak_rss(pid)


def process_tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in children:
            found += process_tree(int(child))
    return found


def limit_memory(pid: int, limit: int = FUNCTION_MEMORY) -> list[int]:
    """Give a running process and its children the functions' address space."""
    tree = process_tree(pid)
    for member in tree:
        resource.prlimit(member, resource.RLIMIT_AS, (limit, limit))
    return tree


def figures(rows: list[tuple[str, float, int]]) -> str:
    """A table of what each item cost: name, seconds, peak memory."""
    width = max(len(name) for name, _, _ in rows)
    return "\n".join(
        f"  {name:<{width}}  {seconds:7.3f} s  {peak / 1024 / 1024:7.1f} MiB"
        for name, seconds, peak in rows
    )
