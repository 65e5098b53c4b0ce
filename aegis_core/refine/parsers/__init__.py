"""One parser per format; `parse_source` picks by the sniffed format."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from aegis_core.errors import SourceRefused
from aegis_core.refine.parsers.discord import parse_discord
from aegis_core.refine.parsers.documents import parse_document
from aegis_core.refine.parsers.jsonio import parse_json, parse_jsonl
from aegis_core.refine.records import Sample


def parse_source(
    path: Path, fmt: str, *, salt: str, stats: dict[str, int] | None = None
) -> Iterator[Sample]:
    if fmt == "discord":
        return parse_discord(path, salt=salt, stats=stats)
    if fmt == "jsonl":
        return parse_jsonl(path, stats=stats)
    if fmt == "json":
        return parse_json(path, stats=stats)
    if fmt in ("pdf", "html", "markdown", "text"):
        return parse_document(path, fmt, stats=stats)
    raise SourceRefused(f"unsupported source format: {fmt}")
