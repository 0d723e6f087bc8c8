"""The conventions every `gunj` command shares (shared/cli/conventions.py): examples in every
--help, -o table|json|yaml on the commands that print a result, -v anywhere on the line,
--version, completion scripts made from the parser, durations, and - for standard input."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shared.cli.conventions import OUTPUTS, duration, subcommands
from shared.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "examples" / "minimal.yaml"
# The commands that print a result a program may read.
READING = [
    ("validate",),
    ("plan",),
    ("apply",),
    ("status",),
    ("resync",),
    ("rollback",),
    ("uninstall",),
    ("unquarantine",),
    ("publish",),
    ("events",),
    ("upgrades",),
    ("clusters",),
    ("local", "status"),
]


def gunj(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )


def option(parser: argparse.ArgumentParser, flag: str) -> argparse.Action | None:
    return next((a for a in parser._actions if flag in a.option_strings), None)


def test_every_command_ends_its_help_with_examples() -> None:
    for words, command in subcommands(build_parser()):
        text = command.format_help()
        assert "\nexamples:\n  gunj" in text, f"gunj {' '.join(words)} --help has no examples"
        for line in text.split("\nexamples:\n", 1)[1].splitlines():
            # Each example runs the command it documents (or is about using it).
            assert line.strip().startswith(("gunj", "eval", "cat", "kubectl", "echo")), line


def test_every_reading_command_takes_output_table_json_and_yaml() -> None:
    commands = dict(subcommands(build_parser()))
    for words in READING:
        for flag in ("-o", "--output"):
            found = option(commands[words], flag)
            assert found is not None, f"gunj {' '.join(words)} has no {flag}"
            assert tuple(found.choices or ()) == OUTPUTS


def test_verbose_is_taken_anywhere_on_the_line() -> None:
    parser = build_parser()
    assert parser.parse_args(["validate", "x.yaml", "-v"]).verbose is True
    assert parser.parse_args(["-v", "validate", "x.yaml"]).verbose is True
    assert parser.parse_args(["clusters", "rbac", "c", "ns", "--verbose"]).verbose is True
    assert parser.parse_args(["validate", "x.yaml"]).verbose is False


def test_a_global_flag_after_the_subcommand_runs_it_verbosely() -> None:
    result = gunj("validate", str(MINIMAL), "-v")
    assert result.returncode == 0, result.stderr
    assert f"{MINIMAL}: valid" in result.stdout


def test_version_names_gunj_helm_and_python(tmp_path: Path) -> None:
    helm = tmp_path / "helm"
    helm.write_text("#!/bin/sh\necho v3.99.1+gtest\n")
    helm.chmod(0o755)

    result = gunj("--version", env={**os.environ, "GUNJ_HELM_BINARY": str(helm)})

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "gunj 0.1.0"
    assert lines[1] == f"helm v3.99.1+gtest ({helm})"
    assert lines[2].startswith(f"python {sys.version.split()[0]} ")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300), ("90s", 90), ("1h30m", 5400), ("42", 42), ("2.5", 2.5), ("0", 0)],
)
def test_durations_as_peers_take_them(text: str, seconds: float) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["5x", "m", "", "-3", "1h-", "nan", "inf"])
def test_what_is_not_a_duration_is_a_usage_error(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        duration(text)
    result = gunj("events", "--timeout", text)
    assert result.returncode == 2
    assert "--timeout" in result.stderr and "duration" in result.stderr


def test_a_spec_is_read_from_standard_input() -> None:
    spec = MINIMAL.read_text()

    validated = gunj("validate", "-", stdin=spec)
    planned = gunj("plan", "-", "--offline", "-o", "json", stdin=spec)
    invalid = gunj("validate", "-", stdin="kind: nothing\n")

    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout.startswith("standard input: valid")
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["platform"] == "monitoring/obs"
    assert invalid.returncode == 1
    assert invalid.stdout.startswith("standard input: ")


def test_json_and_yaml_outputs_hold_the_same_document() -> None:
    as_json = json.loads(gunj("plan", str(MINIMAL), "--offline", "-o", "json").stdout)
    as_yaml = yaml.safe_load(gunj("plan", str(MINIMAL), "--offline", "-o", "yaml").stdout)
    assert as_json == as_yaml
    assert as_json["components"][0]["component"] == "prometheus"


def test_validate_prints_what_it_found_as_a_document_too() -> None:
    invalid = ROOT / "examples" / "invalid.yaml"

    table = gunj("validate", str(MINIMAL), str(invalid))
    as_json = gunj("validate", str(MINIMAL), str(invalid), "-o", "json")
    as_yaml = gunj("validate", str(MINIMAL), str(invalid), "-o", "yaml")

    assert table.returncode == as_json.returncode == as_yaml.returncode == 1
    document = json.loads(as_json.stdout)
    assert document == yaml.safe_load(as_yaml.stdout)
    valid, broken = document["files"]
    assert (valid["file"], valid["valid"], valid["problems"]) == (str(MINIMAL), True, [])
    assert broken["file"] == str(invalid) and broken["valid"] is False
    # The same problems the table lists, by field path.
    listed = [line[4:] for line in table.stdout.splitlines() if line.startswith("  - ")]
    found = [
        f"{p['path']}: {p['message']}" if p["path"] else p["message"] for p in broken["problems"]
    ]
    assert found and all(problem in listed for problem in found)


def test_the_bash_completion_completes_commands_options_and_choices() -> None:
    bash = shutil.which("bash")
    assert bash is not None
    script = gunj("completion", "bash").stdout

    def complete(*words: str) -> list[str]:
        line = " ".join(repr(w) for w in ("gunj", *words))
        probe = (
            f"{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words)}; _gunj; "
            'printf "%s\\n" "${COMPREPLY[@]}"'
        )
        done = subprocess.run(
            [bash, "--norc", "-c", probe], capture_output=True, text=True, check=True
        )
        return done.stdout.split()

    assert complete("clu") == ["clusters"]
    assert {"add", "rbac", "remove", "token", "--output"} <= set(complete("clusters", ""))
    assert "--dry-run" in complete("uninstall", "--d")
    assert complete("status", "-o", "y") == ["yaml"]
    assert complete("-v", "local", "e") == ["env"]


def test_the_zsh_and_fish_scripts_cover_every_command() -> None:
    zsh = gunj("completion", "zsh").stdout
    fish = gunj("completion", "fish").stdout
    assert "bashcompinit" in zsh and "complete -o default -F _gunj gunj" in zsh
    for words, _command in subcommands(build_parser()):
        if words:
            assert f"-a {words[-1]}" in fish, words
    assert "-s o -l output -x -a 'table json yaml'" in fish


def test_local_env_only_reads_and_says_when_no_stack_runs(tmp_path: Path) -> None:
    env = {**os.environ, "GUNJ_CACHE_DIR": str(tmp_path / "cache")}

    result = gunj("local", "env", env=env)

    assert result.returncode == 1
    assert result.stdout == ""
    assert "no local stack is running (start it with `gunj local up`)" in result.stderr
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("state.json"))
