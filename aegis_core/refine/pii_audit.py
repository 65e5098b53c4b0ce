"""A second, independent PII pass for the asset check: token by token, no shared regexes.

It looks at what `pii.mask` left behind. Anything it finds is a leak the check reports.
It is deliberately simpler and stricter about its own kinds (it does not know about
version-number context), so its findings are reviewed, not auto-masked.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter

from aegis_core.checksums import luhn_ok

_TOKEN = re.compile(r"[^\s<>()\[\]{}\"',;]+")
_VERSION_WORDS = {"v", "version", "release", "build", "ver"}
_SECRET_PREFIXES = (
    "AKIA",
    "ASIA",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "whsec_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "xoxb-",
    "xoxp-",
)


def find_leaks(text: str) -> Counter[str]:
    found: Counter[str] = Counter()
    if "PRIVATE KEY-----" in text:
        found["PRIVATE_KEY"] += 1
    previous = ""
    for match in _TOKEN.finditer(text):
        token = match.group(0).strip(".:!?")
        kind = _classify(token)
        # Same policy as the masker, different mechanics: "version 10.0.0.1" is a version.
        if kind and not (kind == "IP_ADDRESS" and previous.lower().rstrip(".") in _VERSION_WORDS):
            found[kind] += 1
        previous = token
    digits = re.sub(r"(?<=\d)[ -](?=\d)", "", text)
    for run in re.findall(r"\d{13,19}", digits):
        if luhn_ok(run):
            found["CREDIT_CARD"] += 1
    for area, group, serial in re.findall(r"\b(\d{3})-(\d{2})-(\d{4})\b", text):
        if area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000":
            found["US_SSN"] += 1
    return found


def _classify(token: str) -> str | None:
    local, at, domain = token.partition("@")
    if at and local and "." in domain and not domain.startswith(".") and len(domain) > 3:
        return "EMAIL"
    if token.startswith(_SECRET_PREFIXES) and len(token) >= 16:
        return "SECRET"
    if token.startswith("eyJ") and token.count(".") == 2 and len(token) > 30:
        return "SECRET"
    if token.count(".") == 3 and _is_ip(token) and _is_routable_looking(token):
        return "IP_ADDRESS"
    if token.count(":") >= 2 and any(c.isalpha() for c in token) and _is_ip(token):
        return "IP_ADDRESS"
    return None


def _is_ip(token: str) -> bool:
    try:
        ipaddress.ip_address(token)
        return True
    except ValueError:
        return False


def _is_routable_looking(token: str) -> bool:
    return not token.startswith(("0.", "1.0.", "2.0."))  # version-like low numbers
