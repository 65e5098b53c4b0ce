"""Check digits shared by the PII masker and the audit redaction."""

from __future__ import annotations


def luhn_ok(digits: str) -> bool:
    """The Luhn check of payment card numbers (digits only)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
