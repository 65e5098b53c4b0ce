"""How numbers leave the engine: rounded for responses, short for messages.

Responses carry 6 decimals and never a non-finite value (JSON has none, and RFC 8785
refuses them), so rounding and the NaN/Infinity -> null rule live in one place.
"""

from __future__ import annotations

import math


def rounded(value: float | None, decimals: int = 6) -> float | None:
    """`value` rounded to `decimals`; None when absent or non-finite; never -0.0."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, decimals) + 0.0


def fmt(x: float | None) -> str:
    """A number for messages: at most 6 decimals, no trailing zeros, no float noise."""
    if x is None:
        return "null"
    if not math.isfinite(x) or abs(x) >= 1e9:
        return f"{x:g}"
    text = f"{round(x, 6) + 0.0:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
