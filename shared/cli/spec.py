"""``gunj validate``, ``gunj plan`` and ``gunj schema``: check platform specs, show what would be
installed, and regenerate the CRD."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..cache import cache_root
from ..helm.charts import ChartLibrary, ChartSource
from ..helm.errors import HelmError
from ..helm.index import ChartVersion
from ..helm.repositories import RepositorySettings, moved
from ..helm.selection import Notice, incompatibilities, moved_notice, notices, select_version
from ..values import crd
from ..values.plan import ComponentPlan, plan_platform
from ..values.problems import Problem
from ..values.references import references
from ..values.release_checks import offline_release_checks
from ..values.spec import ObservabilityPlatform
from ..values.supported import supported_version_warnings
from ..values.templating import template_expressions
from ..values.validation import (
    InvalidPlatform,
    Validation,
    load_platform,
    read_document,
    validate,
)
from .cluster_plan import run_cluster_plan
from .conventions import DONE, PERMANENT, TRANSIENT, USAGE, add_output, emit, read_input, shown


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = subparsers.add_parser("validate", help="check platform specs; list every problem")
    check.add_argument("files", nargs="+", type=Path, help="the specs (- for standard input)")
    check.add_argument(
        "--strict",
        action="store_true",
        help="fail (exit 1) on warnings too, such as a template expression that apply refuses "
        "unless the target cluster allows templates",
    )
    add_output(check)
    check.set_defaults(handler=run_validate)
    plan = subparsers.add_parser(
        "plan", help="show, per component, the chart, version and Helm values gunj would use"
    )
    plan.add_argument("file", type=Path, help="the spec (- for standard input)")
    plan.add_argument(
        "--offline",
        action="store_true",
        help="do not contact chart repositories: show version ranges as given (otherwise "
        "versions are resolved through GUNJ_REPOSITORY_MIRRORS and GUNJ_ALLOWED_REPOSITORIES)",
    )
    plan.add_argument(
        "--cluster",
        help="a registered cluster: show, per component, what applying the spec there would do "
        "(install, upgrade or nothing) and the values that would change against the deployed "
        "release (secrets shown as references); changes nothing",
    )
    plan.add_argument(
        "--manifests",
        action="store_true",
        help="print the objects that would be applied, as YAML: native mode's rendered objects, "
        "Helm's rendered manifest (helm template); values from Secrets are not read, and a "
        "Secret object's data is not shown",
    )
    add_output(plan)
    plan.set_defaults(handler=run_plan)
    schema = subparsers.add_parser(
        "schema", help="print (or --write) the CRD and the JSON schema generated from the model"
    )
    schema.add_argument(
        "--write", action="store_true", help="regenerate the checked-in files in shared/values/crd/"
    )
    schema.add_argument("--json", action="store_true", help="print the JSON schema, not the CRD")
    schema.set_defaults(handler=run_schema)


def _read(path: Path, command: str = "validate") -> bytes | None:
    """The file's bytes (``-``: standard input): the document loader says where they are not
    UTF-8 text."""
    return read_input(path, command)


def _print_problems(path: Path, heading: str, problems: list[Problem]) -> None:
    print(f"{shown(path)}: {heading}")
    for problem in problems:
        print(f"  - {problem}")


def _print_warnings(path: Path, warnings: list[Problem], *, strict: bool = False) -> None:
    count = len(warnings)
    verdict = "refused: --strict" if strict else "accepted"
    print(f"{shown(path)}: {count} warning{'s' if count != 1 else ''} ({verdict})")
    for warning in warnings:
        print(f"  - warning: {warning}")


def repository_notices(plan: ComponentPlan) -> list[Problem]:
    """What the project's repository data says about a plan's chart source, without contacting
    the repository: the chart moved away from it, and the releases left there are deprecated."""
    move = moved(plan.repository, plan.chart)
    if move is None:
        return []
    source = plan.spec.chart
    path = f"spec.{plan.component}.chart.repository" if source and source.repository else ""
    return [
        Problem(
            path,
            f"deprecated: the {plan.chart} chart's releases in {plan.repository} are "
            f"deprecated since it moved on {move.since.isoformat()}",
        ),
        Problem(path, f"moved: {moved_notice(plan.chart, plan.repository, move)}"),
    ]


def _validate_text(text: str | bytes) -> Validation:
    try:
        return validate(read_document(text))
    except InvalidPlatform as error:
        return Validation(None, error.problems)


def _print_notes(path: Path, notes: list[Problem]) -> None:
    for note in notes:
        print(f"{path}: note: {note}")


@dataclass(frozen=True)
class Checked:
    """What ``gunj validate`` found in one file."""

    path: Path
    problems: list[Problem]
    warnings: list[Problem]
    notes: list[Problem]

    def failed(self, strict: bool) -> bool:
        return bool(self.problems) or (strict and bool(self.warnings))

    def document(self, strict: bool) -> dict[str, Any]:
        def listed(found: list[Problem]) -> list[dict[str, str]]:
            return [{"path": p.path, "message": p.message} for p in found]

        return {
            "file": shown(self.path),
            "valid": not self.failed(strict),
            "problems": listed(self.problems),
            "warnings": listed(self.warnings),
            "notes": listed(self.notes),
        }


def _check(path: Path, text: bytes) -> Checked:
    result = _validate_text(text)
    problems, warnings, notes = list(result.problems), list(result.warnings), []
    if result.platform is not None:
        notices = [n for plan in plan_platform(result.platform) for n in repository_notices(plan)]
        # What apply checks on the complete values, here without valuesFrom.
        release = offline_release_checks(result.platform)
        problems += release.problems
        warnings = [*notices, *warnings, *release.warnings]
        notes = release.notes
    return Checked(path, problems, warnings, notes)


def _print_checked(checked: Checked, strict: bool) -> None:
    path, problems = checked.path, checked.problems
    if problems:
        count = len(problems)
        _print_problems(path, f"{count} problem{'s' if count != 1 else ''}", problems)
    elif not (strict and checked.warnings):
        print(f"{shown(path)}: valid")
    if checked.warnings:
        _print_warnings(path, checked.warnings, strict=strict)
    _print_notes(path, checked.notes)


def run_validate(arguments: argparse.Namespace) -> int:
    failed = False
    documents = []
    for path in arguments.files:
        text = _read(path)
        if text is None:
            failed = True
            continue
        checked = _check(path, text)
        failed = failed or checked.failed(arguments.strict)
        if arguments.output == "table":
            _print_checked(checked, arguments.strict)
        else:
            documents.append(checked.document(arguments.strict))
    if arguments.output != "table":
        emit({"files": documents}, arguments.output)
    return 1 if failed else 0


@dataclass(frozen=True)
class Resolved:
    version: ChartVersion
    notices: list[Notice]


def _settings(cluster: str | None) -> RepositorySettings:
    """The repositories as a reconcile for ``cluster`` reaches them (the local stack's mirrors
    for its cluster), else as the environment configures them."""
    if cluster is None:
        return RepositorySettings.from_environment()
    from ..clusters import ClusterRegistry
    from .target import repository_environment

    return repository_environment(ClusterRegistry.load().get(cluster))


def _resolve(plans: list[ComponentPlan], settings: RepositorySettings) -> dict[str, Resolved]:
    """The chart version each plan gets, from its repository (through the configured mirrors)."""
    library = ChartLibrary(settings, cache_root())
    resolved = {}
    for plan in plans:
        versions = library.versions(ChartSource(plan.repository, plan.chart))
        chosen = select_version(
            versions, constraint=plan.chart_version, app_version=plan.app_version
        )
        resolved[plan.component] = Resolved(
            chosen, notices(plan.repository, versions, chosen.version)
        )
    return resolved


def _print_plan(plan: ComponentPlan, resolved: Resolved | None, warnings: list[Problem]) -> None:
    print(
        f"{plan.component}: release {plan.release} in namespace {plan.namespace} ({plan.mode} mode)"
    )
    print(f"  chart:   {plan.chart} from {plan.repository}")
    wanted = (
        f"app version {plan.app_version}, chart within {plan.chart_version}"
        if plan.app_version
        else plan.chart_version
    )
    if resolved is None:
        print(f"  version: {wanted} (the newest allowed is chosen at apply)")
    else:
        print(
            f"  version: {resolved.version.version} (app {resolved.version.app_version}; "
            f"the newest for {wanted})"
        )
        for notice in resolved.notices:
            print(f"  {notice.kind}: {notice.message}")
    for warning in warnings:
        print(f"  warning: {warning}")
    refs = references(plan.spec)
    if refs:
        print("  references (never shown by value):")
        for ref in refs:
            print(f"    - {ref}")
    print("  values:")
    text = yaml.safe_dump(plan.values, sort_keys=False, default_flow_style=False)
    print("\n".join(f"    {line}" for line in text.rstrip().splitlines()))


def _plan_usage(arguments: argparse.Namespace) -> str | None:
    if arguments.cluster and arguments.offline:
        return "--offline and --cluster exclude each other"
    if arguments.manifests and arguments.output != "table":
        return "--manifests prints YAML documents; it takes no --output"
    return None


def run_plan(arguments: argparse.Namespace) -> int:
    if usage := _plan_usage(arguments):
        print(f"gunj plan: {usage}", file=sys.stderr)
        return USAGE
    text = _read(arguments.file, "plan")
    if text is None:
        return PERMANENT
    try:
        platform = load_platform(text)
    except InvalidPlatform as error:
        _print_problems(arguments.file, "invalid", error.problems)
        return PERMANENT
    if arguments.cluster and not arguments.manifests:
        return run_cluster_plan(platform, arguments.cluster, arguments.output)
    try:
        return _plan_from_repositories(arguments, platform)
    except HelmError as error:
        # An index or chart that cannot be fetched now is transient, as it is for apply.
        print(f"gunj plan: {error}", file=sys.stderr)
        if error.transient:
            print("transient: nothing is wrong with the spec; run it again later", file=sys.stderr)
        return TRANSIENT if error.transient else PERMANENT


def _plan_from_repositories(arguments: argparse.Namespace, platform: ObservabilityPlatform) -> int:
    plans = plan_platform(platform)
    if not plans and arguments.output == "table" and not arguments.manifests:
        print(f"{shown(arguments.file)}: no component is enabled")
    settings = _settings(arguments.cluster)
    resolved = {} if arguments.offline else _resolve(plans, settings)
    if arguments.manifests:
        from .manifests import print_manifests

        versions = {c: r.version.version for c, r in resolved.items()}
        print_manifests(platform, plans, versions, settings)
        return DONE
    # Online, the repositories' own notices say what moved; offline, the project's data does.
    general = [*supported_version_warnings(platform), *template_expressions(platform)]
    if arguments.output != "table":
        document = _plan_document(platform, plans, resolved, general, arguments.offline)
        emit(document, arguments.output)
        return DONE
    for index, plan in enumerate(plans):
        if index:
            print()
        mine = [w for w in general if w.path.startswith(f"spec.{plan.component}.")]
        if arguments.offline:
            mine = [*repository_notices(plan), *mine]
        _print_plan(plan, resolved.get(plan.component), mine)
    if resolved:
        charts = {component: r.version.version for component, r in resolved.items()}
        kube = {component: r.version.kube_version for component, r in resolved.items()}
        for problem in incompatibilities(charts, kube_versions=kube):
            print(f"\nincompatible: {problem}")
    return DONE


def _plan_document(
    platform: ObservabilityPlatform,
    plans: list[ComponentPlan],
    resolved: dict[str, Resolved],
    warnings: list[Problem],
    offline: bool,
) -> dict[str, Any]:
    """The plan as ``--output json|yaml`` prints it: what the table shows, per component."""
    components = []
    for plan in plans:
        chosen = resolved.get(plan.component)
        mine = [w for w in warnings if w.path.startswith(f"spec.{plan.component}.")]
        if offline:
            mine = [*repository_notices(plan), *mine]
        components.append(
            {
                "component": plan.component,
                "release": plan.release,
                "namespace": plan.namespace,
                "mode": plan.mode,
                "chart": plan.chart,
                "repository": plan.repository,
                "wanted": plan.chart_version,
                "appVersion": plan.app_version,
                "version": chosen.version.version if chosen else None,
                "notices": [f"{n.kind}: {n.message}" for n in chosen.notices] if chosen else [],
                "warnings": [str(w) for w in mine],
                "references": references(plan.spec),
                "values": plan.values,
            }
        )
    return {
        "platform": f"{platform.metadata.namespace}/{platform.metadata.name}",
        "components": components,
    }


def run_schema(arguments: argparse.Namespace) -> int:
    if arguments.write:
        folder = Path(crd.__file__).parent / "crd"
        for path in crd.write_generated(folder):
            print(f"wrote {path}")
        return 0
    print(crd.render_json_schema() if arguments.json else crd.render_crd(), end="")
    return 0
