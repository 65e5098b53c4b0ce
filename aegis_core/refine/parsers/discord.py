"""DiscordChatExporter JSON -> conversations, streamed.

Messages are read one at a time (ijson), so a 1 GB export never sits in memory. Bots and
system messages (joins, pins, calls, ...) are dropped. People become stable pseudonyms,
keyed by a per-job salt, in mentions as well as in author names. Which messages form a
conversation, and who is the human in it, is decided by `chat.Threader` (see its rules):
by reply reference (`reference.messageId`), author continuity or topical continuity,
never by time alone.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import ijson

from aegis_core.errors import SourceRefused
from aegis_core.refine.parsers.chat import ChatMessage, Threader
from aegis_core.refine.records import Sample

KEEP_TYPES = {"Default", "Reply", "0", "19"}
RAW_MENTION = re.compile(r"<@!?(\d{15,21})>")


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
    for user in message.get("mentions") or ():
        alias = people.of(str(user.get("id", "")))
        for name in {user.get("nickname"), user.get("name")} - {None, ""}:
            text = text.replace(f"@{name}", f"@{alias}")
    if "<@" in text:
        text = RAW_MENTION.sub(lambda m: f"@{people.of(m.group(1))}", text)
    return text.strip()


def parse_discord(
    path: Path,
    *,
    salt: str,
    gap: timedelta = timedelta(minutes=30),
    stats: dict[str, int] | None = None,
) -> Iterator[Sample]:
    stats = stats if stats is not None else {}
    people = Pseudonyms(salt)
    channel = "discord"
    try:
        with path.open("rb") as fh:
            for prefix, event, value in ijson.parse(fh, use_float=True):
                if prefix == "channel.name" and event == "string":
                    channel = f"discord:{value}"
                if prefix == "messages" and event == "start_array":
                    break
            fh.seek(0)
            threads = Threader(channel, stats, gap=gap)
            counts: Counter[str] = Counter()  # into `stats` at the end (cheaper per message)
            try:
                for message in ijson.items(fh, "messages.item", use_float=True):
                    counts["messages"] += 1
                    author = message.get("author") or {}
                    if author.get("isBot"):
                        counts["dropped_bot"] += 1
                        continue
                    if str(message.get("type", "Default")) not in KEEP_TYPES:
                        counts["dropped_system"] += 1
                        continue
                    text = _text(message, people)
                    if not text:
                        counts["dropped_empty"] += 1
                        continue
                    ref = (message.get("reference") or {}).get("messageId")
                    closed = threads.add(
                        ChatMessage(
                            str(message["id"]),
                            people.of(str(author.get("id", ""))),
                            text,
                            datetime.fromisoformat(message["timestamp"]).timestamp(),
                            str(ref) if ref else None,
                        )
                    )
                    if closed:
                        yield from closed
            finally:
                for key, value in counts.items():
                    stats[key] = stats.get(key, 0) + value
    except (ijson.JSONError, ValueError, KeyError) as exc:
        raise SourceRefused(f"invalid Discord export: {exc}") from None
    yield from threads.finish()
