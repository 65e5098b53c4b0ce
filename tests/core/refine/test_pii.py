"""PII masking: every type masked, near-misses kept, the audit pass independent."""

from __future__ import annotations

import pytest

from aegis_core.refine.pii import mask
from aegis_core.refine.pii_audit import find_leaks

POSITIVE = [
    ("write to jane.doe+tag@example.co.uk today", "EMAIL"),
    ("call +1 (415) 555-0132 after six", "PHONE"),
    ("call 415-555-0132 after six", "PHONE"),
    ("uk office +44 20 7946 0958", "PHONE"),
    ("berlin +49 30 1234567 desk", "PHONE"),
    ("paris +33 1 42 68 53 00 desk", "PHONE"),
    ("server at 203.0.113.77 is down", "IP_ADDRESS"),
    ("router 192.168.0.1 rebooted", "IP_ADDRESS"),
    ("v6 host 2001:db8:85a3::8a2e:370:7334 answered", "IP_ADDRESS"),
    ("card 4111 1111 1111 1111 exp 12/29", "CREDIT_CARD"),
    ("card 5555-5555-5555-4444", "CREDIT_CARD"),
    ("amex 378282246310005", "CREDIT_CARD"),
    ("pay to DE89 3704 0044 0532 0130 00", "IBAN"),
    ("iban GB82WEST12345698765432", "IBAN"),
    ("ssn 123-45-6789 on file", "US_SSN"),
    ("aws AKIAIOSFODNN7EXAMPLE leaked", "SECRET"),
    ("stripe sk_live_51HxYzAbCdEfGhIjKlMn", "SECRET"),
    ("hook whsec_abcdefghij1234567890", "SECRET"),
    ("gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "SECRET"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU", "SECRET"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYab", "SECRET"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "PRIVATE_KEY"),
    ("thanks <@!123456789012345678> for the fix", "MENTION"),
    ("reported by user id: 123456789012345678", "DISCORD_ID"),
    ("ping 987654321098765432 about it", "DISCORD_ID"),
]

NEAR_MISSES = [
    "order number 1234 5678 9012 3456 (fails Luhn)",
    "upgrade to v1.2.3.4 or version 10.0.0.1 soon",
    "build 2.0.1.3 released",
    "reference 123456789 is not an SSN",
    "invalid ssn 000-12-3456 and 666-45-6789 and 923-45-6789",
    "meeting at 12:30:45 on 2026-01-15",
    "IBAN-like DE00 1234 5678 9012 3456 00 fails mod 97",
    "price 1,299.00 and 3.14159",
    "posted 2026-01-15 10:30 by the team",
    "in 2024 there were 150 000 users",
]


@pytest.mark.parametrize(("text", "kind"), POSITIVE)
def test_each_type_is_masked(text: str, kind: str) -> None:
    masked, counts = mask(text)
    assert counts[kind] >= 1, (masked, counts)
    assert f"[{kind}]" in masked
    assert not find_leaks(masked), masked


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_kept(text: str) -> None:
    masked, counts = mask(text)
    assert masked == text and not counts


def test_audit_pass_finds_what_was_not_masked() -> None:
    raw = (
        "mail a@b.io, card 4111111111111111, ssn 123-45-6789, ip 8.8.4.4, key AKIAABCDEFGHIJKLMNOP"
    )
    assert set(find_leaks(raw)) == {"EMAIL", "CREDIT_CARD", "US_SSN", "IP_ADDRESS", "SECRET"}
    assert not find_leaks(mask(raw)[0])
