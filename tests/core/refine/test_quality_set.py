"""The project side of the labelled evaluation set (bench/quality_set.py) meets the targets.

The same figures `bench/quality.py` prints next to datatrove's; here without datatrove, so
a regression in PII masking, dedup, the quality filter or chat threading fails CI.
"""

from __future__ import annotations

import pytest

from bench.quality import Side, project_side


@pytest.fixture(scope="module")
def side() -> Side:
    return project_side()


def test_pii_recall_and_placeholders_on_every_type(side: Side) -> None:
    for subtype, m in side.pii.items():
        assert m["recall"] >= 0.99, (subtype, m)
        assert m["placeholder"] >= 0.97, (subtype, m)


def test_pii_precision_and_near_misses(side: Side) -> None:
    assert all(p >= 0.99 for p in side.pii_precision.values()), side.pii_precision
    assert all(kept == 1.0 for kept in side.near_misses.values()), side.near_misses


def test_near_duplicates_found(side: Side) -> None:
    assert side.dedup["f1"] >= 0.97, side.dedup


def test_no_hard_negative_merged(side: Side) -> None:
    assert side.dedup["hard_negatives_merged"] == 0, side.dedup


def test_filler_dropped_and_prose_kept(side: Side) -> None:
    assert side.filters["filler_dropped"] >= 0.95, side.filters
    assert side.filters["prose_dropped"] <= 0.02, side.filters


def test_chat_rows_keep_their_sides_and_load(side: Side) -> None:
    chats = side.chats
    assert chats["rows_wrong_side"] == 0, chats
    assert chats["rows_with_noise"] == 0, chats
    assert chats["repeated_exchanges_left"] == 0, chats
    assert chats["rows_written"] > 0 and chats["rows_loaded"] == 1.0, chats


def test_no_chat_row_mixes_two_conversations(side: Side) -> None:
    assert side.chats["rows_with_stray_message"] == 0, side.chats
