"""Cleaning, dedup, quality and output formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aegis_core.refine import clean, quality
from aegis_core.refine.dedup import Deduplicator
from aegis_core.refine.formats import InvalidRow, to_row, validate
from aegis_core.refine.pipeline import refine
from aegis_core.refine.records import Sample
from tests.utils.samples import PARAGRAPH


def test_normalize_and_boilerplate() -> None:
    text = "Skip to content\nHome | About | Contact\nＦｕｌｌ\u00a0width\x07 text\n\n\n\nEnd"
    cleaned, removed = clean.clean(text)
    assert cleaned == "Full width text\n\nEnd" and removed == 2


def test_repeated_headers_are_learned_and_removed() -> None:
    learner = clean.RepeatedLines()
    for i in range(6):
        learner.observe(f"ACME Corp Confidential\nbody {i}\nPage footer text")
    repeated = learner.repeated()
    assert "acme corp confidential" in repeated
    assert (
        clean.strip_boilerplate("ACME Corp Confidential\nreal content", repeated)[0]
        == "real content"
    )


def test_exact_and_near_duplicates() -> None:
    d = Deduplicator()
    base = PARAGRAPH + " " + PARAGRAPH.upper()
    assert d.is_duplicate("a", base) is None
    assert d.is_duplicate("b", base.replace("The", "the")) == "exact"
    near = base.replace("desktop", "start menu")
    assert d.is_duplicate("c", near) == "near"
    assert (
        d.is_duplicate(
            "d",
            "Completely different text about shipping parcels to Canada "
            "and the time it takes for them to arrive.",
        )
        is None
    )
    assert d.counts == {"kept": 2, "exact_duplicates": 1, "near_duplicates": 1}


def test_quality_orders_good_text_above_junk() -> None:
    good, _ = quality.score(PARAGRAPH)
    junk, reason = quality.score("#### $$$ ### 1234 5678 ### ... ... ... #### !!!! 99 ## 77")
    short, short_reason = quality.score("ok thx")
    repeated, rep_reason = quality.score("buy now " * 40)
    assert good > 0.9 > 0.5 > junk and reason in {"symbols", "non_alpha"}
    assert short < 0.5 and short_reason == "too_short"
    assert repeated < 0.5 and rep_reason in {"repeated_ngram", "no_stop_words"}
    assert quality.histogram([0.05, 0.95, 1.0]) == [1, 0, 0, 0, 0, 0, 0, 0, 0, 2]


@pytest.mark.parametrize(
    "turns",
    [
        [("assistant", "hi"), ("user", "q")],
        [("user", "q")],
        [("user", "q"), ("user", "q2")],
        [("user", "q"), ("assistant", " ")],
        [("user", "q"), ("assistant", "a"), ("user", "q")],
    ],
)
def test_invalid_rows_are_refused(turns) -> None:
    with pytest.raises(InvalidRow):
        validate(turns)


def test_both_formats_as_trainers_read_them() -> None:
    turns = [("user", "q"), ("assistant", "a")]
    share = to_row(turns, "support data", "sharegpt")
    chat = to_row(turns, "support data", "chatml")
    assert share == {
        "conversations": [
            {"from": "system", "value": "support data"},
            {"from": "human", "value": "q"},
            {"from": "gpt", "value": "a"},
        ]
    }
    assert chat["messages"][0] == {"role": "system", "content": "support data"}
    assert [m["role"] for m in chat["messages"]] == ["system", "user", "assistant"]


def test_pipeline_writes_valid_jsonl_with_stats(tmp_path: Path) -> None:
    samples = [
        Sample(
            "a",
            "conversation",
            turns=[
                ("user", "How do I reset it? " + PARAGRAPH),
                ("assistant", "Email me at x@y.com. " + PARAGRAPH),
            ],
        ),
        Sample(
            "b",
            "conversation",
            turns=[
                ("user", "How do I reset it? " + PARAGRAPH),
                ("assistant", "Email me at x@y.com. " + PARAGRAPH),
            ],
        ),
        Sample("c", "document", text=PARAGRAPH, title="Installing", page=2),
        Sample("d", "conversation", turns=[("user", "k"), ("assistant", "ok")]),
    ]
    out = tmp_path / "out.jsonl"
    stats = refine(iter(samples), description="Support pairs", fmt="chatml", out_path=out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert stats.rows == len(lines) == 2
    assert stats.dedup["conversation_exact"] == 1 and stats.pii_masked == {"EMAIL": 2}
    assert stats.dropped == {"quality:too_short": 1}
    assert "[EMAIL]" in lines[0]["messages"][2]["content"]
    assert lines[1]["messages"][1]["content"] == 'What does the section "Installing" (page 2) say?'
    import hashlib

    assert stats.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
