"""PII masking with typed placeholders, and counts by type.

Detectors are ordered so that the more specific win: private-key blocks, tokens and keys
first, then structured numbers that carry a checksum (cards by Luhn, IBANs by mod-97),
then emails, SSNs, Discord ids, IPs and phone numbers. A detector whose pattern has a
group named `pii` masks only that group ("api_key = [SECRET]"), otherwise the whole match.
Near-misses are deliberately kept:
- a 13-19 digit number is a card only if it passes Luhn and starts like a card network's
  number (`checksums.card_issuer_ok`); a bare run of 17+ digits is a Discord id, not a card;
- an IPv4-looking string is decided by its context (`ipv4_is_version`, below): firmware
  3.2.1.9 is a version, "ping 3.2.1.9" an address;
- a 9-digit run is an SSN only with the 3-2-4 dashes or right after "SSN"/"social security
  (number)"; area 000/666/9xx, group 00 and serial 0000 never are;
- a phone number has 10-15 digits (so dates, times, prices and short codes are not phones):
  national groups ("(415) 555-0139", "1-800-555-0199", "020 7946 0958", "07700 900123"),
  or "+" and a country code, grouped ("+44 (0)20 7946 0958") or E.164 without separators
  ("+12125550147");
- the ids inside channel, role and custom-emoji references (`<#id>`, `<@&id>`, `<:name:id>`)
  are not people.
Placeholders: [PRIVATE_KEY] [SECRET] [CREDIT_CARD] [IBAN] [EMAIL] [US_SSN] [IP_ADDRESS]
[PHONE] [DISCORD_ID] [MENTION].

Version or address (the rule for dotted quads). An IPv4-looking string is a version number,
and kept, when
1. it continues as a version does: a `v` prefix ("v1.2.3.4"), a fifth part ("1.2.3.4.5"), or a
   pre-release suffix ("-rc1", "-beta", "-alpha", "-dev", "-pre", "+build");
2. otherwise, when the nearest cue word in its sentence (up to 6 words before it and 3 after)
   is a version word (VERSION_WORDS: version, firmware, build, release, kernel, bios, driver,
   patch, upgrade, section, ...) rather than a network word (NETWORK_WORDS: ip, address, host,
   server, ping, subnet, gateway, dns, connect, port, ssh, firewall, ...); a tie is an address.
A ":port" or "/prefix" after it makes it an address, and with no cue at all it is an address:
masking a version by mistake costs a number, leaking an address costs a person's privacy.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable

from aegis_core.checksums import card_issuer_ok, luhn_ok

Detector = tuple[str, re.Pattern[str], Callable[[re.Match[str]], bool] | None]

VERSION_WORDS = frozenset(
    """v ver version versions release released build firmware fw bios uefi kernel driver
    drivers patch hotfix update updated upgrade upgraded downgrade downgraded rev revision
    sdk section chapter clause figure table step paragraph""".split()  # noqa: SIM905
)
NETWORK_WORDS = frozenset(
    """ip ips ipv4 address addresses addr host hosts hostname server servers ping pinged
    pings subnet netmask gateway gw dns nameserver resolver resolve resolves resolved connect
    connects connected connecting connection route routes router proxy vpn firewall port lan
    wan dhcp ssh telnet curl traceroute nslookup listen listens listening bind whitelist
    allowlist blocklist blacklist blocked ban banned inet interface origin peer""".split()  # noqa: SIM905
)
CUE_WINDOW_BEFORE, CUE_WINDOW_AFTER = 6, 3

_CUE_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n")
_VERSION_SUFFIX = re.compile(r"(?i)^(?:[-+~](?:rc|beta|alpha|dev|pre|snapshot|final|build)|\.\d)")
_ADDRESS_SUFFIX = re.compile(r"^(?::\d{1,5}\b|/\d{1,2}\b)")


def ipv4_is_version(before: str, after: str) -> bool:
    """The rule in the module docstring: is a dotted quad between `before` and `after` a
    version number (True) or an address (False)?"""
    if _VERSION_SUFFIX.match(after):
        return True
    if _ADDRESS_SUFFIX.match(after):
        return False
    ends = list(_SENTENCE_END.finditer(before))
    if ends:
        before = before[ends[-1].end() :]
    end = _SENTENCE_END.search(after)
    if end:
        after = after[: end.start()]
    words_before = _CUE_WORD.findall(before.lower())[-CUE_WINDOW_BEFORE:][::-1]
    words_after = _CUE_WORD.findall(after.lower())[:CUE_WINDOW_AFTER]
    version = network = CUE_WINDOW_BEFORE + 1
    for distance, word in [*enumerate(words_before), *enumerate(words_after)]:
        if word in VERSION_WORDS:
            version = min(version, distance)
        elif word in NETWORK_WORDS:
            network = min(network, distance)
    return version < network


def _card(m: re.Match[str]) -> bool:
    text = m.group(0)
    digits = re.sub(r"\D", "", text)
    if len(digits) > 16 and text.isdigit():
        return False  # a bare run of 17+ digits: a Discord id
    return 13 <= len(digits) <= 19 and card_issuer_ok(digits) and luhn_ok(digits)


def _iban(m: re.Match[str]) -> bool:
    raw = re.sub(r"\s", "", m.group(0)).upper()
    rearranged = raw[4:] + raw[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return 15 <= len(raw) <= 34 and int(numeric) % 97 == 1


def _ssn(m: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", m.group("pii"))
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return not (area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000")


_NOT_A_PERSON = re.compile(r"<(?:#|@&|a?:\w+:)$")


def _discord_id(m: re.Match[str]) -> bool:
    return not _NOT_A_PERSON.search(m.string, max(0, m.start() - 40), m.start())


def _ipv4(m: re.Match[str]) -> bool:
    try:
        ipaddress.IPv4Address(m.group(0))
    except ValueError:
        return False
    before = m.string[max(0, m.start() - 80) : m.start()]
    return not ipv4_is_version(before, m.string[m.end() : m.end() + 60])


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


def _assigned_secret(m: re.Match[str]) -> bool:
    value = m.group("pii")
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


_PRIVATE_KEY_LINE = r"-----{} (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"

# Provider tokens; each holds one of _SECRET_MARKERS, so it runs only where one is.
_SECRET_TOKENS = re.compile(
    r"\b(?:(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{10,}|whsec_[0-9A-Za-z]{10,}"
    r"|gh[pousr]_[0-9A-Za-z]{30,}|github_pat_[0-9A-Za-z_]{30,}"
    r"|xox[abprs]-[0-9A-Za-z-]{10,}|xapp-[0-9A-Za-z-]{20,}"
    r"|eyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}"
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API key
    r"|sk-(?:proj-|ant-api\d\d-|svcacct-)?[0-9A-Za-z_-]{20,}"  # OpenAI, Anthropic
    r"|hf_[A-Za-z]{30,}|glpat-[0-9A-Za-z_-]{20}|npm_[0-9A-Za-z]{36}"
    r"|SG\.[0-9A-Za-z_-]{22}\.[0-9A-Za-z_-]{43})"
)

DETECTORS: list[Detector] = [
    (
        "PRIVATE_KEY",
        # up to the END line, or, for a block pasted without it, over its base64 lines
        re.compile(
            _PRIVATE_KEY_LINE.format("BEGIN")
            + r"(?:[\s\S]*?"
            + _PRIVATE_KEY_LINE.format("END")
            + r"|(?:[ \t]*\n[ \t]*[A-Za-z0-9+/=:-]{16,})+)"
        ),
        None,
    ),
    (
        "SECRET",
        _SECRET_TOKENS,
        None,
    ),
    (
        "SECRET",  # a credential assigned to a key: only the value is masked
        re.compile(
            r"(?i:\b(?:aws_secret_access_key|secret(?:[_ ]?key)?|api[_-]?key|access[_-]?token"
            r"|auth[_-]?token|token|password|passwd|client[_-]?secret)[\"']?\s*[:=]\s*[\"']?)"
            r"(?P<pii>[0-9A-Za-z/+_.=-]{16,})"
        ),
        _assigned_secret,
    ),
    ("CREDIT_CARD", re.compile(r"(?<![+\w])\d(?:[ -]?\d){12,18}\b"), _card),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"), _iban),
    (
        "EMAIL",
        re.compile(r"\b[A-Za-z0-9][A-Za-z0-9._%+'-]*@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"),
        None,
    ),
    ("US_SSN", re.compile(r"\b(?P<pii>\d{3}-\d{2}-\d{4})\b"), _ssn),
    (
        "US_SSN",  # without dashes, only where it is called one
        re.compile(
            r"(?i:\b(?:ssn|ss#|social security(?: number| no\.?| #)?)[\s:#]*(?:is\s+)?)"
            r"(?P<pii>\d{3} ?\d{2} ?\d{4})\b"
        ),
        _ssn,
    ),
    ("MENTION", re.compile(r"<@!?\d{15,21}>"), None),
    (
        "DISCORD_ID",
        # A bare 17-20 digit run that is not a card (cards ran first) is a Discord
        # snowflake id in the data we refine; masking a stray long number costs little.
        re.compile(r"(?<![\w.+-])\d{17,20}(?![\w.-])"),
        _discord_id,
    ),
    ("IP_ADDRESS", re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w])"), _ipv4),
    (
        "IP_ADDRESS",
        re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])"),
        _ipv6,
    ),
    (
        "PHONE",  # international: "+" and a country code, then groups, or E.164 in one run
        re.compile(
            r"(?<![\w+])\+(?:[1-9]\d{9,14}"
            r"|\d{1,3}(?:[ .-]?\(\d{1,5}\)[ .-]?\d{1,8}|[ .-]\d{1,8})(?:[ .-]\d{1,8}){0,5})"
            r"(?![\w])"
        ),
        _phone,
    ),
    (
        "PHONE",  # national: an optional trunk "1", area code, then two groups
        re.compile(
            r"(?<![\w+])(?<!\d[ .-])(?:1[ .-])?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])"
            r"\d{3,4}[ .-]\d{3,4}(?![\w])(?![ .-]\d)"
        ),
        _phone,
    ),
    (
        "PHONE",  # national with a trunk 0 and one long group: "07700 900123", "01632 960961"
        re.compile(r"(?<![\w+.,-])0\d{3,4}[ -]\d{5,7}(?![\w.,-]\d)(?!\w)"),
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
    "xapp-",
    "eyJ",
    "AIza",
    "sk-",
    "hf_",
    "glpat-",
    "npm_",
    "SG.",
)
_ASSIGNED_MARKERS = ("secret", "key", "token", "passw")


def _gate(marker: str) -> str:
    return next((c for c in "_-." if c in marker), "")


# Markers grouped by a character each one contains, tested first: one fast single-character
# scan usually rules out a whole group (most text has no "_" or "-").
_MARKER_GROUPS = tuple(
    (gate, tuple(m for m in _SECRET_MARKERS if _gate(m) == gate))
    for gate in dict.fromkeys(map(_gate, _SECRET_MARKERS))
)
_ASCII_DIGITS = "0123456789"


def _has_digit(text: str) -> bool:
    if any(d in text for d in _ASCII_DIGITS):  # single-character scans: fast
        return True
    return not text.isascii() and _DIGIT.search(text) is not None  # other scripts' digits


def _hints(text: str) -> dict[str, bool]:
    """Cheap preconditions (substring tests), so a detector's regex only runs where it
    could match; most chat text has no digits and none of these markers."""
    digits = _has_digit(text)
    lower = text.lower() if digits else ""
    tokens = any(
        (gate == "" or gate in text) and any(m in text for m in markers)
        for gate, markers in _MARKER_GROUPS
    )
    return {
        "PRIVATE_KEY": "PRIVATE KEY" in text,
        "SECRET": tokens or (digits and any(m in lower for m in _ASSIGNED_MARKERS)),
        "SECRET_TOKENS": tokens,  # every token pattern holds one of the markers
        "CREDIT_CARD": digits,
        "IBAN": digits,
        "US_SSN": digits and ("-" in text or "ss" in lower or "social" in lower),
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
        if not hints["SECRET_TOKENS" if pattern is _SECRET_TOKENS else label]:
            continue
        placeholder = f"[{label}]"

        if "pii" in pattern.groupindex:

            def replace(m: re.Match[str], placeholder=placeholder, check=check) -> str:
                if check is not None and not check(m):
                    return m.group(0)
                counts[placeholder[1:-1]] += 1
                start, end = m.span("pii")
                whole = m.group(0)
                return whole[: start - m.start()] + placeholder + whole[end - m.start() :]
        else:

            def replace(m: re.Match[str], placeholder=placeholder, check=check) -> str:
                if check is not None and not check(m):
                    return m.group(0)
                counts[placeholder[1:-1]] += 1
                return placeholder

        masked = pattern.sub(replace, text)
        if masked != text:  # a placeholder may remove what woke later detectors (digits)
            text, hints = masked, _hints(masked)
    return text, counts
