"""Dedup at both grains: repeated exchanges in a conversation, repeated rows in a dataset."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np

from aegis_core.refine import dedup
from aegis_core.refine.parsers.discord import parse_discord
from aegis_core.refine.pipeline import refine
from aegis_core.refine.records import Sample
from tests.utils.samples import DiscordExport

SENTENCES = [
    "Open the settings page and choose the network tab near the bottom of the list.",
    "The router restarts by itself when the firmware update finishes downloading.",
    "Our billing team sends the corrected invoice within two working days.",
    "You can export the report as a spreadsheet from the menu in the top corner.",
    "Make sure the cable is plugged into the port marked with the yellow label.",
    "The mobile app keeps your drafts even when the phone loses its connection.",
    "Delete the cache folder and sign in again to load the new permissions.",
    "A refund goes back to the card you paid with, never to a different one.",
    "The printer needs a new drum after roughly twelve thousand printed pages.",
    "Scheduled backups run every night and keep the last thirty copies of each file.",
    "If the screen stays black, hold the power button for fifteen seconds.",
    "Shared folders inherit the permissions of the team that created them.",
    "The warehouse ships orders placed before noon on the same working day.",
    "Two-factor codes expire after thirty seconds, so type them in quickly.",
    "The trial turns into a paid plan only after you confirm it on the billing page.",
    "Old versions of the desktop client stop syncing at the end of the month.",
    "Large attachments are stored as links so the mailbox does not fill up.",
    "The meeting room display connects to laptops over the adapter in the drawer.",
    "Password resets are sent to the recovery address you set up when joining.",
    "Our support desk answers tickets in the order they arrive, weekends included.",
]
GREETING = "Hi there, thanks for reaching out to the support team about this issue today."
SIGNOFF = "Let us know if anything else comes up and have a great rest of your week."


def _edit(rng: random.Random, text: str, rate: float) -> str:
    """Scattered word edits (drop, replace, insert) at about `rate` of the words."""
    out = []
    for word in text.split():
        r = rng.random()
        if r < rate / 3:
            continue
        if r < 2 * rate / 3:
            out.append(rng.choice(["quickly", "also", "then", "really", "now"]))
            continue
        out.append(word)
        if r < rate:
            out.append(rng.choice(["please", "maybe", "again", "still"]))
    return " ".join(out)


FUNCTION_WORDS = ["the", "a", "to", "of", "and", "in", "on", "for", "with", "after", "when"]


def _sentences(rng: random.Random, n: int) -> list[str]:
    """`n` distinct prose-like sentences: function words between content words drawn from a
    large made-up vocabulary, so sentences share words but rarely three in a row."""
    letters = "abcdefghijklmnoprstuvwy"
    vocabulary = sorted({"".join(rng.choices(letters, k=rng.randint(3, 9))) for _ in range(3000)})
    out: set[str] = set()
    while len(out) < n:
        words = [
            rng.choice(FUNCTION_WORDS) if i % 2 else rng.choice(vocabulary)
            for i in range(rng.randint(9, 15))
        ]
        out.add(" ".join(words).capitalize() + ".")
    return sorted(out)


def labelled_pairs(seed: int = 3, n: int = 60) -> tuple[list[str], list[str]]:
    """Near duplicates (edited copies) and hard negatives (same greeting, sign-off and two
    shared sentences, different substance), as one list: pairs are items 2i and 2i+1."""
    rng = random.Random(seed)
    pool = _sentences(rng, 11 * n)
    rng.shuffle(pool)
    near, hard = [], []
    for i in range(n):
        mine = pool[11 * i : 11 * (i + 1)]
        body = " ".join(mine[:5])
        near += [body, _edit(rng, body, 0.02)]
        shared, a, b = mine[5:7], mine[7:9], mine[9:11]
        hard += [
            " ".join([GREETING, shared[0], *a, shared[1], SIGNOFF]),
            " ".join([GREETING, shared[0], *b, shared[1], SIGNOFF]),
        ]
    return near, hard


def _exact_jaccard(a: str, b: str) -> float:
    sa, sb = (np.unique(dedup.shingles(dedup.simplify(t))) for t in (a, b))
    return dedup.jaccard(sa, sb)


def test_estimated_jaccard_tracks_the_exact_one() -> None:
    near, hard = labelled_pairs()
    for texts in (near, hard):
        for a, b in zip(texts[::2], texts[1::2], strict=True):
            ha, hb = (np.unique(dedup.shingles(dedup.simplify(t))) for t in (a, b))
            sa, sb = dedup.minhash(ha).astype(np.uint8), dedup.minhash(hb).astype(np.uint8)
            estimate = dedup.estimated_jaccard(sa, sb[None, :])[0]
            assert abs(estimate - dedup.jaccard(ha, hb)) < 0.12


def test_edited_copies_go_and_template_sharing_pairs_stay() -> None:
    near, hard = labelled_pairs()
    assert min(_exact_jaccard(a, b) for a, b in zip(hard[::2], hard[1::2], strict=True)) > 0.2
    keep = dedup.unique_mask(near + hard)
    near_keep, hard_keep = keep[: len(near)], keep[len(near) :]
    assert all(near_keep[::2]) and not any(near_keep[1::2])  # first kept, copy dropped
    assert all(hard_keep)  # no hard negative merged


def test_template_pairs_collide_in_lsh_and_survive_verification() -> None:
    """The pairs meet as LSH candidates (so banding alone would drop them); the estimated
    Jaccard is what keeps them."""
    _, hard = labelled_pairs(seed=4)
    collided = 0
    d = dedup.Deduplicator()
    for i, text in enumerate(hard):
        values = dedup.minhash(np.unique(dedup.shingles(dedup.simplify(text))))
        collided += i % 2 == 1 and d.bands.candidates(dedup.band_keys(values)).size > 0
        assert d.is_duplicate(str(i), text) is None
    assert collided >= 5


def test_exact_duplicates_after_normalisation() -> None:
    text = "The router restarts by itself when the firmware update finishes, in 2 minutes."
    variants = [text, text.upper(), text.replace(",", " ;"), text.replace("2", "3")]
    assert dedup.unique_mask(variants) == [True, False, False, False]
    d = dedup.Deduplicator()
    assert [d.is_duplicate(str(i), t) for i, t in enumerate(["ok then", "OK, then!"])] == [
        None,
        "exact",
    ]  # too short to shingle: judged exactly only


def test_repeated_exchanges_inside_a_conversation() -> None:
    q, a = "How do I reset the router in the office?", SENTENCES[10] + " " + SENTENCES[1]
    turns = [
        ("user", q),
        ("assistant", a),
        ("user", "And how do I get a refund for the broken adapter?"),
        ("assistant", SENTENCES[7]),
        ("user", q.upper()),  # exact after normalisation
        ("assistant", a),
        ("user", q),
        ("assistant", a.replace("fifteen", "fifteen long")),  # near
    ]
    kept, exact, near = dedup.dedup_exchanges(turns)
    assert kept == turns[:4] and (exact, near) == (1, 1)
    assert dedup.dedup_exchanges(turns[:2]) == (turns[:2], 0, 0)


def test_band_index_grows_without_losing_or_inventing_keys() -> None:
    rng = np.random.default_rng(3)
    index = dedup.BandIndex(3, capacity=8)
    kept = rng.integers(0, 2**32, size=(3000, 3), dtype=np.uint32)
    for value, keys in enumerate(kept):
        index.add(keys, value)
    assert index.capacity >= 6000  # grew, staying at most half full
    assert all(index.candidates(keys).tolist() == [v] for v, keys in enumerate(kept))
    strangers = rng.integers(0, 2**32, size=(3000, 3), dtype=np.uint32)
    assert sum(index.candidates(keys).size for keys in strangers) <= 3  # 32-bit collisions
    assert index.candidates(np.array([0, 0, kept[5][2]], np.uint32)).tolist() == [5]


def test_the_same_qa_four_times_in_a_thread_and_again_later(tmp_path: Path) -> None:
    """The issue's export: one row holding a Q&A four times, and the Q&A again as a row."""
    export = DiscordExport()
    alice, bob = export.person(1, "alice"), export.person(2, "bob")
    q = "How do I get the nightly backup to keep more than thirty copies of each file?"
    a = "Open the backup settings and raise the retention from thirty to the number you want."
    last = None
    for i in range(4):
        last = export.say(alice, q, 300 * i, reply_to=last)
        last = export.say(bob, a + (" " * i), 300 * i + 60, reply_to=last)
    later = export.say(alice, q, 4 * 3600)
    export.say(bob, a, 4 * 3600 + 60, reply_to=later)
    other = export.say(alice, "Can the warehouse ship my order before noon today?", 8 * 3600)
    export.say(bob, SENTENCES[12] + " " + SENTENCES[7], 8 * 3600 + 60, reply_to=other)
    samples = parse_discord(export.write(tmp_path / "export.json"), salt="s")
    out = tmp_path / "out.jsonl"
    stats = refine(samples, description="Support", fmt="chatml", out_path=out)
    rows = [json.loads(line)["messages"] for line in out.read_text().splitlines()]
    assert [[m["role"] for m in row] for row in rows] == [["system", "user", "assistant"]] * 2
    assert stats.dedup == {
        "kept": 2,
        "exchange_exact": 3,
        "exchange_near": 0,
        "conversation_exact": 1,
        "conversation_near": 0,
    }


