"""A malformed item is dropped and counted; it never costs the job its valid items."""

from __future__ import annotations

import json
from pathlib import Path

from aegis_core.refine.pipeline import TURN_MARKER, refine
from aegis_core.refine.records import Sample
from tests.utils.samples import PARAGRAPH

QUESTION = "My NAS will not boot after the firmware update, what should I check first?"
ANSWER = (
    "Check the boot order in the firmware settings and make sure the system disk is still "
    "listed first."
)


def _valid(sample_id: str, question: str = QUESTION, answer: str = ANSWER) -> Sample:
    return Sample(sample_id, "conversation", turns=[("user", question), ("assistant", answer)])


def test_empty_items_are_dropped_with_their_reason_and_the_rest_is_kept(tmp_path: Path) -> None:
    samples = [
        Sample("empty", "conversation", turns=[]),
        Sample("blank", "conversation", turns=[("user", "  "), ("assistant", "\n")]),
        Sample("no-text", "document", text="   "),
        _valid("ok"),
    ]
    out = tmp_path / "dataset.jsonl"
    stats = refine(iter(samples), description="Support", fmt="chatml", out_path=out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert stats.rows == len(rows) == 1
    assert stats.dropped == {"empty": 3}
    assert rows[0]["messages"][1:] == [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": ANSWER},
    ]


def test_a_rule_matching_across_turns_falls_back_to_turn_by_turn(tmp_path: Path) -> None:
    """A private-key block opened in one turn and closed in the next used to swallow the
    turn marker and kill the whole job; now the sample is cleaned turn by turn."""
    samples = [
        _valid(
            "split-key",
            question=f"{QUESTION}\n-----BEGIN PRIVATE KEY-----",
            answer=f"-----END PRIVATE KEY-----\n{ANSWER}",
        ),
        _valid(
            "marker",
            question=f"Why does the {TURN_MARKER} line show up in my exported chat logs?",
            answer="The exporter writes it between messages; remove it with a search and replace.",
        ),
        _valid("mail", question=PARAGRAPH, answer="Or mail ops@example.com and we will help."),
    ]
    out = tmp_path / "dataset.jsonl"
    stats = refine(iter(samples), description="Support", fmt="sharegpt", out_path=out)
    rows = [json.loads(line)["conversations"] for line in out.read_text().splitlines()]
    assert stats.rows == 3 and stats.dropped == {}
    assert [len(row) for row in rows] == [3, 3, 3]  # system, user, assistant: turns intact
    assert rows[0][1]["value"].endswith("-----BEGIN PRIVATE KEY-----")
    assert TURN_MARKER in rows[1][1]["value"]
    assert "[EMAIL]" in rows[2][2]["value"] and stats.pii_masked == {"EMAIL": 1}


def test_no_surviving_sample_leaves_no_dataset_file(tmp_path: Path) -> None:
    out = tmp_path / "dataset.jsonl"
    stats = refine(
        iter([Sample("empty", "conversation", turns=[]), _valid("short", "k", "ok")]),
        description="Support",
        fmt="chatml",
        out_path=out,
    )
    assert stats.rows == 0 and stats.dropped == {"empty": 1, "quality:too_short": 1}
    assert list(tmp_path.iterdir()) == []
