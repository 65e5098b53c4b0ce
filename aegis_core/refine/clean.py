"""Text cleaning: Unicode NFKC, control characters, whitespace, boilerplate lines.

Boilerplate is navigation and legal chrome ("Skip to content", "Home | About", cookie
banners) and lines that repeat across many chunks of one source (running headers and
footers); `RepeatedLines` learns the latter from the first pass over the source.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")
_BOILERPLATE = re.compile(
    r"^\s*(skip to (main )?content|toggle navigation|menu|search|sign in|log in|subscribe"
    r"|accept( all)? cookies|we use cookies.*|this (web)?site uses cookies.*"
    r"|(home|about|contact|blog|privacy|terms)( ?[|·•/] ?(home|about|contact|blog|privacy|terms"
    r"|careers|help|faq))+|all rights reserved.*|©.*|copyright ©.*|page \d+( of \d+)?"
    r"|back to top|share (this|on).*|print this page)\s*$",
    re.IGNORECASE,
)


MAX_BOILERPLATE_LINE = 200
_LINE_EDGES = re.compile(r" *\n *")


_ASCII_CONTROL = bytes(range(0x20)).replace(b"\n", b"").replace(b"\t", b"") + b"\x7f"


def normalize(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii():  # the common case: C-level passes, each only when needed
        text = text.encode().translate(None, _ASCII_CONTROL).decode().replace("\t", " ")
    else:
        text = _CONTROL.sub("", unicodedata.normalize("NFKC", text))
        text = _SPACES.sub(" ", text)
    if "  " in text:
        text = _SPACES.sub(" ", text)
    if " \n" in text or "\n " in text:
        text = _LINE_EDGES.sub("\n", text)
    if "\n\n\n" in text:
        text = _BLANKS.sub("\n\n", text)
    return text.strip()


class RepeatedLines:
    """Lines seen in at least `min_share` of chunks (and at least `min_count`) are chrome."""

    def __init__(self, min_share: float = 0.5, min_count: int = 3) -> None:
        self.counts: Counter[str] = Counter()
        self.chunks = 0
        self.min_share, self.min_count = min_share, min_count

    def observe(self, text: str) -> None:
        self.chunks += 1
        self.counts.update({line.strip().lower() for line in text.split("\n") if line.strip()})

    def repeated(self) -> frozenset[str]:
        floor = max(self.min_count, self.min_share * self.chunks)
        return frozenset(line for line, n in self.counts.items() if n >= floor and len(line) < 200)


def strip_boilerplate(text: str, repeated: frozenset[str] = frozenset()) -> tuple[str, int]:
    """The text without boilerplate lines, and how many lines were removed."""
    kept, removed = [], 0
    for line in text.split("\n"):
        short = len(line) <= MAX_BOILERPLATE_LINE  # chrome is short; long lines are content
        if short and (
            _BOILERPLATE.match(line) or (repeated and line and line.strip().lower() in repeated)
        ):
            removed += 1
        else:
            kept.append(line)
    joined = "\n".join(kept)
    return (_BLANKS.sub("\n\n", joined) if "\n\n\n" in joined else joined).strip(), removed


def clean(text: str, repeated: frozenset[str] = frozenset()) -> tuple[str, int]:
    return strip_boilerplate(normalize(text), repeated)
