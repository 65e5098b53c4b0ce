"""PII masking with typed placeholders, and counts by type.

Detectors are ordered so that the more specific win: private-key blocks, tokens and keys
first, then structured numbers that carry a checksum (cards by Luhn, IBANs by mod-97),
then emails, SSNs, IPs and phone numbers. Near-misses are deliberately kept:
- a 13-19 digit number that fails Luhn is not a card;
- an IPv4-looking string right after "v", "version", "release" or followed by another
  ".<digits>" is a version number, not an address;
- a 9-digit run without the 3-2-4 dashes, or with area 000/666/9xx, group 00 or serial
  0000, is not an SSN;
- a phone number has 10-15 digits, so dates, times and short codes are not phones.
Placeholders: [PRIVATE_KEY] [SECRET] [CREDIT_CARD] [IBAN] [EMAIL] [US_SSN] [IP_ADDRESS]
[PHONE] [DISCORD_ID] [MENTION].
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable

from aegis_core.checksums import luhn_ok

Detector = tuple[str, re.Pattern[str], Callable[[re.Match[str]], bool] | None]


def _card(m: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", m.group(0))
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def _iban(m: re.Match[str]) -> bool:
    raw = re.sub(r"\s", "", m.group(0)).upper()
    rearranged = raw[4:] + raw[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return 15 <= len(raw) <= 34 and int(numeric) % 97 == 1


def _ssn(m: re.Match[str]) -> bool:
    area, group, serial = m.group(1), m.group(2), m.group(3)
    return not (area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000")


_VERSION_BEFORE = re.compile(r"(?i)(\bv|version|release|build|ver\.?)\s*$")


def _ipv4(m: re.Match[str]) -> bool:
    before = m.string[max(0, m.start() - 12) : m.start()]
    after = m.string[m.end() : m.end() + 2]
    if _VERSION_BEFORE.search(before) or re.match(r"\.\d", after):
        return False
    try:
        ipaddress.IPv4Address(m.group(0))
    except ValueError:
        return False
    return True


def _ipv6(m: re.Match[str]) -> bool:
    text = m.group(0)
    if text.count(":") < 2 or (re.fullmatch(r"[\d:]+", text) and "::" not in text):
        return False  # times like 12:30:45
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _phone(m: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", m.group(0))
    return 10 <= len(digits) <= 15


DETECTORS: list[Detector] = [
    (
        "PRIVATE_KEY",
        re.compile(
            r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z]+ )*PRIVATE KEY-----"
        ),
        None,
    ),
    (
        "SECRET",
        re.compile(
            r"\b(?:(?:AKIA|ASIA)[0-9A-Z]{16}"
            r"|(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{10,}|whsec_[0-9A-Za-z]{10,}"
            r"|gh[pousr]_[0-9A-Za-z]{30,}|github_pat_[0-9A-Za-z_]{30,}"
            r"|xox[abprs]-[0-9A-Za-z-]{10,}"
            r"|eyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,})"
            r"|(?i:aws_secret_access_key|secret[_ ]?key)\s*[:=]\s*['\"]?[0-9A-Za-z/+]{40}"
        ),
        None,
    ),
    ("CREDIT_CARD", re.compile(r"\b\d(?:[ -]?\d){12,18}\b"), _card),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"), _iban),
    ("EMAIL", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), None),
    ("US_SSN", re.compile(r"\b(\d{3})-(\d{2})-(\d{4})\b"), _ssn),
    ("MENTION", re.compile(r"<@!?\d{15,21}>"), None),
    (
        "DISCORD_ID",
        # A bare 17-20 digit run that is not a card (cards ran first) is a Discord
        # snowflake id in the data we refine; masking a stray long number costs little.
        re.compile(r"(?<![\w.-])\d{17,20}(?![\w.-])"),
        None,
    ),
    ("IP_ADDRESS", re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w])"), _ipv4),
    (
        "IP_ADDRESS",
        re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])"),
        _ipv6,
    ),
    (
        "PHONE",
        re.compile(
            r"(?<![\w+])(?<!\d[ .-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])"
            r"\d{3,4}[ .-]\d{3,4}(?![\w])(?![ .-]\d)"
        ),
        _phone,
    ),
    (
        "PHONE",  # international: "+" and a country code, then groups of 1-8 digits
        re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(\d{1,5}\))?(?:[ .-]\d{1,8}){1,6}(?![\w])"),
        _phone,
    ),
]


_DIGIT = re.compile(r"\d")
_SECRET_MARKERS = (
    "AKIA",
    "ASIA",
    "_live_",
    "_test_",
    "whsec_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "xox",
    "eyJ",
)


def _hints(text: str) -> dict[str, bool]:
    """Cheap preconditions (substring tests), so a detector's regex only runs where it
    could match; most chat text has no digits and none of these markers."""
    digits = _DIGIT.search(text) is not None
    lower = text.lower()
    return {
        "PRIVATE_KEY": "PRIVATE KEY" in text,
        "SECRET": any(m in text for m in _SECRET_MARKERS) or "secret" in lower,
        "CREDIT_CARD": digits,
        "IBAN": digits,
        "US_SSN": digits and "-" in text,
        "DISCORD_ID": digits,
        "PHONE": digits,
        "IP_ADDRESS": digits or "::" in text,
        "EMAIL": "@" in text,
        "MENTION": "<@" in text,
    }


def mask(text: str) -> tuple[str, Counter[str]]:
    """The text with every detected span replaced by `[TYPE]`, and counts by type."""
    counts: Counter[str] = Counter()
    hints = _hints(text)
    for label, pattern, check in DETECTORS:
        if not hints[label]:
            continue

        def replace(m: re.Match[str], label: str = label, check=check) -> str:
            if check is not None and not check(m):
                return m.group(0)
            counts[label] += 1
            return f"[{label}]"

        text = pattern.sub(replace, text)
    return text, counts
