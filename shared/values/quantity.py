"""Kubernetes resource quantities: ``500m``, ``2``, ``1.5Gi``, ``10G``, ``1e3``, and bare numbers.

Kubernetes reads a number where a quantity goes (``cpu: 1``, ``cpu: 0.5``) as the quantity
written with the same digits, and prints every quantity in its canonical form: the largest
suffix that keeps the value whole (``0.5`` is ``500m``, ``1000`` is ``1k``, ``1.5`` is
``1500m``), values finer than a nano rounded up to it. A number in a spec becomes that string,
so ``cpu: 1`` and ``cpu: "1"`` are the same spec (and the same digest), and the values gunj
gives Helm hold what the API server will hold. A string is kept as written.
"""

from __future__ import annotations

import re
from decimal import ROUND_UP, Decimal

QUANTITY = re.compile(r"[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?")

_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_SUFFIX_OF_EXPONENT = {exponent: suffix for suffix, exponent in _DECIMAL.items()}
_NANO = Decimal("1e-9")


def quantity_value(text: str) -> Decimal | None:
    """The value of a quantity string (bytes for memory and storage), or None if it is none."""
    match = QUANTITY.fullmatch(text)
    if not match:
        return None
    number, suffix = Decimal(match.group(1)), match.group(3) or ""
    if suffix in _BINARY:
        return number * Decimal(2 ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    return number.scaleb(int(suffix[1:]))


def canonical_number(number: int | float) -> str | None:
    """The quantity Kubernetes prints for ``number`` written where a quantity goes; None for a
    negative or non-finite number (no resource is negative)."""
    # repr: the shortest text of a float, the digits YAML read (0.5, not 0.5000000000000001),
    # and the digits Go writes in JSON (plain decimals from 1e-6 to 1e21: quantities without an
    # exponent, DecimalSI).
    value = Decimal(repr(number)) if isinstance(number, float) else Decimal(number)
    if not value.is_finite() or value < 0:
        return None
    if value == 0:
        return "0"
    # Kubernetes keeps a value down to nano, rounding a finer one away from zero.
    if int(value.as_tuple().exponent) < -9:
        value = value.quantize(_NANO, rounding=ROUND_UP)
    normal = value.normalize().as_tuple()
    digits, exponent = normal.digits, int(normal.exponent)
    # The largest exponent that is a multiple of three and keeps the mantissa whole.
    mantissa = int("".join(map(str, digits)))
    aligned = exponent - exponent % 3
    mantissa *= 10 ** (exponent - aligned)
    suffix = _SUFFIX_OF_EXPONENT.get(aligned)
    if suffix is None:
        # Beyond E (10^18): Kubernetes falls back to an exponent.
        suffix = f"e{aligned}"
    return f"{mantissa}{suffix}"
