"""A small DiscordChatExporter export for `aegis demo`: replies, a bot, a join message,
mentions and some PII, so every refinery step has something to do."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

PEOPLE = {
    "ana": {"id": "401234567890123456", "name": "ana", "nickname": "Ana", "isBot": False},
    "ben": {"id": "402345678901234567", "name": "ben", "nickname": "Ben", "isBot": False},
    "bot": {"id": "409999999999999999", "name": "modbot", "nickname": "ModBot", "isBot": True},
}
THREADS = [
    (
        "ana",
        "Hey @Ben, my build fails with 'permission denied' when the installer writes to the "
        "program folder. I already ran it twice. Any idea what is going on here?",
        "ben",
        "That happens when the folder belongs to another user. Run the installer from an "
        "admin shell, or change the owner of the folder to your account and try again.",
    ),
    (
        "ben",
        "How do I rotate the API key for the staging server? The old one is "
        "sk_live_51ExampleExampleExample and I think it leaked in a screenshot.",
        "ana",
        "Revoke it in the dashboard first, then create a new key and store it in the "
        "secrets manager. Never paste keys in chat; I will delete your message afterwards.",
    ),
    (
        "ana",
        "The nightly export to 203.0.113.40 stopped at two in the morning. Is the disk on "
        "that machine full again, or did the network change over the weekend?",
        "ben",
        "The disk was full. I removed old archives and the export runs again. I also set "
        "an alert so that we hear about it before the job stops the next time.",
    ),
    (
        "ben",
        "Can someone call the customer back at +1 415-555-0132 about the refund? They wrote "
        "to ben.customer@example.com as well and are waiting for an answer since Monday.",
        "ana",
        "I called them this morning and the refund went out today. They should see it on "
        "their statement within a few days, and I replied to the email as well.",
    ),
]


def write_demo_export(path: Path) -> Path:
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    messages, n = [], 0
    for i, (asker, question, answerer, answer) in enumerate(THREADS):
        t = start + timedelta(hours=4 * i)
        qid, aid = f"9100000000000000{n:02d}", f"9100000000000000{n + 1:02d}"
        mentions = [PEOPLE["ben"]] if "@Ben" in question else []
        messages += [
            {
                "id": qid,
                "type": "Default",
                "timestamp": t.isoformat(),
                "content": question,
                "author": PEOPLE[asker],
                "mentions": mentions,
            },
            {
                "id": f"9100000000000009{n:02d}",
                "type": "Default",
                "timestamp": (t + timedelta(seconds=20)).isoformat(),
                "content": "Please keep questions in the help channel.",
                "author": PEOPLE["bot"],
                "mentions": [],
            },
            {
                "id": aid,
                "type": "Reply",
                "timestamp": (t + timedelta(minutes=3)).isoformat(),
                "content": answer,
                "author": PEOPLE[answerer],
                "mentions": [],
                "reference": {"messageId": qid, "channelId": "1", "guildId": "2"},
            },
        ]
        n += 2
    messages.append(
        {
            "id": "910000000000000099",
            "type": "GuildMemberJoin",
            "timestamp": start.isoformat(),
            "content": "Joined the server.",
            "author": PEOPLE["ana"],
            "mentions": [],
        }
    )
    export = {
        "guild": {"id": "2", "name": "Aegis demo"},
        "channel": {"id": "1", "type": "GuildTextChat", "name": "help"},
        "dateRange": {"after": None, "before": None},
        "exportedAt": start.isoformat(),
        "messages": messages,
        "messageCount": len(messages),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(export, indent=2))
    return path
