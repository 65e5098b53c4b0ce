"""Raw JSON and JSONL: records with text fields, or records already holding a conversation.

JSONL is read line by line and a top-level JSON array item by item, so neither is held
whole in memory. A record becomes a conversation when it has `messages` (role/content),
`conversations` (from/value) or an instruction pair (question/answer, instruction/output,
prompt/completion); otherwise its text field becomes a document sample.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from aegis_core.errors import SourceRefused
from aegis_core.refine.records import Sample

ROLES = {
    "user": "user",
    "human": "user",
    "customer": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "bot": "assistant",
    "model": "assistant",
    "agent": "assistant",
}
PAIRS = (
    ("question", "answer"),
    ("instruction", "output"),
    ("prompt", "completion"),
    ("prompt", "response"),
    ("input", "output"),
)
TEXT_FIELDS = ("text", "content", "body", "message", "description", "summary")


def _turns(items: list[Any], role_key: str, text_key: str) -> list[tuple[str, str]]:
    turns = []
    for item in items:
        if not isinstance(item, dict):
            continue
        role = ROLES.get(str(item.get(role_key, "")).lower())
        text = item.get(text_key)
        if role and isinstance(text, str) and text.strip():
            turns.append((role, text))
    return turns


def record_to_sample(record: Any, index: int) -> Sample | None:
    if not isinstance(record, dict):
        return (
            Sample(id=f"json:{index}", kind="document", text=record)
            if isinstance(record, str) and record.strip()
            else None
        )
    if isinstance(record.get("messages"), list):
        return Sample(
            id=f"json:{index}",
            kind="conversation",
            turns=_turns(record["messages"], "role", "content"),
        )
    if isinstance(record.get("conversations"), list):
        return Sample(
            id=f"json:{index}",
            kind="conversation",
            turns=_turns(record["conversations"], "from", "value"),
        )
    for ask, answer in PAIRS:
        q, a = record.get(ask), record.get(answer)
        if isinstance(q, str) and isinstance(a, str) and q.strip() and a.strip():
            extra = record.get("input") if ask == "instruction" else None
            prompt = f"{q}\n\n{extra}" if isinstance(extra, str) and extra.strip() else q
            return Sample(
                id=f"json:{index}", kind="conversation", turns=[("user", prompt), ("assistant", a)]
            )
    for name in TEXT_FIELDS:
        value = record.get(name)
        if isinstance(value, str) and value.strip():
            title = record.get("title") or record.get("subject")
            return Sample(
                id=f"json:{index}",
                kind="document",
                text=value,
                title=title if isinstance(title, str) else None,
            )
    return None


def parse_jsonl(path: Path, stats: dict[str, int] | None = None) -> Iterator[Sample]:
    stats = stats if stats is not None else {}
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise SourceRefused(f"invalid JSON on line {number}: {exc}") from None
            stats["records"] = stats.get("records", 0) + 1
            if (sample := record_to_sample(record, number)) is not None:
                yield sample
            else:
                stats["records_without_text"] = stats.get("records_without_text", 0) + 1


def parse_json(path: Path, stats: dict[str, int] | None = None) -> Iterator[Sample]:
    stats = stats if stats is not None else {}
    with path.open("rb") as fh:
        first = fh.read(1024).lstrip()[:1]
        fh.seek(0)
        try:
            if first == b"[":
                records: Any = ijson.items(fh, "item", use_float=True)
            else:
                document = json.load(fh)
                records = _records_in(document)
            for index, record in enumerate(records):
                stats["records"] = stats.get("records", 0) + 1
                if (sample := record_to_sample(record, index)) is not None:
                    yield sample
                else:
                    stats["records_without_text"] = stats.get("records_without_text", 0) + 1
        except (ijson.JSONError, ValueError) as exc:
            raise SourceRefused(f"invalid JSON: {exc}") from None


def _records_in(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        if any(k in document for k in ("messages", "conversations", *TEXT_FIELDS)):
            return [document]
        for value in document.values():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                return value
    raise SourceRefused("JSON holds no records with text")
