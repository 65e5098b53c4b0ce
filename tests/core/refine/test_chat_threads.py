"""Chat exports become conversations a trainer would keep: the right sides, no strays."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from aegis_core.refine.parsers import chat
from aegis_core.refine.parsers.discord import parse_discord
from tests.utils.samples import DiscordExport


def _parse(export: DiscordExport, tmp_path: Path) -> tuple[list, dict[str, int]]:
    stats: dict[str, int] = {}
    rows = list(parse_discord(export.write(tmp_path / "export.json"), salt="s", stats=stats))
    return rows, stats


def _roles(row) -> list[str]:
    return [role for role, _ in row.turns]


def test_an_unrelated_message_after_thanks_is_not_the_answer(tmp_path: Path) -> None:
    export = DiscordExport()
    alice, bob, carol, dave = (
        export.person(i, n) for i, n in enumerate(["alice", "bob", "carol", "dave"])
    )
    q = export.say(alice, "How do I reset the router? The lights blink orange all day.", 0)
    export.say(bob, "Hold the reset button on the router for ten seconds.", 60, reply_to=q)
    export.say(alice, "Thanks, that worked!", 90)
    c = export.say(carol, "Does the staging database restore from last night's backup?", 100)
    export.say(
        dave, "The staging database restores from the backup at two every night.", 160, reply_to=c
    )
    rows, stats = _parse(export, tmp_path)
    by_opener = {row.turns[0][1].split()[0]: row for row in rows}
    router = by_opener["How"]
    assert router.turns == [
        ("user", "How do I reset the router? The lights blink orange all day."),
        ("assistant", "Hold the reset button on the router for ten seconds."),
    ]
    assert _roles(by_opener["Does"]) == ["user", "assistant"]
    assert "staging" in by_opener["Does"].turns[1][1]
    assert stats["dropped_low_information"] == 1  # the thanks


def test_interleaved_threads_without_replies_join_by_topic(tmp_path: Path) -> None:
    export = DiscordExport()
    alice, bob, dave, erin = (
        export.person(i, n) for i, n in enumerate(["alice", "bob", "dave", "erin"])
    )
    export.say(alice, "My laptop battery drains overnight even when the lid is closed.", 0)
    export.say(dave, "Postgres queries on the orders table got slow after the migration.", 20)
    export.say(
        bob,
        "Check which app keeps the laptop awake; hibernate instead of sleep saves the battery.",
        50,
    )
    export.say(
        erin, "Run ANALYZE on the orders table; the migration dropped the planner statistics.", 70
    )
    export.say(alice, "Hibernate fixed the battery drain, but the laptop now boots slowly.", 400)
    export.say(
        bob, "Slow boots after hibernate are normal on that laptop; disable fast startup.", 460
    )
    rows, stats = _parse(export, tmp_path)
    assert len(rows) == 2 and stats["joined_by_topic"] == 4
    laptop = next(r for r in rows if "battery" in r.turns[0][1])
    orders = next(r for r in rows if "orders" in r.turns[0][1])
    assert _roles(laptop) == ["user", "assistant", "user", "assistant"]
    assert all("orders" not in text and "Postgres" not in text for _, text in laptop.turns)
    assert _roles(orders) == ["user", "assistant"] and "ANALYZE" in orders.turns[1][1]


def test_a_better_match_beats_an_open_question_sharing_common_words(tmp_path: Path) -> None:
    """A question asked as a statement keeps its answer, though another person's "?"
    question nearby shares a couple of common words with it."""
    export = DiscordExport()
    alice, heidi, bob = (export.person(i, n) for i, n in enumerate(["alice", "heidi", "bob"]))
    export.say(alice, "My shop laptop battery drains overnight with the lid closed.", 0)
    heidi_asks = "How do I reset the router? The lights keep blinking. It worked until last week."
    export.say(heidi, heidi_asks, 25)  # shares "keep" and "last" with the answer below
    export.say(
        bob, "Some app keeps the laptop awake; set the lid to hibernate and the battery lasts.", 55
    )
    rows, _ = _parse(export, tmp_path)
    assert [row.turns[0][1].split()[1] for row in rows] == ["shop"]
    assert "hibernate" in rows[0].turns[1][1]


def test_time_alone_joins_nothing(tmp_path: Path) -> None:
    export = DiscordExport()
    alice, bob = export.person(1, "alice"), export.person(2, "bob")
    export.say(alice, "Which cable do I need for the projector in room four?", 0)
    export.say(bob, "Anyone up for lunch at the noodle place downstairs today?", 15)
    rows, stats = _parse(export, tmp_path)
    assert rows == [] and stats["unanswered_conversations"] == 2


def test_a_newcomers_question_on_the_same_topic_is_their_own(tmp_path: Path) -> None:
    export = DiscordExport()
    alice, bob, carol, dave = (export.person(i, n) for i, n in enumerate(["a", "b", "c", "d"]))
    q = export.say(alice, "How do I reset the router when the lights blink orange?", 0)
    c = export.say(carol, "Is there a firmware update for this router model yet?", 30)
    export.say(bob, "Version 2.1 of the router firmware came out last week.", 60, reply_to=c)
    export.say(dave, "Hold the reset button for ten seconds.", 90, reply_to=q)
    rows, _ = _parse(export, tmp_path)
    assert sorted(row.turns for row in rows) == [
        [
            ("user", "How do I reset the router when the lights blink orange?"),
            ("assistant", "Hold the reset button for ten seconds."),
        ],
        [
            ("user", "Is there a firmware update for this router model yet?"),
            ("assistant", "Version 2.1 of the router firmware came out last week."),
        ],
    ]


def test_an_answer_that_cannot_be_placed_never_becomes_a_question(tmp_path: Path) -> None:
    export = DiscordExport()
    alice, bob = export.person(1, "alice"), export.person(2, "bob")
    export.say(alice, "How do I reset the router when the lights blink orange?", 0)
    export.say(bob, "Hold the button on the back for ten seconds.", 40)  # no shared word
    rows, stats = _parse(export, tmp_path)
    assert rows == [] and stats["dropped_unplaced"] == 1


def test_a_reply_that_reveals_a_misplaced_answer_drops_the_guess(tmp_path: Path) -> None:
    export = DiscordExport()
    alice, bob = export.person(1, "alice"), export.person(2, "bob")
    export.say(alice, "How do I reset the router when the lights blink orange?", 0)
    b = export.say(bob, "Hold the button on the back for ten seconds.", 300)  # opens its own
    export.say(alice, "That did it, but the router forgot the wifi name, why?", 400, reply_to=b)
    rows, stats = _parse(export, tmp_path)
    assert rows == []  # not Bob as the human and Alice answering him
    assert stats["dropped_doubtful_conversations"] == 1


def test_runs_merge_noise_goes_and_leading_mentions_are_stripped(tmp_path: Path) -> None:
    export = DiscordExport()
    alice, bob, carol = (export.person(i, n) for i, n in enumerate(["alice", "bob", "carol"]))
    q = export.say(alice, "The printer on floor two jams on every duplex job.", 0)
    export.say(alice, "It started after the toner swap yesterday.", 30)  # same author, 30 s
    for noise in [
        "lol",
        "!!!!!!!!!!!!!!!!!!!!",
        "\N{THUMBS UP SIGN}\N{FIRE}",
        "<:pepe:123456789>",
        "ok thanks",
        "+1",
        "https://example.com/x",
    ]:
        export.say(carol, noise, 40)
    a = export.say(
        bob,
        "@Alice open the duplex tray and reseat the toner; a loose cartridge jams the printer.",
        60,
        reply_to=q,
        mentions=(alice,),
    )
    export.say(alice, "lmaooo", 70, reply_to=a)
    rows, stats = _parse(export, tmp_path)
    assert [row.turns for row in rows] == [
        [
            (
                "user",
                "The printer on floor two jams on every duplex job.\n"
                "It started after the toner swap yesterday.",
            ),
            (
                "assistant",
                "open the duplex tray and reseat the toner; a loose cartridge jams the printer.",
            ),
        ]
    ]
    assert stats["dropped_low_information"] == 8 and stats["joined_by_author"] == 1


def test_a_long_thread_continues_as_a_new_row_with_the_same_sides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat, "MAX_TURNS", 4)
    export = DiscordExport()
    alice, bob = export.person(1, "alice"), export.person(2, "bob")
    last = None
    for i in range(4):
        last = export.say(
            alice, f"Question {i} about the kernel module build flags.", 100 * i, reply_to=last
        )
        last = export.say(
            bob,
            f"Answer {i}: set the kernel module build flags in Kbuild.",
            100 * i + 50,
            reply_to=last,
        )
    rows, _ = _parse(export, tmp_path)
    assert [_roles(r) for r in rows] == [["user", "assistant"] * 2] * 2
    assert rows[1].id.endswith("#2") and rows[1].turns[0][1].startswith("Question 2")


def test_an_endless_run_stops_growing_its_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat, "MAX_TURN_CHARS", 100)
    export = DiscordExport()
    alice, bob = export.person(1, "alice"), export.person(2, "bob")
    q = export.say(alice, "Why does the kernel module build fail with these flags?", 0)
    for i in range(6):
        export.say(
            bob, f"Step {i}: check the kernel module build flags in Kbuild.", 10 + i, reply_to=q
        )
    rows, stats = _parse(export, tmp_path)
    answer = rows[0].turns[1][1]
    assert answer.count("Kbuild") == 2 and stats["dropped_overlong_turn"] == 4


def test_content_words_drop_chatter_and_keep_topic() -> None:
    assert chat.content_words("Thanks, that worked!") == frozenset()
    assert chat.content_words("okkkk thx :) <a:party:1234> hahaha") == frozenset()
    assert chat.content_words("The lights keep Blinking") == {b"light", b"keep", b"blink"}
    assert chat.content_words("Die Lämpchen blinken") == {b"die", "lämpchen".encode(), b"blinken"}
    assert chat.strip_leading_mentions("@User_0a5983, @here try v2") == "try v2"
    assert chat.strip_leading_mentions("ask @User_0a5983") == "ask @User_0a5983"


TOPICS = [
    ["router", "firmware", "lights", "orange", "reset", "cable", "modem"],
    ["database", "index", "query", "postgres", "vacuum", "table", "planner"],
    ["printer", "toner", "duplex", "tray", "jam", "cartridge", "paper"],
    ["docker", "container", "image", "volume", "compose", "registry", "layer"],
    ["laptop", "battery", "hibernate", "charger", "screen", "keyboard", "lid"],
    ["invoice", "refund", "payment", "card", "receipt", "billing", "charge"],
    ["kubernetes", "pod", "node", "deployment", "ingress", "helm", "cluster"],
    ["python", "virtualenv", "package", "wheel", "import", "module", "pip"],
]
CHATTER = ["lunch", "pizza", "weather", "weekend", "movie", "coffee", "football"]
NOISE = ["lol", "ok", "thanks!", "\N{THUMBS UP SIGN}", "!!!!", "+1", "haha", "ok thanks"]


def _sentence(
    rng: random.Random, topic: list[str], tag: str, end: str = ".", about: str = ""
) -> str:
    """Three topic words; an answer repeats at least one word of its question (`about`)."""
    words = rng.sample([w for w in topic if w != about], 3 - bool(about)) + [about] * bool(about)
    return f"{tag}: the {words[0]} and the {words[1]} with {words[2]} again{end}"


def generated_channel(
    seed: int, threads: int = 40, replies: float = 0.5, anchored: bool = True
) -> tuple[DiscordExport, dict[str, tuple[int, str]]]:
    """Interleaved threads (some answers reply, some do not), strays and noise, with the
    ground truth of every kept message: its text -> (thread, role)."""
    rng = random.Random(seed)
    export = DiscordExport()
    people = [export.person(i, f"user{i}") for i in range(12)]
    bystanders = [export.person(i, f"user{i}") for i in range(12, 16)]
    truth: dict[str, tuple[int, str]] = {}
    events: list[tuple[float, int, str, dict, str | None]] = []
    for thread in range(threads):
        topic = TOPICS[thread % len(TOPICS)]
        start = thread * 400.0  # threads overlap in time: each runs ~15 minutes
        opener, *answerers = rng.sample(people, 3)
        t, n = start, 0
        for step in range(rng.randint(1, 3)):
            n += 1
            ask = _sentence(rng, topic, f"q{thread}.{n}", "?")
            truth[ask] = (thread, "user")
            follow_up_reply = step and rng.random() < replies  # to the last answer
            events.append((t, thread, ask, opener, "reply" if follow_up_reply else None))
            for answerer in answerers[: rng.randint(1, 2)]:
                n += 1
                t += rng.uniform(20, 200)
                about = ask.split()[2] if anchored else ""
                answer = _sentence(rng, topic, f"a{thread}.{n}", about=about)
                truth[answer] = (thread, "assistant")
                events.append(
                    (t, thread, answer, answerer, "reply" if rng.random() < replies else None)
                )
            t += rng.uniform(20, 200)
        stray = rng.choice(bystanders)  # never in a thread (see the unit tests for that)
        chatter = f"s{thread}: the {rng.choice(CHATTER)}{thread} was great."
        if thread % 2:  # a question from someone else in the same minutes: not an answer
            chatter = f"s{thread}: anyone seen {rng.choice(CHATTER)}{thread}?"
        events.append((start + rng.uniform(0, 300), -1, chatter, stray, None))
        events.append((start + rng.uniform(0, 300), -1, rng.choice(NOISE), stray, None))
    last_in_thread: dict[int, str] = {}
    for t, thread, text, author, reply in sorted(events, key=lambda e: e[0]):
        ref = last_in_thread.get(thread) if reply else None
        last_in_thread[thread] = export.say(author, text, t, reply_to=ref)
    return export, truth


def check_sides(rows: list, truth: dict[str, tuple[int, str]]) -> tuple[int, set[int]]:
    """Rows with a turn on the wrong side (a question as an answer, an answer as a question,
    a stray as an answer, or an answer to a question not in the row); threads recovered."""
    wrong, recovered = 0, set()
    for row in rows:
        lines = [(role, line) for role, text in row.turns for line in text.split("\n")]
        found = [(role, *truth.get(line, (-1, "stray"))) for role, line in lines]
        asked = {thread for role, thread, side in found if side == "user"}
        answered = {thread for role, thread, side in found if role == "assistant"}
        if any(side != role and side != "stray" for role, _, side in found) or not (
            answered <= asked and -1 not in answered
        ):
            wrong += 1
        else:
            recovered |= answered
    return wrong, recovered


@pytest.mark.parametrize(("seed", "replies"), [(5, 0.5), (6, 0.5), (7, 0.2), (8, 0.0)])
def test_generated_channel_has_no_turn_on_the_wrong_side(
    tmp_path: Path, seed: int, replies: float
) -> None:
    export, truth = generated_channel(seed, replies=replies)
    rows, _ = _parse(export, tmp_path)
    wrong, recovered = check_sides(rows, truth)
    assert wrong == 0
    assert len(recovered) >= 36  # nearly every thread comes out (by reply or by topic)
