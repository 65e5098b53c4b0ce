"""Sources of every format, built by the tests themselves."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

PARAGRAPH = (
    "The installer copies the program files to your computer and creates a shortcut "
    "on the desktop. It checks that there is enough disk space before it starts, and "
    "it asks for permission when the program folder is protected by the system."
)


def discord_export(path: Path, conversations: int = 3, with_noise: bool = True) -> Path:
    """A DiscordChatExporter export with reply chains, bots, system messages and mentions."""
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    messages, n = [], 0
    alice = {"id": "111111111111111111", "name": "alice", "nickname": "Alice", "isBot": False}
    bob = {"id": "222222222222222222", "name": "bob", "nickname": "Bob", "isBot": False}
    bot = {"id": "333333333333333333", "name": "helper-bot", "nickname": "Bot", "isBot": True}

    def msg(author, content, when, kind="Default", ref=None, mentions=()):
        nonlocal n
        n += 1
        m = {
            "id": str(900000000000000000 + n),
            "type": kind,
            "timestamp": when.isoformat(),
            "content": content,
            "author": author,
            "mentions": list(mentions),
            "attachments": [],
            "embeds": [],
            "reactions": [],
        }
        if ref:
            m["reference"] = {"messageId": ref, "channelId": "1", "guildId": "2"}
        messages.append(m)
        return m["id"]

    for c in range(conversations):
        t = start + timedelta(hours=3 * c)
        q = msg(
            alice,
            f"Hi @Bob, how do I reset the router in office {c}? It keeps dropping "
            "the connection every few minutes and the lights blink orange.",
            t,
            mentions=[bob],
        )
        if with_noise:
            msg(bot, "Reminder: read the FAQ!", t + timedelta(seconds=30))
            msg(alice, "Joined the server.", t + timedelta(seconds=40), kind="GuildMemberJoin")
        a = msg(
            bob,
            f"Hold the reset button for ten seconds, then wait for the lights to turn "
            f"green. That fixes the orange blinking in office {c} most of the time.",
            t + timedelta(minutes=2),
            kind="Reply",
            ref=q,
        )
        msg(
            alice,
            "Thanks, that worked and the connection is stable now. What caused it in "
            "the first place, do you know?",
            t + timedelta(minutes=5),
            kind="Reply",
            ref=a,
        )
        msg(
            bob,
            "Usually a firmware update that did not finish. The reset brings the router "
            "back to the last good firmware and settings from the factory.",
            t + timedelta(minutes=6),
        )
    doc = {
        "guild": {"id": "2", "name": "Support"},
        "channel": {"id": "1", "type": "GuildTextChat", "name": "help"},
        "dateRange": {"after": None, "before": None},
        "exportedAt": start.isoformat(),
        "messages": messages,
        "messageCount": len(messages),
    }
    path.write_text(json.dumps(doc, indent=2))
    return path


def html_page(path: Path) -> Path:
    path.write_text(f"""<!doctype html><html><head><title>Guide</title></head><body>
<nav>Home | About | Contact</nav><p>Skip to content</p>
<h1>Installing the program</h1><p>{PARAGRAPH}</p>
<h2>Removing the program</h2><p>To remove the program, open the settings, choose the list of
installed applications and select uninstall. The uninstaller removes the files and the
shortcut, and it keeps your documents in place so that nothing you made is lost.</p>
<footer>© 2026 Example Corp. All rights reserved.</footer></body></html>""")
    return path


def markdown_doc(path: Path) -> Path:
    path.write_text(
        f"# Setup guide\n\n{PARAGRAPH}\n\n## Updating\n\nUpdates arrive every month "
        "and install themselves in the background. You can check the version in "
        "the about box, and you can ask for an update at any time from the menu.\n"
    )
    return path


def text_doc(path: Path) -> Path:
    path.write_text(
        f"SETUP\n\n{PARAGRAPH}\n\nSUPPORT\n\nWrite to the help desk if the program "
        "does not start after the installation, and include the version number "
        "and a short description of what you were doing when it failed.\n"
    )
    return path


def pdf_doc(path: Path) -> Path:
    from weasyprint import HTML

    body = "".join(
        f"<h1>Chapter {i}</h1><p>{PARAGRAPH} Chapter {i} explains step {i} of "
        "the process in detail for new users.</p><div style='page-break-after: always'>"
        "</div>"
        for i in range(1, 4)
    )
    HTML(string=f"<html><body>{body}</body></html>").write_pdf(str(path))
    return path


def jsonl_records(path: Path) -> Path:
    rows = [
        {
            "messages": [
                {
                    "role": "user",
                    "content": "How long does shipping take to Canada for a standard parcel?",
                },
                {
                    "role": "assistant",
                    "content": "A standard parcel to Canada takes five "
                    "to eight working days, and you get a tracking number by email.",
                },
            ]
        },
        {
            "conversations": [
                {"from": "human", "value": "Can I change the delivery address after I ordered?"},
                {
                    "from": "gpt",
                    "value": "Yes, as long as the parcel has not left "
                    "the warehouse; write to support with the order number.",
                },
            ]
        },
        {
            "question": "Do you ship on weekends?",
            "answer": "No, parcels leave the warehouse "
            "from Monday to Friday, and orders placed on the weekend ship on Monday.",
        },
        {
            "title": "Returns",
            "text": "You can return any item within thirty days of delivery. "
            "Pack it in the original box and print the label from "
            "your account page; the refund follows within a week.",
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def json_records(path: Path) -> Path:
    rows = [
        json.loads(line)
        for line in jsonl_records(path.with_suffix(".tmp")).read_text().splitlines()
    ]
    path.write_text(json.dumps({"data": rows}))
    return path
