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


def card_issuer_ok(digits: str) -> bool:
    """Whether a digit string starts like a payment card of a network that issues cards:
    Visa 4, Mastercard 51-55 and 2221-2720, Maestro 50/56-69, Amex 34/37, Diners 30/36/38/39,
    JCB 35, Discover and UnionPay 6. Timestamps (1...), zero-filled serials and tracking
    numbers (9...) are not cards even when their check digit happens to fit."""
    first = digits[:1]
    if first in ("4", "5", "6"):
        return True
    if first == "3":
        return digits[1:2] in ("0", "4", "5", "6", "7", "8", "9")
    return first == "2" and 2221 <= int(digits[:4] or 0) <= 2720
