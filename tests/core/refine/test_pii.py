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


def test_e164_without_separators_is_a_phone() -> None:
    masked, counts = mask("call +12125550147 or (415) 555-0139")
    assert masked == "call [PHONE] or [PHONE]" and counts == {"PHONE": 2}
    for number in ("+442079460958", "+4930123456789", "+33142685300"):
        assert mask(f"ring {number} today")[0] == "ring [PHONE] today", number
    # an E.164 number is not read as a card, even when its digits pass Luhn
    assert mask("Phone: +4963390638513")[0] == "Phone: [PHONE]"


@pytest.mark.parametrize(
    ("text", "is_address"),
    [
        ("still on firmware 3.2.1.9", False),
        ("the printer firmware is now at 10.1.1.5", False),
        ("updated the router firmware to 1.1.4.2 last night", False),  # firmware is nearer
        ("release 4.1.0.2-rc1 fixes it", False),
        ("3.2.1.9-beta broke the scheduler", False),
        ("Version: 2.1.0.7", False),
        ("see section 3.1.4.2 of the manual", False),
        ("ping 3.2.1.9 and tell me", True),
        ("The build server at 10.1.1.5 is down again.", True),  # server is nearer than build
        ("firmware 3.2.1.9 on the gateway 3.2.1.10", True),  # the second one is the address
        ("Connect to 10.0.0.12:5432 with the read-only user.", True),
        ("set the subnet to 172.16.0.0/24", True),
        ("Blocked 45.33.32.156 after it hammered the login page.", True),
        ("We shipped firmware last week. 45.33.32.156 keeps failing.", True),  # other sentence
    ],
)
def test_dotted_quads_are_versions_or_addresses_by_context(text: str, is_address: bool) -> None:
    masked, counts = mask(text)
    assert (counts["IP_ADDRESS"] >= 1) is is_address, masked
    assert not find_leaks(masked), masked  # the audit agrees with what was kept


def test_cards_need_a_network_prefix_and_ids_are_not_cards() -> None:
    assert mask("paid with 6011 0009 9013 9424")[0] == "paid with [CREDIT_CARD]"
    # Luhn-valid, but no card network issues numbers starting with 1, 0 or 9
    for kept in ("event at 1767225600009 ms", "serial 0000000000000000", "ref 9400100000000005"):
        assert mask(kept) == (kept, {}), kept
        assert not find_leaks(kept), kept
    # a Discord snowflake whose digits happen to pass Luhn is still an id
    assert mask("user 235692189078120405 joined")[0] == "user [DISCORD_ID] joined"


def test_channel_role_and_emoji_ids_are_not_people() -> None:
    for kept in (
        "see <#123456789012345678>",
        "<@&123456789012345678> review",
        "<:pepe:123456789012345678>",
    ):
        assert mask(kept) == (kept, {}), kept
    assert mask("thanks <@!123456789012345678>")[0] == "thanks [MENTION]"


def test_assigned_secrets_and_provider_keys_mask_only_the_value() -> None:
    masked, counts = mask('api_key = "Zp7f8h93CxNLgrA2MMR5tArLTugWRN5N" (rotate it)')
    assert masked == 'api_key = "[SECRET]" (rotate it)' and counts == {"SECRET": 1}
    for key in ("AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW", "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"):
        assert mask(f"key {key} leaked")[0] == "key [SECRET] leaked", key
    for kept in ("api_key = os.environ['API_KEY']", "token = get_token()", "call hf_hub_download"):
        assert mask(kept) == (kept, {}), kept


def test_ssn_without_dashes_only_where_called_one() -> None:
    assert mask("SSN 123 45 6789 on file")[0] == "SSN [US_SSN] on file"
    assert mask("my social security number is 123456789")[0].endswith("is [US_SSN]")
    assert mask("reference 123456789 and 123 45 6789") == (
        "reference 123456789 and 123 45 6789",
        {},
    )


def test_audit_ignores_package_versions_but_sees_addresses_in_logins() -> None:
    assert not find_leaks("npm install react@18.2.0 fixed it")
    assert not find_leaks("ssh into deploy@staging first")
    assert find_leaks("ssh admin@203.0.113.7 works") == {"IP_ADDRESS": 1}
