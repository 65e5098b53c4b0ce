"""A labelled evaluation set for the refinery, generated deterministically (no files, no net).

    from bench.quality_set import build
    qs = build()          # same seed, same set, every time

Four parts, each with its expected answer:
- `pii`: texts holding one PII value at a known place (the expected output replaces exactly
  that value with `[TYPE]`), and near-misses that look like PII but are not (kept as is);
- `dedup`: document pairs that are exact or near duplicates (one must go) and hard negatives
  (they share a template and a few sentences, both must stay), among unique distractors;
- `filters`: good prose (English and other Latin-script languages, chat-like and
  documentation-like) that must be kept, and filler (lorem ipsum, keyword stuffing,
  repeated lines, symbol spam, gibberish, template placeholders, ...) that must be dropped;
- `chats`: DiscordChatExporter JSON exports whose conversations are known: which message
  is the human's, which the assistant's, and which are noise that belongs to no row.
"""

from __future__ import annotations

import base64
import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

SEED = 14


@dataclass(frozen=True)
class PiiCase:
    kind: str  # the placeholder type, e.g. "PHONE"
    subtype: str  # e.g. "e164", "ipv4"
    value: str | None  # None for a near-miss
    prefix: str
    suffix: str = ""
    near: str = ""  # for a near-miss: the look-alike (prefix holds the whole text)

    @property
    def text(self) -> str:
        return self.prefix + (self.value or "") + self.suffix

    @property
    def expected(self) -> str:
        return self.prefix + f"[{self.kind}]" + self.suffix if self.value else self.text


@dataclass(frozen=True)
class DedupDoc:
    id: str
    text: str
    twin: str | None  # the id of the document this one duplicates (exact or near)
    kind: str  # "unique" | "first" | "exact" | "near" | "hard_negative"


@dataclass(frozen=True)
class FilterCase:
    text: str
    keep: bool
    kind: str


@dataclass
class ChatExport:
    name: str
    export: dict[str, Any]
    exchanges: list[tuple[str, str, str]]  # (conversation key, human text, assistant text)
    sides: dict[str, tuple[str, str]]  # message text -> (conversation key, "user"|"assistant")
    noise: list[str]  # texts that must be in no row
    repeats: list[tuple[str, str]] = field(default_factory=list)  # posted again verbatim


@dataclass
class QualitySet:
    pii: list[PiiCase] = field(default_factory=list)
    dedup: list[DedupDoc] = field(default_factory=list)
    filters: list[FilterCase] = field(default_factory=list)
    chats: list[ChatExport] = field(default_factory=list)


# --------------------------------------------------------------------------- PII values

FIRST = "jane john maria wei aisha lars chloe diego priya tom nina omar sofia ken lea raj".split()  # noqa: SIM905
LAST = "doe smith garcia chen khan berg martin lopez patel baker novak haddad rossi ito".split()  # noqa: SIM905
DOMAINS = [
    "example.com",
    "mail.example.co.uk",
    "uni-heidelberg.de",
    "support.acme.io",
    "corp.example.org",
    "post.example.fr",
    "gmail.com",
    "outlook.com",
]


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        total = 0
        for i, ch in enumerate(reversed(body + check)):
            d = int(ch)
            if i % 2 == 1:
                d = d * 2 - 9 if d > 4 else d * 2
            total += d
        if total % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


def _iban(country: str, bban: str) -> str:
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def _group(s: str, size: int = 4, sep: str = " ") -> str:
    return sep.join(s[i : i + size] for i in range(0, len(s), size))


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits


def _emails(rng: random.Random) -> list[str]:
    out = []
    for i in range(40):
        f, last, d = rng.choice(FIRST), rng.choice(LAST), rng.choice(DOMAINS)
        local = [
            f"{f}.{last}",
            f"{f}_{last}",
            f"{f[0]}{last}",
            f"{f}+support",
            f"{f}.{last}{rng.randint(1, 99)}",
            f"{last}-{f}",
            f"{f}.o'{last}",
        ][i % 7]
        email = f"{local}@{d}"
        out.append(email.upper() if i % 13 == 5 else email)
    return out


def _phones(rng: random.Random) -> dict[str, list[str]]:
    def n(k: int) -> str:
        return "".join(rng.choice(string.digits) for _ in range(k))

    nanp, e164, intl = [], [], []
    for i in range(24):
        area, ex, line = f"{rng.randint(2, 9)}{n(2)}", f"{rng.randint(2, 9)}{n(2)}", n(4)
        nanp.append(
            [
                f"({area}) {ex}-{line}",
                f"{area}-{ex}-{line}",
                f"{area}.{ex}.{line}",
                f"+1 {area} {ex} {line}",
                f"+1-{area}-{ex}-{line}",
                f"1-800-{ex}-{line}",
                f"+1 ({area}) {ex}-{line}",
                f"{area} {ex} {line}",
            ][i % 8]
        )
    for i in range(12):  # national numbers outside North America
        nanp.append(
            [
                f"020 {n(4)} {n(4)}",
                f"0161 {n(3)} {n(4)}",
                f"030 {n(4)} {n(4)}",
                f"06 {n(4)} {n(4)}",
                f"07700 {n(6)}",
                f"01632 {n(6)}",
            ][i % 6]
        )
    for cc, digits in [("1", 10), ("44", 10), ("49", 11), ("33", 9), ("91", 10), ("61", 9)] * 4:
        e164.append(f"+{cc}{rng.randint(1, 9)}{n(digits - 1)}")
    for i in range(24):
        intl.append(
            [
                f"+44 20 {n(4)} {n(4)}",
                f"+49 30 {n(7)}",
                f"+33 1 {n(2)} {n(2)} {n(2)} {n(2)}",
                f"+81 3-{n(4)}-{n(4)}",
                f"+91 9{n(4)} {n(5)}",
                f"+61 2 {n(4)} {n(4)}",
                f"+55 11 9{n(4)}-{n(4)}",
                f"+34 91{n(1)} {n(3)} {n(3)}",
                f"+39 06 {n(4)} {n(4)}",
                f"+44 (0)20 {n(4)} {n(4)}",
                f"+86 10 {n(4)} {n(4)}",
                f"+49 (0)89 {n(6)}",
            ][i % 12]
        )
    return {"nanp": nanp, "e164": e164, "intl": intl}


