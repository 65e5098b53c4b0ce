"""A second, independent PII pass for the asset check: token by token, no shared regexes.

It looks at what `pii.mask` left behind. Anything it finds is a leak the check reports.
It is deliberately simpler and stricter about its own kinds, so its findings are reviewed,
not auto-masked. It keeps the masker's policy (the same cue words decide whether a dotted
quad is a version or an address, the same card issuers count) with its own mechanics: whole
tokens and their neighbours instead of regex spans.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter

from aegis_core.checksums import card_issuer_ok, luhn_ok
from aegis_core.refine.pii import CUE_WINDOW_AFTER, CUE_WINDOW_BEFORE, NETWORK_WORDS, VERSION_WORDS

_TOKEN = re.compile(r"[^\s<>()\[\]{}\"',;=]+")
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
    "AIza",
    "sk-proj-",
    "hf_",
    "glpat-",
)


def find_leaks(text: str) -> Counter[str]:
    found: Counter[str] = Counter()
    if "PRIVATE KEY-----" in text:
        found["PRIVATE_KEY"] += 1
    tokens = [m.group(0) for m in _TOKEN.finditer(text)]
    for i, raw in enumerate(tokens):
        token = raw.strip(".:!?")
        kind = _classify(token)
        # Same policy as the masker, different mechanics: "firmware 10.0.0.1" is a version.
        if kind == "IP_ADDRESS" and "." in token and _version_context(tokens, i):
            continue
        if kind:
            found[kind] += 1
    digits = re.sub(r"(?<=\d)[ -](?=\d)", "", text)
    for run in re.findall(r"\d{13,19}", digits):
        if card_issuer_ok(run) and luhn_ok(run):
            found["CREDIT_CARD"] += 1
    for area, group, serial in re.findall(r"\b(\d{3})-(\d{2})-(\d{4})\b", text):
        if area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000":
            found["US_SSN"] += 1
    return found


def _words(token: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", token.lower())


def _version_context(tokens: list[str], i: int) -> bool:
    """The nearest cue word among the sentence's neighbouring tokens is a version word."""
    before: list[str] = []
    for token in reversed(tokens[max(0, i - CUE_WINDOW_BEFORE) : i]):
        if token.endswith((".", "!", "?")):
            break  # the previous sentence
        before.extend(reversed(_words(token)))
    after: list[str] = []
    for token in tokens[i + 1 : i + 1 + CUE_WINDOW_AFTER]:
        after.extend(_words(token))
        if token.endswith((".", "!", "?")):
            break
    for word in [w for pair in zip(before, after, strict=False) for w in pair] + (
        before[len(after) :] + after[len(before) :]
    ):
        if word in NETWORK_WORDS:
            return False
        if word in VERSION_WORDS:
            return True
    return False


def _classify(token: str) -> str | None:
    token = re.sub(r"^(\d+\.\d+\.\d+\.\d+)(?::\d{1,5}|/\d{1,2})$", r"\1", token)
    local, at, domain = token.partition("@")
    if at and _is_ip(domain):
        return "IP_ADDRESS"  # user@203.0.113.7
    tld = domain.rpartition(".")[2]  # alphabetic: "react@18.2.0" is a package version
    if at and local and "." in domain[1:] and len(tld) >= 2 and tld.isalpha():
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
