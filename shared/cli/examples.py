"""The examples each command's ``--help`` ends with (a test checks every command has some)."""

from __future__ import annotations

EXAMPLES: dict[tuple[str, ...], list[str]] = {
    (): [
        "gunj validate examples/minimal.yaml",
        "gunj plan examples/minimal.yaml --cluster local",
        "gunj apply examples/minimal.yaml --cluster local",
        "gunj status --cluster local -o yaml",
        'eval "$(gunj completion bash)"',
    ],
    ("validate",): [
        "gunj validate examples/*.yaml",
        "kubectl get observabilityplatform obs -n monitoring -o yaml | gunj validate -",
    ],
    ("plan",): [
        "gunj plan examples/minimal.yaml --offline",
        "gunj plan examples/minimal.yaml --cluster local -o json",
        "gunj plan examples/minimal.yaml --cluster local --manifests",
    ],
    ("schema",): ["gunj schema > crd.yaml", "gunj schema --json | jq .properties.spec"],
    ("apply",): [
        "gunj apply examples/minimal.yaml --cluster local",
        "cat spec.yaml | gunj apply - --cluster prod-eu -o json",
    ],
    ("status",): [
        "gunj status --cluster local",
        "gunj status monitoring/obs --cluster local --live -o yaml",
        "gunj status",
        "gunj status --live -o json",
    ],
    ("fleet",): ["gunj fleet", "gunj fleet --live -o yaml"],
    ("resync",): ["gunj resync --cluster local", "gunj resync obs --cluster local -o json"],
    ("rollback",): [
        "gunj rollback obs grafana --cluster local",
        "gunj rollback monitoring/obs prometheus --to 3 --cluster local",
    ],
    ("uninstall",): [
        "gunj uninstall obs --cluster local --dry-run",
        "gunj uninstall monitoring/obs --cluster local --yes",
    ],
    ("unquarantine",): [
        "gunj unquarantine obs grafana 8.5.1 --cluster local",
        "gunj unquarantine obs grafana 3f2a9c1e --cluster local",
        "gunj unquarantine monitoring/obs tempo 1.2.0 --fleet",
    ],
    ("serve",): ["gunj serve", "gunj serve --resync-every 5m"],
    ("publish",): [
        "gunj publish examples/minimal.yaml --cluster local --wait --timeout 5m",
        "gunj publish examples/minimal.yaml --cluster local --delete",
    ],
    ("events",): ["gunj events", "gunj events --timeout 90s -o json"],
    ("upgrades",): [
        "gunj upgrades",
        "gunj upgrades --cluster local --platform monitoring/obs -o yaml",
    ],
    ("rollout",): [
        "gunj rollout start examples/minimal.yaml --bake 10m",
        "gunj rollout status",
    ],
    ("rollout", "start"): [
        "gunj rollout start examples/minimal.yaml",
        "gunj rollout start examples/minimal.yaml --clusters local,local-2 --bake 5m -o json",
    ],
    ("rollout", "status"): [
        "gunj rollout status",
        "gunj rollout status tempo-tempo-1.24.1 -o yaml",
    ],
    ("rollout", "pause"): ["gunj rollout pause tempo-tempo-1.24.1"],
    ("rollout", "resume"): ["gunj rollout resume tempo-tempo-1.24.1"],
    ("rollout", "abort"): ["gunj rollout abort tempo-tempo-1.24.1"],
    ("package",): ["gunj package", "gunj package --helm 4 --output build/"],
    ("local",): ["gunj local up", 'eval "$(gunj local env)"', "gunj local status"],
    ("local", "up"): ["gunj local up"],
    ("local", "down"): ["gunj local down"],
    ("local", "status"): ["gunj local status"],
    ("local", "env"): ["gunj local env", 'eval "$(gunj local env)"'],
    ("local", "demo"): [
        "gunj local demo",
        "gunj local demo examples/production.yaml --timeout 15m",
    ],
    ("clusters",): ["gunj clusters", "gunj clusters -o yaml"],
    ("clusters", "add"): [
        "gunj clusters add prod-eu --kubeconfig ~/.kube/config --context prod-eu",
        "gunj clusters add staging --kubeconfig ./staging.yaml",
    ],
    ("clusters", "remove"): ["gunj clusters remove staging"],
    ("clusters", "rbac"): [
        "gunj clusters rbac prod-eu observability > rbac.yaml",
        "gunj clusters rbac prod-eu team-a team-b --controller User:gunj@example.com",
    ],
    ("clusters", "token"): [
        "gunj clusters token prod-eu --register",
        'echo "$TOKEN" | gunj clusters token --hash',
    ],
    ("completion",): [
        "gunj completion bash > /etc/bash_completion.d/gunj",
        'eval "$(gunj completion bash)"   # in ~/.bashrc',
        'eval "$(gunj completion zsh)"    # in ~/.zshrc',
        "gunj completion fish > ~/.config/fish/completions/gunj.fish",
    ],
}


def epilog(words: tuple[str, ...]) -> str | None:
    lines = EXAMPLES.get(words)
    if not lines:
        return None
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)