def _cards(rng: random.Random) -> list[str]:
    out = []
    kinds = [("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15)]
    kinds += [("6011", 16), ("3528", 16), ("4", 13), ("36", 14)]
    for i in range(40):
        prefix, length = kinds[i % len(kinds)]
        number = _luhn_complete(prefix, length, rng)
        if length == 15:
            out.append(
                f"{number[:4]} {number[4:10]} {number[10:]}" if i % 2 else number
            )  # amex groups 4-6-5
        else:
            out.append([_group(number), _group(number, sep="-"), number][i % 3])
    return out


def _ibans(rng: random.Random) -> list[str]:
    specs = [
        ("DE", lambda: _rand(rng, string.digits, 18)),
        ("GB", lambda: _rand(rng, string.ascii_uppercase, 4) + _rand(rng, string.digits, 14)),
        ("FR", lambda: _rand(rng, string.digits, 10) + _rand(rng, UPPER_DIGITS, 11) + "00"),
        ("NL", lambda: _rand(rng, string.ascii_uppercase, 4) + _rand(rng, string.digits, 10)),
        ("ES", lambda: _rand(rng, string.digits, 20)),
        ("IT", lambda: "X" + _rand(rng, string.digits, 10) + _rand(rng, string.digits, 12)),
        ("BE", lambda: _rand(rng, string.digits, 12)),
        ("CH", lambda: _rand(rng, string.digits, 17)),
    ]
    out = []
    for i in range(32):
        country, bban = specs[i % len(specs)]
        iban = _iban(country, bban())
        out.append(_group(iban) if i % 2 == 0 else iban)
    return out


def _ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _ipv4(rng: random.Random) -> list[str]:
    out = []
    for i in range(40):
        kind = i % 4
        if kind == 0:
            ip = f"{rng.choice([8, 23, 45, 52, 66, 104, 151, 185, 203])}.{rng.randint(0, 255)}"
            ip += f".{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        elif kind == 1:
            ip = f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        elif kind == 2:
            ip = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        else:
            ip = f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        out.append(ip)
    return out


def _ipv6(rng: random.Random) -> list[str]:
    def h() -> str:
        return f"{rng.randint(1, 0xFFFF):x}"

    out = []
    for i in range(24):
        form = i % 4
        if form == 0:
            out.append(":".join(f"{rng.randint(0, 0xFFFF):04x}" for _ in range(8)))
        elif form == 1:
            out.append(f"2001:db8:{h()}:{h()}::{h()}")
        elif form == 2:
            out.append(f"fe80::{h()}:{h()}:{h()}:{h()}")
        else:
            out.append(
                f"2a02:{h()}:{h()}::{h()}:{h()}".upper() if i % 8 == 3 else f"2a02:{h()}::{h()}"
            )
    return out


def _secrets(rng: random.Random) -> list[tuple[str, str, str]]:
    """(prefix, value, suffix) triples: some secrets are the value of a `key = ...`."""
    b64url = string.ascii_letters + string.digits + "-_"
    out: list[tuple[str, str, str]] = []
    for i in range(44):
        kind = i % 11
        if kind == 0:
            value = "AKIA" + _rand(rng, UPPER_DIGITS, 16)
        elif kind == 1:
            value = rng.choice(["sk_live_", "rk_live_", "sk_test_"]) + _rand(rng, ALNUM, 24)
        elif kind == 2:
            value = "ghp_" + _rand(rng, ALNUM, 36)
        elif kind == 3:
            value = "github_pat_" + _rand(rng, ALNUM + "_", 82)
        elif kind == 4:
            value = f"xoxb-{_rand(rng, string.digits, 12)}-{_rand(rng, string.digits, 13)}-"
            value += _rand(rng, ALNUM, 24)
        elif kind == 5:
            head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
            body = base64.urlsafe_b64encode(
                f'{{"sub":"{rng.randint(1000, 9999)}","name":"{rng.choice(FIRST)}"}}'.encode()
            )
            value = f"{head}.{body.decode().rstrip('=')}.{_rand(rng, b64url, 43)}"
        elif kind == 6:
            value = "AIza" + _rand(rng, b64url, 35)
        elif kind == 7:
            value = "sk-proj-" + _rand(rng, b64url, 48)
        elif kind == 8:
            value = "hf_" + _rand(rng, string.ascii_letters, 34)
        elif kind == 9:
            value = "glpat-" + _rand(rng, b64url, 20)
        else:
            key = rng.choice(["api_key", "API_KEY", "aws_secret_access_key", "secret", "token"])
            value = _rand(rng, ALNUM + "/+", 40)
            quote = rng.choice(["", '"', "'"])
            out.append((f"in the config: {key} = {quote}", value, f"{quote} (rotate it!)"))
            continue
        out.append(("", value, ""))
    return out


def _private_keys(rng: random.Random) -> list[str]:
    out = []
    for i in range(16):
        label = ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"][i % 4]
        lines = [_rand(rng, string.ascii_letters + string.digits + "+/", 64) for _ in range(4)]
        out.append(f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----")
    return out


def _snowflake(rng: random.Random) -> str:
    return str(rng.randint(10**17, 13 * 10**17))


CARRIERS = {
    "EMAIL": [
        "Hi, you can reach me at {v} if the ticket stalls.",
        "Please send the invoice to {v}, thanks.",
        "Contact: {v}",
        "{v} is the address on the account.",
        "I emailed ({v}) yesterday but got no answer.",
        'The form says "{v}" but that inbox is closed.',
        "Forwarding to <{v}> now.",
    ],
    "PHONE": [
        "Call me on {v} after six.",
        "Our office number is {v}.",
        "Phone: {v}",
        "{v} is my mobile, text first please.",
        "You can ring the desk ({v}) any weekday.",
        "If nobody answers, try {v}, that is the backup line.",
    ],
    "CREDIT_CARD": [
        "I paid with card {v} and it was charged twice.",
        "Card number: {v}",
        "The card ending in that number, {v}, was declined.",
        "{v} exp 12/29 cvc on the back",
    ],
    "SSN": [  # without dashes, a 9-digit SSN is one only where it is called one
        "SSN {v} is on the W-2 form.",
        "My social security number is {v}.",
        "ssn: {v}",
        "Social Security No. {v} belongs to the applicant.",
    ],
    "IBAN": [
        "Please wire the refund to {v}.",
        "IBAN: {v}",
        "My account is {v}, at the branch in town.",
        "Use {v} for the transfer, reference the order.",
    ],
    "US_SSN": [
        "SSN {v} is on the W-2 form.",
        "My social security number is {v}.",
        "{v} was entered on the application by mistake.",
        "ssn: {v}",
    ],
    "IPv4": [
        "The server at {v} stopped answering pings.",
        "Our gateway is {v} and DNS points to it.",
        "Can you whitelist {v}? That is our office IP.",
        "ssh admin@{v} works but the web UI does not.",
        "Blocked {v} after it hammered the login page.",
        "Connect to {v}:5432 with the read-only user.",
        "The build server at {v} is down again.",
        "ping {v} returns nothing",
        "Requests from {v} get a 403.",
        "set the subnet to {v}/24 and restart",
    ],
    "IPv6": [
        "The host resolves to {v} now.",
        "Allow {v} in the firewall please.",
        "Requests come from [{v}] behind the proxy.",
        "Our IPv6 address is {v}.",
    ],
    "SECRET": [
        "Oops, I pasted my key {v} in the channel.",
        "export TOKEN={v}",
        "The deploy uses {v} for auth.",
        "key: {v}",
    ],
    "PRIVATE_KEY": ["Here is the key file:\n{v}\nplease keep it safe", "{v}"],
    "MENTION": ["thanks {v} for the fix", "{v} can you look at this?", "ping {v}"],
    "DISCORD_ID": [
        "Reported by user id: {v}",
        "Ban {v}, they keep spamming.",
        "The account {v} was created yesterday.",
    ],
}

NEAR_MISSES: dict[str, list[str]] = {
    "EMAIL": [
        "@everyone the server restarts at noon",
        "meet @ 5pm in the lobby",
        "decorate it with @app.route('/health') first",
        "npm install react@18.2.0 fixed it",
        "mail me at the usual address",
        "ssh into deploy@staging first",
        "she wrote an @-mention to the whole team",
        "the price was 3@5.00 per unit",
    ],
    "PHONE": [
        "the meeting is on 2026-01-15 at 10:30",
        "read pages 120-135 before Friday",
        "ISBN 978-3-16-148410-0 is the second edition",
        "the zip code is 94103",
        "it costs 1,299.00 with tax",
        "pi is roughly 3.14159",
        "Windows build 10.0.19045.2965 has the bug",
        "order 12345678 shipped",
        "the score was 3-2-1 at half time",
        "+15 points for the red team",
        "+1 to this, same problem here",
        "in 2024 there were 150 000 users",
        "room 1204 at 5 pm",
        "we saw 12 345 678 requests last month",
        "between 2019-2023 sales doubled",
    ],
    "CREDIT_CARD": [
        "order number 1234 5678 9012 3456 (not a card)",
        "the event fired at 1767225600000 ms",
        "ticket 4111 1111 1111 1112 fails the check",
        "tracking 9400 1000 0000 0000 0000 00",
        "invoice 5555-5555-5555-5555 is a test number that fails Luhn",
        "serial 0000000000000000",
    ],
    "IBAN": [
        "IBAN-like DE00 1234 5678 9012 3456 00 fails mod 97",
        "part AB12 CDEF 3456 7890 is in stock",
        "ISO 8601 dates only",
        "GB00 WEST 1234 5698 7654 32 is a typo",
        "the model XY12 ABCD EFGH 1234 was discontinued",
    ],
    "US_SSN": [
        "reference 123456789 is not an SSN",
        "invalid ssn 000-12-3456 and 666-45-6789 and 923-45-6789",
        "group 00 as in 123-00-4567 is never issued",
        "serial 0000 as in 123-45-0000 is never issued",
        "zip+4 94103-1234",
        "the date was 2026-01-15",
    ],
    "IPv4": [
        "still on firmware 3.2.1.9",
        "upgrade to v1.2.3.4 or version 10.0.0.1 soon",
        "build 2.0.1.3 released",
        "release 4.1.0.2-rc1 fixes it",
        "3.2.1.9-beta broke the scheduler",
        "the kernel is 5.4.0.1 on that box",
        "BIOS 1.0.12.4 adds the option",
        "driver 2.3.1.0 from the vendor site",
        "see section 3.1.4.2 of the manual",
        "the printer firmware is now at 10.1.1.5",
        "version string 1.2.3.4.5 is invalid",
        "300.1.2.3 is not an address",
        "semver 1.2.3 only",
        "Version: 2.1.0.7",
        "updated the router firmware to 1.1.4.2 last night",
        "installed the 7.0.0.1-alpha build",
    ],
    "IPv6": [
        "the meeting is at 12:30:45",
        "use std::vector<int> instead",
        "boost::asio::ip::tcp is the type",
        "the screen is 16:9",
        "John 3:16 is quoted",
        "ratio 1:2:3:4",
    ],
    "SECRET": [
        "use your sk_test_ key from the dashboard",
        "AKIA is the prefix of AWS access keys",
        "the token is in the vault",
        "eyJ is how a JWT starts",
        "password: ********",
        "api_key = os.environ['API_KEY']",
        "token = get_token()",
        "call hf_hub_download to fetch it",
        "scikit-learn (sk-learn) is installed",
        "the secret key is rotated monthly",
    ],
    "PRIVATE_KEY": [
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZI\n-----END PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----",
        "never paste a private key here",
    ],
    "MENTION": [
        "see <#123456789012345678> for the rules",
        "<@&123456789012345678> please review",
        "nice one <:pepe:123456789012345678>",
        "<a:party:876543210987654321> we shipped",
    ],
    "DISCORD_ID": [
        "message id 1234567890123456 is short",
        "hash 123456789012345678901234 is not an id",
        "version 1.123456789012345678 is odd",
    ],
}


def _pii(rng: random.Random) -> list[PiiCase]:
    values: dict[tuple[str, str], list[str]] = {
        ("EMAIL", "email"): _emails(rng),
        ("CREDIT_CARD", "card"): _cards(rng),
        ("IBAN", "iban"): _ibans(rng),
        ("US_SSN", "ssn"): [_ssn(rng) for _ in range(32)],
        ("US_SSN", "ssn_context"): [
            _ssn(rng).replace("-", " " if i % 2 else "") for i in range(12)
        ],
        ("IP_ADDRESS", "ipv4"): _ipv4(rng),
        ("IP_ADDRESS", "ipv6"): _ipv6(rng),
        ("PRIVATE_KEY", "private_key"): _private_keys(rng),
        ("MENTION", "mention"): [f"<@{'!' if i % 2 else ''}{_snowflake(rng)}>" for i in range(16)],
        ("DISCORD_ID", "discord_id"): [_snowflake(rng) for _ in range(24)],
    }
    for sub, phones in _phones(rng).items():
        values[("PHONE", f"phone_{sub}")] = phones
    cases: list[PiiCase] = []
    for (kind, sub), vals in values.items():
        carriers = CARRIERS[{"ipv4": "IPv4", "ipv6": "IPv6", "ssn_context": "SSN"}.get(sub, kind)]
        for i, v in enumerate(vals):
            prefix, _, suffix = carriers[i % len(carriers)].partition("{v}")
            cases.append(PiiCase(kind, sub, v, prefix, suffix))
    for i, (pre, v, suf) in enumerate(_secrets(rng)):
        if not pre:
            pre, _, suf = CARRIERS["SECRET"][i % len(CARRIERS["SECRET"])].partition("{v}")
        cases.append(PiiCase("SECRET", "secret", v, pre, suf))
    for key, texts in NEAR_MISSES.items():
        kind = "IP_ADDRESS" if key.startswith("IPv") else key
        for t in texts:
            cases.append(PiiCase(kind, key.lower() if key.startswith("IPv") else "", None, t))
    return cases


# ---------------------------------------------------------------------------- prose bank

SUBJECTS = [
    "The installer",
    "Our support team",
    "The backup job",
    "The new dashboard",
    "The billing service",
    "The mobile app",
    "The search index",
    "The deploy script",
    "The warehouse robot",
    "The payroll report",
    "The print server",
    "The onboarding guide",
    "The weekly newsletter",
    "The garden irrigation timer",
    "The school library",
    "The city council",
    "The hiking club",
    "The bakery on the corner",
]
VERBS = [
    "checks that there is enough disk space before it starts",
    "sends a summary to every manager on Monday morning",
    "was rewritten last spring to cut the waiting time in half",
    "keeps a copy of each file for thirty days",
    "asks for permission when the folder is protected",
    "runs every night and reports the errors it finds",
    "moved to a new building after the old one flooded",
    "needs a fresh token when the old one expires",
    "explains each step with a short example",
    "can be paused from the settings page at any time",
    "answers most questions within a single working day",
    "stores the results in a table that anyone can read",
    "shows a warning when the battery is almost empty",
    "was closed for two weeks while the roof was repaired",
    "opens at seven and sells out of bread by noon",
    "meets on the first Sunday of every month",
    "approved the budget for a second bus line",
    "waters the beds early so that less water evaporates",
]
TAILS = [
    "so nobody has to remember it.",
    "which is why the numbers look better this quarter.",
    "and most people never notice the difference.",
    "but it still needs a person to look at the odd cases.",
    "because that was the most common complaint last year.",
    "and the change is documented in the release notes.",
    "which saves about an hour of work each week.",
    "so it is worth reading before you ask for help.",
    "although a few users asked for the old behaviour back.",
    "and it has worked without trouble since then.",
]


def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(TAILS)}"


def _doc(rng: random.Random, sentences: int) -> list[str]:
    seen: list[str] = []
    while len(seen) < sentences:
        s = _sentence(rng)
        if s not in seen:
            seen.append(s)
    return seen


HANDWRITTEN_PROSE = [
    "If the printer shows a paper jam but the tray is empty, open the back cover and look for "
    "a small torn piece stuck behind the rollers. Pull it out gently, close the cover, and the "
    "light should turn green again within a few seconds.",
    "To move your photos to a new phone, turn on the cloud backup on the old one first and wait "
    "until it says that everything is up to date. Then sign in on the new phone with the same "
    "account and the library will appear while it downloads in the background.",
    "The migration added a column to the orders table, and the planner statistics were not "
    "refreshed afterwards. Running ANALYZE on the table brings the query time back from twelve "
    "seconds to about forty milliseconds, which is what we had before the release.",
    "We replaced the old wooden fence with a hedge because the wind kept knocking boards loose. "
    "It takes a few years for the hedge to fill in, but it needs no paint and the birds like it.",
    "Before you open a ticket, check whether the service status page lists an incident for your "
    "region. Most reports during an outage are duplicates, and the page is updated every ten "
    "minutes until the problem is resolved.",
    "My grandmother taught me to make bread without a recipe. She judged the dough by how it "
    "felt under her hands, and it took me years to understand what she meant by soft but not "
    "sticky.",
    "When the laptop battery drains overnight, the usual cause is an app that keeps the machine "
    "awake. Switching the lid action to hibernate instead of sleep stops the drain, at the cost "
    "of a slightly slower start in the morning.",
    "The committee agreed that the library should stay open until nine on weekdays during the "
    "exam period. Students had asked for it for years, and the extra hours cost less than the "
    "council expected.",
    "Run `pip install -e .` in the project folder, then start the tests with `pytest -q`. If a "
    "test fails because the database is missing, start it with the script in the tools folder "
    "and try again.",
    "The river rose almost two metres after three days of rain, and the footpath along the bank "
    "was closed for a week. The council has since raised the path and added a second bridge "
    "further upstream.",
]
FOREIGN_PROSE = [
    "Para restablecer la contraseña, abre la aplicación y pulsa en el enlace que está debajo "
    "del botón de inicio de sesión. Te llegará un correo con un código que es válido durante "
    "diez minutos, y después puedes elegir una contraseña nueva.",
    "La réunion de lundi est reportée à mercredi parce que la salle est en travaux. Nous "
    "enverrons l'ordre du jour demain matin, et chacun peut proposer un sujet avant midi.",
    "Wenn der Drucker nicht mehr reagiert, schalte ihn für eine Minute aus und dann wieder ein. "
    "Meistens liegt es an einem Auftrag, der in der Warteschlange hängt, und der Neustart löscht "
    "die Warteschlange.",
    "Il negozio resta chiuso per ferie fino alla fine del mese, ma gli ordini online vengono "
    "spediti regolarmente. Per domande potete scriverci e vi risponderemo entro due giorni.",
    "A atualização do aplicativo corrige o problema da bateria e melhora a velocidade da busca. "
    "Recomendamos instalar a nova versão assim que possível, porque a antiga deixará de receber "
    "suporte no próximo mês.",
    "De bibliotheek is op zaterdag open van tien tot vier, en je kunt de boeken ook in de "
    "inleverbus bij het station terugbrengen. Een verlenging kan online of aan de balie.",
]
CHAT_PROSE = [
    (
        "How do I reset the router? The lights have been blinking orange since this morning.",
        "Hold the reset button on the back for ten seconds, then wait until the lights turn "
        "green. It takes about two minutes to come back.",
    ),
    (
        "Is there a way to export the report as a spreadsheet instead of a PDF?",
        "Yes, open the report, click the three dots in the top corner and choose export. The "
        "spreadsheet option is at the bottom of the list.",
    ),
    (
        "Why does the app log me out every time I switch to another tab?",
        "That happens when the browser blocks third-party cookies for the login page. Allow "
        "cookies for our domain in the settings and you will stay signed in.",
    ),
    (
        "Can I change the delivery address after the order has shipped?",
        "Not after it has shipped, but you can ask the courier to hold the parcel at a pickup "
        "point near you, which is usually just as quick.",
    ),
]


def _good_prose(rng: random.Random) -> list[FilterCase]:
    out = [FilterCase(t, True, "prose_handwritten") for t in HANDWRITTEN_PROSE]
    out += [FilterCase(t, True, "prose_foreign") for t in FOREIGN_PROSE]
    out += [FilterCase(f"{q}\n{a}", True, "chat_exchange") for q, a in CHAT_PROSE]
    for i in range(160):
        n = [2, 3, 4, 6, 8][i % 5]
        text = " ".join(_doc(rng, n))
        if i % 7 == 0:
            text = HANDWRITTEN_PROSE[i % len(HANDWRITTEN_PROSE)] + "\n\n" + text
        out.append(FilterCase(text, True, "prose_generated"))
    for i in range(40):
        q, a = CHAT_PROSE[i % len(CHAT_PROSE)]
        out.append(
            FilterCase(f"{q}\n{a}\n{_sentence(rng)}\n{_sentence(rng)}", True, "chat_generated")
        )
    return out


# --------------------------------------------------------------------------- filler

LOREM_TEXT = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt "
    "ut labore et dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation "
    "ullamco laboris nisi ut aliquip ex ea commodo consequat duis aute irure dolor in "
    "reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur excepteur "
    "sint occaecat cupidatat non proident sunt in culpa qui officia deserunt mollit anim id "
    "est laborum curabitur pretium tincidunt lacus nulla gravida orci a odio nullam varius "
    "turpis et commodo pharetra est eros bibendum elit nec luctus magna felis sollicitudin "
    "mauris integer in mauris eu nibh euismod gravida duis ac tellus et risus vulputate "
    "vehicula donec lobortis risus a elit etiam tempor ut ullamcorper ligula eu tempor congue "
    "eros est euismod turpis id tincidunt sapien risus a quam maecenas fermentum consequat mi"
)
LOREM = LOREM_TEXT.split()
KEYWORDS = [
    "cheap flights",
    "best price",
    "buy now",
    "free shipping",
    "discount shoes",
    "online casino",
    "weight loss",
    "cheap hotels",
    "crypto bonus",
    "top deals",
]
TEMPLATE_FILLER = [
    "Insert your text here.",
    "Click to edit this text.",
    "Your content goes here.",
    "Sample text.",
    "Add a short description of your product here.",
    "This is a placeholder paragraph.",
    "Replace this text with your own.",
    "Coming soon.",
    "Page under construction.",
    "Headline goes here.",
]
EMOJI = ["🔥", "😂", "💯", "🚀", "👍", "🎉", "❤️", "✨"]
SYLLABLES = "ka lo mi zu re tar qua vex nor pli dro sme gak wub yor fen".split()  # noqa: SIM905


def _lorem(rng: random.Random, words: int, start: bool) -> str:
    out = ["Lorem", "ipsum"] if start else []
    while len(out) < words:
        out.append(rng.choice(LOREM))
    text = " ".join(out)
    sentences, buf = [], []
    for w in text.split():
        buf.append(w)
        if len(buf) > rng.randint(6, 14):
            sentences.append(" ".join(buf).capitalize() + ".")
            buf = []
    if buf:
        sentences.append(" ".join(buf).capitalize() + ".")
    return " ".join(sentences)


def _filler(rng: random.Random) -> list[FilterCase]:
    out: list[FilterCase] = []
    for i in range(50):
        text = _lorem(rng, rng.randint(25, 160), start=i % 3 != 2)
        if i % 5 == 4:  # a template heading over the filler
            text = f"{rng.choice(SUBJECTS).split()[-1].title()} overview\n\n{text}"
        out.append(FilterCase(text, False, "lorem_ipsum"))
    for _ in range(25):
        kw = rng.sample(KEYWORDS, 3)
        words = []
        for _ in range(rng.randint(12, 30)):
            words.append(rng.choice(kw))
        out.append(FilterCase(" ".join(words), False, "keyword_stuffing"))
    for _ in range(20):
        line = rng.choice(["Great post!", "Follow for more", "Check my profile", "nice"])
        n = rng.randint(5, 20)
        out.append(FilterCase("\n".join([line] * n), False, "repeated_lines"))
    for _ in range(20):
        kind = rng.randrange(3)
        if kind == 0:
            text = " ".join(
                rng.choice(EMOJI) * rng.randint(1, 4) for _ in range(rng.randint(8, 30))
            )
        elif kind == 1:
            text = " ".join(
                rng.choice(["!!!!", "????", "####", "$$$", "...", "***"]) for _ in range(20)
            )
        else:
            text = "!" * rng.randint(20, 80)
        out.append(FilterCase(text, False, "symbol_spam"))
    for _ in range(25):
        words = [
            "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4)))
            for _ in range(rng.randint(20, 60))
        ]
        out.append(FilterCase(" ".join(words).capitalize() + ".", False, "gibberish"))
    for _ in range(20):
        out.append(
            FilterCase(
                " ".join(rng.choice(TEMPLATE_FILLER) for _ in range(rng.randint(6, 14))),
                False,
                "template_placeholder",
            )
        )
    for _ in range(15):
        out.append(
            FilterCase(
                " ".join(str(rng.randint(0, 9999)) for _ in range(rng.randint(20, 60))),
                False,
                "number_dump",
            )
        )
    for _ in range(15):
        out.append(
            FilterCase(
                " ".join(
                    rng.choice(["lol", "ok", "k", "ty", "lmao", "thx", "+1", "yes"])
                    for _ in range(rng.randint(1, 4))
                ),
                False,
                "low_information",
            )
        )
    for _ in range(10):
        blob = base64.b64encode(rng.randbytes(rng.randint(120, 400))).decode()
        out.append(FilterCase(blob, False, "encoded_blob"))
    return out


# --------------------------------------------------------------------------- dedup


TEMPLATE_HEAD = [
    "Thanks for contacting the help desk about your account.",
    "We have looked at the problem you reported and here is what we found.",
]
TEMPLATE_TAIL = [
    "If anything else comes up, reply to this message and the same agent will pick it up.",
    "Have a good week from everyone on the support team.",
]


def _near_edit(rng: random.Random, sentences: list[str], i: int) -> tuple[str, str]:
    """A near duplicate: the edits people make when they post the same thing again."""
    edited = list(sentences)
    how = i % 6
    if how == 5:  # retyped: 3-5 % of the words with a typo, a dropped or a doubled letter
        words = " ".join(edited).split()
        for j in rng.sample(range(len(words)), max(2, round(len(words) * rng.uniform(0.03, 0.05)))):
            w = words[j]
            cut = rng.randrange(len(w))
            words[j] = (
                rng.choice([w[:cut] + w[cut + 1 :], w[:cut] + w[cut] + w[cut:], w + "s"]) or w
            )
        return " ".join(words), "retyped"
    if how == 0:  # a typo or two
        k = rng.randrange(len(edited))
        words = edited[k].split()
        j = rng.randrange(len(words))
        words[j] = words[j][:-1] if len(words[j]) > 3 else words[j] + "s"
        edited[k] = " ".join(words)
        kind = "typo"
    elif how == 1:  # an edit note at the end
        edited.append(rng.choice(["Edit: fixed a typo.", "EDIT: thanks all, solved.", "(updated)"]))
        kind = "edit_note"
    elif how == 2:  # a greeting in front
        edited.insert(0, rng.choice(["Hi all,", "Hello again,", "Hey team,"]))
        kind = "greeting"
    elif how == 3:  # a number changed and a word swapped
        k = rng.randrange(len(edited))
        edited[k] = (
            edited[k]
            .replace("thirty", "forty")
            .replace("two", "three")
            .replace(" the ", " this ", 1)
        )
        kind = "word_swap"
    else:  # reformatted: case, spacing, punctuation
        kind = "reformatted"
        return " ".join(s.upper() if j == 0 else s for j, s in enumerate(edited)).replace(
            ".", " ."
        ), kind
    return " ".join(edited), kind


def _dedup(rng: random.Random) -> list[DedupDoc]:
    docs: list[DedupDoc] = []
    firsts, seconds = [], []
    for i in range(140):
        body = _doc(rng, rng.randint(8, 12))
        first = DedupDoc(f"d{i}", " ".join(body), None, "first")
        if i % 7 == 0:
            second = DedupDoc(f"d{i}x", first.text, first.id, "exact")
        else:
            text, _ = _near_edit(rng, body, i)
            second = DedupDoc(f"d{i}n", text, first.id, "near")
        firsts.append(first)
        seconds.append(second)
    for i in range(100):
        # Same template head and tail, a few shared body sentences, the rest different.
        shared = _doc(rng, rng.randint(1, 3))
        a_body = shared + _doc(rng, rng.randint(5, 7))
        b_body = shared + _doc(rng, rng.randint(5, 7))
        rng.shuffle(a_body)
        rng.shuffle(b_body)
        a = " ".join(TEMPLATE_HEAD + a_body + TEMPLATE_TAIL)
        b = " ".join(TEMPLATE_HEAD + b_body + TEMPLATE_TAIL)
        if a == b:
            continue
        firsts.append(DedupDoc(f"h{i}", a, None, "unique"))
        seconds.append(DedupDoc(f"h{i}b", b, None, "hard_negative"))
    for i in range(80):
        firsts.append(DedupDoc(f"u{i}", " ".join(_doc(rng, rng.randint(6, 12))), None, "unique"))
    rng.shuffle(firsts)
    rng.shuffle(seconds)
    docs = firsts + seconds  # every twin comes after the document it repeats
    return docs


# --------------------------------------------------------------------------- chats

# A topic: the opener's question, the answer, a follow-up and its answer. `{x}` varies.
TOPICS = [
    (
        "How do I reset the {x} router? The lights keep blinking orange.",
        "Hold the reset button on the {x} router for ten seconds until the lights turn green.",
        "The router lights are green now, but the wifi still drops every hour.",
        "Hourly wifi drops on that router are usually the channel; set the router to channel 6.",
    ),
    (
        "The {x} database backup failed last night, the log says disk full.",
        "Clear the old backup archives on the {x} database server, they fill the disk.",
        "Cleared the archives, how many backups should the database keep?",
        "Keep seven daily database backups and four weekly ones, the disk has room for that.",
    ),
    (
        "Why is the {x} invoice export missing the tax column?",
        "The invoice export hides the tax column unless tax reporting is enabled for {x}.",
        "Found the tax reporting setting, does it change old invoices too?",
        "Old invoices keep their tax column as exported; only new invoice exports change.",
    ),
    (
        "My {x} laptop battery drains overnight with the lid closed.",
        "Some app keeps the laptop awake; set the lid to hibernate and the battery lasts.",
        "Hibernate works, but the laptop boots slowly after it.",
        "Slow boots after hibernate are normal on that laptop, disable fast startup to help.",
    ),
    (
        "How can I rotate the {x} API token without downtime?",
        "Create a second {x} token, deploy it, then revoke the old token once traffic moved.",
        "Where do I see which token the traffic uses?",
        "The token usage page lists requests per token, so you see when the old token is idle.",
    ),
    (
        "The {x} printer jams on every double-sided page.",
        "Double-sided jams on that printer come from the duplex roller; clean the roller.",
        "Cleaned the duplex roller, the printer still jams on thick paper.",
        "Thick paper needs the printer's manual feed tray; the duplex path cannot bend it.",
    ),
    (
        "Can the {x} newsletter go out on Tuesdays instead of Mondays?",
        "Change the newsletter schedule in the {x} campaign settings, pick Tuesday there.",
        "Will subscribers get two newsletters this week after the schedule change?",
        "No, the newsletter schedule skips a send when the change falls within two days.",
    ),
    (
        "The {x} garden sprinkler timer resets itself after rain.",
        "The sprinkler timer has a rain sensor; when it trips, the timer schedule pauses.",
        "Can I keep the sprinkler schedule and still use the rain sensor?",
        "Set the rain sensor to delay mode, the sprinkler timer then resumes the schedule.",
    ),
]
DETAILS = [
    "It started after the update on Monday.",
    "Nothing in the manual covers it.",
    "Two colleagues see the same thing.",
    "We already restarted everything twice.",
    "It worked fine until last week.",
    "The support page did not help.",
    "This is the third time this month.",
    "Our team lead asked me to check here first.",
    "I am on the night shift, so it is urgent.",
    "The vendor has not replied yet.",
    "It only happens in the morning.",
    "I could not find an older thread about it.",
]
TIPS = [
    "Write down what you changed, in case it comes back.",
    "That should take five minutes at most.",
    "Tell me if it happens again after that.",
    "It is a known quirk, not something you did.",
    "The same fix works on the other sites too.",
    "Do it outside office hours if you can.",
    "No need to call the vendor for this one.",
    "I had the same problem last year.",
    "Let the rest of the team know once it works.",
    "You do not need admin rights for it.",
    "It is also in the wiki now.",
    "Keep the old settings as a backup first.",
]
PLACES = ["office", "warehouse", "studio", "clinic", "shop", "lab", "branch", "depot", "campus"]
NOISE_TEXTS = ["lol", "!!!!!!!!!!!!!!!!!!!!", "Thanks, that worked!", "👍👍", "ok thanks"]
UNRELATED = [
    "Anyone going to the meetup on Friday? I can bring snacks for the group.",
    "The parking lot gate is stuck open again, facilities knows about it.",
    "Reminder that the cafeteria closes early on public holidays this month.",
]


class _Exporter:
    """DiscordChatExporter's JSON shape (the fields its JsonMessageWriter writes)."""

    def __init__(self, name: str, start: datetime) -> None:
        self.name, self.start, self.messages = name, start, []  # type: ignore[var-annotated]
        self.people: dict[str, dict[str, Any]] = {}

    def person(self, name: str, bot: bool = False) -> dict[str, Any]:
        if name not in self.people:
            n = len(self.people) + 1
            self.people[name] = {
                "id": str(300000000000000000 + n * 7919),
                "name": name,
                "discriminator": "0000",
                "nickname": name.title(),
                "color": None,
                "isBot": bot,
                "roles": [],
                "avatarUrl": f"https://cdn.discordapp.com/embed/avatars/{n % 5}.png",
            }
        return self.people[name]

    def say(
        self,
        who: str,
        text: str,
        at: float,
        *,
        reply_to: str | None = None,
        kind: str = "Default",
        bot: bool = False,
    ) -> str:
        mid = str(1100000000000000000 + len(self.messages) * 131 + 1)
        message: dict[str, Any] = {
            "id": mid,
            "type": "Reply" if reply_to else kind,
            "timestamp": (self.start + timedelta(seconds=at)).isoformat(),
            "timestampEdited": None,
            "callEndedTimestamp": None,
            "isPinned": False,
            "content": text,
            "author": self.person(who, bot),
            "attachments": [],
            "embeds": [],
            "stickers": [],
            "reactions": [],
            "mentions": [],
            "inlineEmojis": [],
        }
        if reply_to:
            message["reference"] = {"messageId": reply_to, "channelId": "77", "guildId": "66"}
        self.messages.append(message)
        return mid

    def export(self) -> dict[str, Any]:
        return {
            "guild": {"id": "66", "name": "Support", "iconUrl": ""},
            "channel": {
                "id": "77",
                "type": "GuildTextChat",
                "categoryId": "1",
                "category": "Help",
                "name": self.name,
                "topic": None,
            },
            "dateRange": {"after": None, "before": None},
            "exportedAt": self.start.isoformat(),
            "messages": self.messages,
            "messageCount": len(self.messages),
        }


NAMES = "alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy".split()  # noqa: SIM905


def _chat(rng: random.Random, index: int) -> ChatExport:
    """Several conversations, two at a time interleaved, some by reply reference and some by
    topic only, with noise between them (acknowledgements, reactions, bots, joins, strangers)."""
    ex = _Exporter(f"help-{index}", datetime(2026, 3, 1 + index, 9, 0, tzinfo=UTC))
    chat = ChatExport(ex.name, {}, [], {}, [])
    topics = rng.sample(range(len(TOPICS)), 6)
    details, tips = rng.sample(DETAILS, 6), rng.sample(TIPS, 6)  # no two alike in a channel
    t = 0.0
    for pair in range(3):
        convs = []
        askers = rng.sample(NAMES, 2)  # two people asking; one helper may answer both
        for k in (0, 1):
            q, a, fq, fa = TOPICS[topics[pair * 2 + k]]
            place = rng.choice(PLACES)
            answerer = rng.choice([n for n in NAMES if n not in askers])
            key = f"{ex.name}:{pair}:{k}"
            q = f"{q.format(x=place)} {details[pair * 2 + k]}"
            a = f"{a.format(x=place)} {tips[pair * 2 + k]}"
            convs.append((key, askers[k], answerer, q, a, fq, fa))
        use_replies = (index + pair) % 2 == 0
        ids: dict[str, str] = {}
        # openers, then answers, interleaved: A's q, B's q, A's answer, B's answer ...
        for key, asker, _answerer, q, *_ in convs:
            ids[key + "q"] = ex.say(asker, q, t)
            chat.sides[q] = (key, "user")
            t += rng.uniform(15, 60)
        if pair == 1:
            ex.say("helper-bot", "Reminder: search the FAQ before asking.", t, bot=True)
            chat.noise.append("Reminder: search the FAQ before asking.")
            t += 5
        for key, _asker, answerer, _q, a, *_ in convs:
            ids[key + "a"] = ex.say(
                answerer, a, t, reply_to=ids[key + "q"] if use_replies else None
            )
            chat.sides[a] = (key, "assistant")
            t += rng.uniform(20, 90)
        for key, _asker, _answerer, q, a, *_ in convs:
            chat.exchanges.append((key, q, a))
        key, asker, answerer, q, a, fq, fa = convs[0]
        noise = rng.choice(NOISE_TEXTS)
        ex.say(asker, noise, t)
        chat.noise.append(noise)
        t += rng.uniform(5, 20)
        stranger = rng.choice([n for n in NAMES if n not in (asker, answerer)])
        unrelated = UNRELATED[(index + pair) % len(UNRELATED)]
        ex.say(stranger, unrelated, t)  # must not become the answer to the thanks
        chat.noise.append(unrelated)
        t += rng.uniform(30, 90)
        fq_id = ex.say(asker, fq, t, reply_to=ids[key + "a"] if use_replies else None)
        chat.sides[fq] = (key, "user")
        t += rng.uniform(30, 120)
        ex.say(answerer, fa, t, reply_to=fq_id if use_replies else None)
        chat.sides[fa] = (key, "assistant")
        chat.exchanges.append((key, fq, fa))
        t += rng.uniform(60, 200)
        if pair == 2:  # the same question and answer posted again, later, verbatim
            ex.say("newcomer", "joined", t, kind="GuildMemberJoin")
            t += 2000
            _, asker2, answerer2, q2, a2, *_ = convs[1]
            rq = ex.say(asker2, q2, t)
            t += 45
            ex.say(answerer2, a2, t, reply_to=rq if use_replies else None)
            chat.repeats.append((q2, a2))
        t += 2400  # quiet: the conversations close
    chat.export = ex.export()
    return chat


def build(seed: int = SEED) -> QualitySet:
    rng = random.Random(seed)
    qs = QualitySet()
    qs.pii = _pii(random.Random(rng.random()))
    qs.dedup = _dedup(random.Random(rng.random()))
    frng = random.Random(rng.random())
    qs.filters = _good_prose(frng) + _filler(frng)
    crng = random.Random(rng.random())
    qs.chats = [_chat(crng, i) for i in range(12)]
    return qs


if __name__ == "__main__":
    qs = build()
    print(
        f"pii {len(qs.pii)} (near-misses {sum(c.value is None for c in qs.pii)}), "
        f"dedup {len(qs.dedup)} docs, filters {len(qs.filters)} "
        f"(filler {sum(not c.keep for c in qs.filters)}), chats {len(qs.chats)} exports "
        f"({sum(len(c.exchanges) for c in qs.chats)} exchanges)"
    )
