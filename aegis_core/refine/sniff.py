"""The real format of a source, from its bytes (the Content-Type is only a hint)."""

from __future__ import annotations

import json
import re
from pathlib import Path

FORMATS = ("pdf", "html", "markdown", "text", "json", "jsonl", "discord")
PREFIX = 64 * 1024
_MD = re.compile(rb"^(#{1,6} |\s*[-*+] |\s*\d+\. |```|> )", re.M)


def sniff(path: Path, content_type: str | None = None) -> str:
    with path.open("rb") as fh:
        head = fh.read(PREFIX)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return "pdf"
    if stripped[:1] in (b"{", b"["):
        return _json_kind(stripped)
    lower = stripped[:2048].lower()
    if lower.startswith((b"<!doctype html", b"<html")) or re.search(
        rb"<(head|body|div|p)[\s>]", lower
    ):
        return "html"
    if b"\x00" in head:
        return "binary"
    if (content_type or "").startswith("text/markdown") or len(_MD.findall(head)) >= 2:
        return "markdown"
    return "text"


def _json_kind(head: bytes) -> str:
    if head[:1] == b"{":
        first_line = head.split(b"\n", 1)[0].strip()
        try:
            json.loads(first_line)
            rest = head.split(b"\n", 2)
            if len(rest) > 1 and rest[1].strip().startswith(b"{"):
                return "jsonl"
        except ValueError:
            pass
        window = head[:4096]
        if b'"guild"' in window and b'"channel"' in window and b'"messages"' in head:
            return "discord"
    return "json"
