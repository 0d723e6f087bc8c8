"""Configuration files as text: YAML with sorted keys, so the same configuration is always the
same text (and the same checksum), whatever order the values listed its keys in."""

from __future__ import annotations

from typing import Any

import yaml


class _PlainDumper(yaml.SafeDumper):
    """Writes a block that occurs twice out twice: anchors and aliases (``&id001``) are legal
    YAML, but a person reading a configuration should not have to resolve them."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


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
