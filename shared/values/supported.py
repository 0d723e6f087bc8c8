"""Chart versions the value builders are written for (``defaults/charts.yaml``): a spec that asks
for a chart version outside them is accepted with a warning, since values keys change between
majors and the chart may ignore or refuse what gunj derives."""

from __future__ import annotations

import re

import semver

from ..versions import InvalidVersion, VersionConstraint
from .plan import upstream_chart
from .problems import Problem
from .spec import ObservabilityPlatform

_NUMBERS = re.compile(r"\d+(?:\.\d+){0,2}")


def _candidates(*constraints: str) -> set[semver.Version]:
    """Versions around every version a constraint names: where two ranges overlap, one of
    these lies in both."""
    found: set[semver.Version] = set()
    for text in constraints:
        for number in _NUMBERS.findall(text):
            parts = [int(p) for p in number.split(".")] + [0, 0]
            major, minor, patch = parts[:3]
            found |= {
                semver.Version(major, minor, patch),
                semver.Version(major, minor, patch + 1),
                semver.Version(major, minor + 1, 0),
                semver.Version(major + 1, 0, 0),
            }
            if patch:
                found.add(semver.Version(major, minor, patch - 1))
            if minor:
                found.add(semver.Version(major, minor - 1, 0))
    return found


def outside(wanted: str, supported: str) -> bool:
    """Whether no version ``wanted`` allows is one ``supported`` allows."""
    try:
        asked, known = VersionConstraint.parse(wanted), VersionConstraint.parse(supported)
    except InvalidVersion:
        return False
    if asked.exact is not None:
        return not known.allows(asked.exact)
    return not any(asked.allows(v) and known.allows(v) for v in _candidates(asked.text, known.text))


def supported_version_warnings(platform: ObservabilityPlatform) -> list[Problem]:
    warnings = []
    for component in platform.spec.enabled():
        spec = platform.spec.component(component)
        if spec is None or not spec.chart_version:
            continue
        supported = upstream_chart(component).versions
        if outside(spec.chart_version, supported):
            warnings.append(
                Problem(
                    f"spec.{component}.chartVersion",
                    f"outside {supported}, the {component} chart versions gunj's values are "
                    "written for; values keys change between majors, so the chart may ignore "
                    "or refuse what gunj sets",
                )
            )
    return warnings
