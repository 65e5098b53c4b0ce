"""The quality filter: filler goes, prose stays (labelled cases written for these rules)."""

from __future__ import annotations

import pytest

from aegis_core.refine import quality
from aegis_core.refine.pipeline import DEFAULT_QUALITY_THRESHOLD
from tests.utils.samples import PARAGRAPH

FILLER = [
    (
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
        "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
        "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.",
        "lorem_ipsum",
    ),
    (  # the Cicero words that Faker-style generators draw, without "lorem ipsum" itself
        "Quia et voluptatem accusantium doloremque. Nemo enim ipsam voluptatem quia voluptas "
        "sit aspernatur aut odit aut fugit, sed quia consequuntur magni dolores eos qui "
        "ratione voluptatem sequi nesciunt.",
        "lorem_ipsum",
    ),
    (
        "Insert your text here. Click to edit this text. Your content goes here. Sample text. "
        "Coming soon. Add a short description of your product here.",
        "template_filler",
    ),
    (
        "Zunor yortarnor mifensmevex vexvex norgak normi gakwublo minorsmezu qua sme",
        "no_stop_words",
    ),
    ("😂😂 🎉🎉🎉 😂😂 ✨✨✨✨ ❤️❤️ 😂😂 ✨✨✨ 🚀🚀 🔥🔥🔥🔥 ❤️❤️ ✨✨✨ 🔥🔥🔥 👍👍", "non_alpha"),
    ("cheap flights best price cheap hotels best price cheap flights top deals cheap hotels", None),
]
PROSE = [
    PARAGRAPH,
    "Designers often fill a page with lorem ipsum before the real copy arrives; replace it "
    "before you publish, or search engines will index the placeholder.",
    "Wenn der Drucker nicht mehr reagiert, schalte ihn für eine Minute aus und dann wieder "
    "ein. Meistens liegt es an einem Auftrag, der in der Warteschlange hängt.",
    "La réunion de lundi est reportée à mercredi parce que la salle est en travaux. Nous "
    "enverrons l'ordre du jour demain matin.",
    "Run ANALYZE on the orders table; the migration dropped the planner statistics and the "
    "query went from forty milliseconds to twelve seconds.",
    "How do I export the report as a spreadsheet?\nOpen the report, click the three dots in "
    "the corner and choose export; the spreadsheet option is at the bottom.",
]


@pytest.mark.parametrize(("text", "rule"), FILLER)
def test_filler_is_dropped_by_the_rule_that_names_it(text: str, rule: str | None) -> None:
    value, worst = quality.score(text)
    assert value < DEFAULT_QUALITY_THRESHOLD, (value, worst)
    if rule:
        assert rule in quality.rule_penalties(text), quality.rule_penalties(text)


@pytest.mark.parametrize("text", PROSE)
def test_prose_is_kept(text: str) -> None:
    value, worst = quality.score(text)
    assert value >= 0.9, (value, worst)
