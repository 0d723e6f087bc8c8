"""YAML text that programs written in Go read as Python wrote it: native mode's configuration
files.

Keys are sorted, so the same configuration is always the same text (and the same checksum),
whatever order the values listed its keys in. Go's YAML 1.1 readers take a plain ``y``, ``Y``,
``n`` or ``N`` for a boolean, which PyYAML writes plain: those are quoted."""

from __future__ import annotations

from typing import Any

import yaml


class _PlainDumper(yaml.SafeDumper):
    """Writes a block that occurs twice out twice: anchors and aliases (``&id001``) are legal
    YAML, but a person reading a configuration should not have to resolve them."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _string(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "'" if data in _YAML11_BOOLEANS else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


# What YAML 1.1 reads as a boolean and PyYAML does not (it quotes yes, no, on, off itself).
_YAML11_BOOLEANS = frozenset({"y", "Y", "n", "N"})
_PlainDumper.add_representer(str, _string)


def to_yaml(document: Any) -> str:
    text: str = yaml.dump(
        document,
        Dumper=_PlainDumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
    )
    return text
