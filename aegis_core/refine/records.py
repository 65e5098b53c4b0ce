"""One record type flows through the refinery: a `Sample`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Turn = tuple[str, str]  # (role, text); role is "user" or "assistant"


@dataclass
class Sample:
    """A conversation (turns) or a document chunk (text with its title and page)."""

    id: str
    kind: str  # "conversation" | "document"
    turns: list[Turn] = field(default_factory=list)
    text: str = ""
    title: str | None = None
    page: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def all_text(self) -> str:
        return "\n".join(t for _, t in self.turns) if self.kind == "conversation" else self.text
