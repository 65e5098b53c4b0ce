"""ShareGPT and ChatML rows, validated the way trainers read them.

A row is: one optional system turn first (the customer's description of the dataset),
then strictly alternating user/assistant turns, starting with the user and ending with
the assistant, every turn a non-empty string. Documents become instruction/answer pairs
derived deterministically (section title -> question, section text -> answer); this is
the stand-in until the Aegis-14B model resource writes the questions.
"""

from __future__ import annotations

from typing import Any

from aegis_core.refine.records import Sample, Turn

SHAREGPT_ROLES = {"system": "system", "user": "human", "assistant": "gpt"}
FORMATS = ("sharegpt", "chatml")


class InvalidRow(ValueError):
    pass


def document_turns(sample: Sample) -> list[Turn]:
    topic = sample.title or (sample.text.split(".")[0][:80] if sample.text else "this section")
    where = f" (page {sample.page})" if sample.page else ""
    return [("user", f'What does the section "{topic}"{where} say?'), ("assistant", sample.text)]


def conversation_turns(sample: Sample) -> list[Turn]:
    """Merge same-role runs, drop a leading assistant and a trailing user turn."""
    turns: list[list[str]] = []
    for role, text in sample.turns:
        if not text.strip():
            continue
        if turns and turns[-1][0] == role:
            turns[-1][1] += "\n" + text
        else:
            turns.append([role, text])
    while turns and turns[0][0] != "user":
        turns.pop(0)
    while turns and turns[-1][0] != "assistant":
        turns.pop()
    return [(r, t) for r, t in turns]


def validate(turns: list[Turn]) -> None:
    body = turns[1:] if turns and turns[0][0] == "system" else turns
    if len(body) < 2:
        raise InvalidRow("a row needs at least one user and one assistant turn")
    for i, (role, text) in enumerate(body):
        expected = "user" if i % 2 == 0 else "assistant"
        if role != expected:
            raise InvalidRow(f"turn {i} is {role}, expected {expected}")
        if not isinstance(text, str) or not text.strip():
            raise InvalidRow(f"turn {i} is empty")
    if body[-1][0] != "assistant":
        raise InvalidRow("the last turn must be the assistant's")


def to_row(turns: list[Turn], system: str | None, fmt: str) -> dict[str, Any]:
    full = ([("system", system)] if system else []) + turns
    validate(full)
    if fmt == "sharegpt":
        return {"conversations": [{"from": SHAREGPT_ROLES[r], "value": t} for r, t in full]}
    if fmt == "chatml":
        return {"messages": [{"role": r, "content": t} for r, t in full]}
    raise InvalidRow(f"unknown format {fmt!r}")


def row_turns(row: dict[str, Any]) -> list[Turn]:
    """Read a written row back (for checks): either format."""
    if "conversations" in row:
        back = {v: k for k, v in SHAREGPT_ROLES.items()}
        return [(back.get(m.get("from"), "?"), m.get("value")) for m in row["conversations"]]
    return [(m.get("role"), m.get("content")) for m in row.get("messages", [])]
