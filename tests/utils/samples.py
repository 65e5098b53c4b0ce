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


class DiscordExport:
    """Builds a DiscordChatExporter export message by message (the fields it writes)."""

    def __init__(self, start: datetime | None = None, channel: str = "help") -> None:
        self.start = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        self.channel = channel
        self.messages: list[dict] = []

    @staticmethod
    def person(n: int, name: str, is_bot: bool = False) -> dict:
        return {
            "id": str(100000000000000000 + n),
            "name": name,
            "nickname": name.title(),
            "isBot": is_bot,
        }

    def say(
        self,
        author: dict,
        content: str,
        seconds: float,
        *,
        kind: str = "Default",
        reply_to: str | None = None,
        mentions: tuple[dict, ...] = (),
    ) -> str:
        """Posts `content` `seconds` after the start; returns the message id."""
        m = {
            "id": str(900000000000000000 + len(self.messages) + 1),
            "type": "Reply" if reply_to and kind == "Default" else kind,
            "timestamp": (self.start + timedelta(seconds=seconds)).isoformat(),
            "content": content,
            "author": author,
            "mentions": list(mentions),
            "attachments": [],
            "embeds": [],
            "reactions": [],
        }
        if reply_to:
            m["reference"] = {"messageId": reply_to, "channelId": "1", "guildId": "2"}
        self.messages.append(m)
        return m["id"]

    def write(self, path: Path) -> Path:
        doc = {
            "guild": {"id": "2", "name": "Support"},
            "channel": {"id": "1", "type": "GuildTextChat", "name": self.channel},
            "dateRange": {"after": None, "before": None},
            "exportedAt": self.start.isoformat(),
            "messages": self.messages,
            "messageCount": len(self.messages),
        }
        path.write_text(json.dumps(doc, indent=2))
        return path


def discord_export(path: Path, conversations: int = 3, with_noise: bool = True) -> Path:
    """A DiscordChatExporter export with reply chains, bots, system messages and mentions."""
    export = DiscordExport()
    alice, bob = export.person(11, "alice"), export.person(22, "bob")
    bot = export.person(33, "helper-bot", is_bot=True)
    for c in range(conversations):
        t = 3 * 3600 * c
        q = export.say(
            alice,
            f"Hi @Bob, how do I reset the router in office {c}? It keeps dropping "
            "the connection every few minutes and the lights blink orange.",
            t,
            mentions=(bob,),
        )
        if with_noise:
            export.say(bot, "Reminder: read the FAQ!", t + 30)
            export.say(alice, "Joined the server.", t + 40, kind="GuildMemberJoin")
        a = export.say(
            bob,
            f"Hold the reset button for ten seconds, then wait for the lights to turn "
            f"green. That fixes the orange blinking in office {c} most of the time.",
            t + 120,
            reply_to=q,
        )
        export.say(
            alice,
            "Thanks, that worked and the connection is stable now. What caused it in "
            "the first place, do you know?",
            t + 300,
            reply_to=a,
        )
        export.say(
            bob,
            "Usually a firmware update that did not finish. The reset brings the router "
            "back to the last good firmware and settings from the factory.",
            t + 360,
        )
    return export.write(path)


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
