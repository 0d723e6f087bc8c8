"""The base of every spec model: camelCase keys in documents (only: one spelling per field, the
one the CRD knows), snake_case attributes in Python, unknown keys refused with a suggestion
(see :mod:`shared.values.problems`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class SpecModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        frozen=True,
        validate_default=True,
    )