def test_a_near_duplicate_row_is_reported_at_the_conversation_grain(tmp_path: Path) -> None:
    near, hard = labelled_pairs(seed=6, n=3)
    rows = [
        Sample(str(i), "conversation", turns=[("user", "What should I do next?"), ("assistant", t)])
        for i, t in enumerate(near + hard)
    ]
    stats = refine(iter(rows), description="d", fmt="sharegpt", out_path=tmp_path / "o.jsonl")
    unchanged = sum(a == b for a, b in zip(near[::2], near[1::2], strict=True))
    assert stats.rows == 9 and stats.dedup["conversation_exact"] == unchanged
    assert stats.dedup["conversation_near"] == 3 - unchanged > 0


def test_a_batch_is_judged_as_one_row_at_a_time() -> None:
    near, hard = labelled_pairs(seed=7, n=20)
    texts = near + hard + near[:6]  # duplicates inside one batch and against earlier ones
    one_by_one = dedup.Deduplicator()
    expected = [one_by_one.is_duplicate(str(i), t) for i, t in enumerate(texts)]
    batched = dedup.Deduplicator()
    got = batched.check_many(texts[:50]) + batched.check_many(texts[50:])
    assert got == expected and expected.count("exact") >= 6 and "near" in expected
    assert batched.counts == one_by_one.counts


def test_a_batch_hashes_each_text_as_alone() -> None:
    """Empty and one-word texts between others: no bigram crosses a text's edge."""
    rng = random.Random(3)
    for _ in range(300):
        texts = [
            " ".join(rng.choice(["a", "bb", "c d", "e", "Ünï"]) for _ in range(rng.randint(0, 5)))
            for _ in range(rng.randint(1, 7))
        ]
        digests, bigrams, offsets, shingled = dedup._hashed(texts)
        assert shingled == [i for i, t in enumerate(texts) if len(dedup.simple_words(t)) >= 2]
        for row, i in enumerate(shingled):
            alone = dedup.shingles(dedup.simplify(texts[i]))
            assert np.array_equal(bigrams[int(offsets[row]) : int(offsets[row + 1])], alone)
        same = [[dedup.simplify(a) == dedup.simplify(b) for b in texts] for a in texts]
        assert [[a == b for b in digests] for a in digests] == same
