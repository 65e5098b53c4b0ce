"""DiscordChatExporter JSON -> conversations, streamed.

Messages are read one at a time (ijson), so a 1 GB export never sits in memory. A
message joins the conversation of the message it replies to; otherwise it continues
the channel's current conversation unless more than `gap` has passed. Bots and system
messages (joins, pins, calls, ...) are dropped. People become stable pseudonyms, keyed
by a per-job salt, in mentions as well as in author names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import ijson

from aegis_core.errors import SourceRefused
from aegis_core.refine.records import Sample

KEEP_TYPES = {"Default", "Reply", "0", "19"}
RAW_MENTION = re.compile(r"<@!?(\d{15,21})>")


@dataclass
class _Conversation:
    id: str
    last: datetime
    messages: list[tuple[str, str]] = field(default_factory=list)  # (author pseudonym, text)
    ids: set[str] = field(default_factory=set)


class Pseudonyms:
    def __init__(self, salt: str) -> None:
        self.salt = salt.encode()
        self.names: dict[str, str] = {}

    def of(self, user_id: str) -> str:
        if user_id not in self.names:
            digest = hashlib.blake2b(user_id.encode(), key=self.salt[:64], digest_size=3)
            self.names[user_id] = f"User_{digest.hexdigest()}"
        return self.names[user_id]


def _text(message: dict[str, Any], people: Pseudonyms) -> str:
    text = message.get("content") or ""
    for user in message.get("mentions") or []:
        alias = people.of(str(user.get("id", "")))
        for name in {user.get("nickname"), user.get("name")} - {None, ""}:
            text = text.replace(f"@{name}", f"@{alias}")
    return RAW_MENTION.sub(lambda m: f"@{people.of(m.group(1))}", text).strip()


def _turns(messages: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Merge runs by one speaker; alternate user/assistant by change of speaker."""
    merged: list[list[str]] = []
    for author, text in messages:
        if merged and merged[-1][0] == author:
            merged[-1][1] += "\n" + text
        else:
            merged.append([author, text])
    return [("user" if i % 2 == 0 else "assistant", text) for i, (_, text) in enumerate(merged)]


def parse_discord(
    path: Path,
    *,
    salt: str,
    gap: timedelta = timedelta(minutes=30),
    stats: dict[str, int] | None = None,
) -> Iterator[Sample]:
    stats = stats if stats is not None else {}
    people = Pseudonyms(salt)
    open_convs: dict[str, _Conversation] = {}
    by_message: dict[str, str] = {}
    current: _Conversation | None = None
    channel = "discord"

    def close(conv: _Conversation) -> Sample | None:
        for mid in conv.ids:
            by_message.pop(mid, None)
        open_convs.pop(conv.id, None)
        turns = _turns(conv.messages)
        if len(turns) < 2:
            stats["single_speaker_conversations"] = stats.get("single_speaker_conversations", 0) + 1
            return None
        return Sample(
            id=conv.id,
            kind="conversation",
            turns=turns,
            meta={"source": channel, "messages": len(conv.messages)},
        )

    try:
        with path.open("rb") as fh:
            for prefix, event, value in ijson.parse(fh, use_float=True):
                if prefix == "channel.name" and event == "string":
                    channel = f"discord:{value}"
                if prefix == "messages" and event == "start_array":
                    break
            fh.seek(0)
            for message in ijson.items(fh, "messages.item", use_float=True):
                stats["messages"] = stats.get("messages", 0) + 1
                author = message.get("author") or {}
                if author.get("isBot"):
                    stats["dropped_bot"] = stats.get("dropped_bot", 0) + 1
                    continue
                if str(message.get("type", "Default")) not in KEEP_TYPES:
                    stats["dropped_system"] = stats.get("dropped_system", 0) + 1
                    continue
                text = _text(message, people)
                if not text:
                    stats["dropped_empty"] = stats.get("dropped_empty", 0) + 1
                    continue
                when = datetime.fromisoformat(message["timestamp"])
                for conv in [c for c in open_convs.values() if when - c.last > gap]:
                    if (sample := close(conv)) is not None:
                        yield sample
                    if conv is current:
                        current = None
                ref = (message.get("reference") or {}).get("messageId")
                conv = open_convs.get(by_message.get(str(ref), "")) if ref else None
                if conv is None:
                    if current is None or current.id not in open_convs:
                        current = _Conversation(id=f"{channel}:{message['id']}", last=when)
                        open_convs[current.id] = current
                    conv = current
                conv.messages.append((people.of(str(author.get("id", ""))), text))
                conv.last = when
                conv.ids.add(str(message["id"]))
                by_message[str(message["id"])] = conv.id
    except (ijson.JSONError, ValueError, KeyError) as exc:
        raise SourceRefused(f"invalid Discord export: {exc}") from None
    for conv in list(open_convs.values()):
        if (sample := close(conv)) is not None:
            yield sample
