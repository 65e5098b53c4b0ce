"""The rules backend on measured features of real parsed sources, and its formulas' shape."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from aegis_core.loop.features import Features, measure
from aegis_core.loop.model import AegisModel, JobView
from aegis_core.loop.rules import RulesModel
from aegis_core.refine.chunks_io import write_samples
from aegis_core.refine.parsers import parse_source
from aegis_core.refine.service import JobFiles, files_for
from aegis_core.refine.sniff import sniff
from tests.utils.samples import PARAGRAPH

RULES = RulesModel()
PRICES = {"ocr": Decimal("0.05")}
VOCABULARY = (
    "the router keeps dropping connection after update and we tried reset cable modem office "
    "firmware settings password network light orange green blinking support ticket customer "
    "replaced power adapter still same problem every morning when people arrive at work so "
    "please check logs from last week because it is not stable yet thank you for help with "
    "this issue our team waits on a fix before friday meeting about new printers laptops"
)
WORDS = VOCABULARY.split()


def prepared(tmp_path: Path, source: Path) -> JobFiles:
    """A job's folder as fetch and parse leave it: source, source.json, chunks.parquet."""
    files = files_for(tmp_path, source.stem)
    files.root.mkdir(parents=True)
    shutil.copy(source, files.source)
    fmt = sniff(files.source)
    info = {"bytes": files.source.stat().st_size, "detected_format": fmt}
    files.source_info.write_text(json.dumps(info))
    write_samples(parse_source(files.source, fmt, salt="test"), files.chunks)
    return files


def sentence(rng: random.Random, n: int = 24) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def chat(path: Path, conversations: list[list[str]]) -> Path:
    rows = [
        {
            "messages": [
                {"role": "user" if i % 2 == 0 else "assistant", "content": text}
                for i, text in enumerate(turns)
            ]
        }
        for turns in conversations
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def clean_chat(rng: random.Random, n: int) -> list[list[str]]:
    return [[sentence(rng), sentence(rng)] for _ in range(n)]


def pdf_with_scans(path: Path, text_pages: int, scan_pages: int) -> Path:
    """Pages with a text layer, then pages holding only a drawing (what a scan looks like
    to a text extractor: no characters at all)."""
    from weasyprint import HTML

    brk = "<div style='page-break-after: always'></div>"
    text = "".join(f"<h1>Chapter {i}</h1><p>{PARAGRAPH}</p>{brk}" for i in range(text_pages))
    drawing = "<svg width='400' height='300'><rect width='400' height='300' fill='#777'/></svg>"
    HTML(string=f"<html><body>{text}{(drawing + brk) * scan_pages}</body></html>").write_pdf(
        str(path)
    )
    return path


def test_pdf_pages_without_text_route_to_ocr_and_propose_it_priced(tmp_path: Path) -> None:
    files = prepared(tmp_path, pdf_with_scans(tmp_path / "manual.pdf", 2, 3))
    features = measure(files)
    assert (features.pages, features.pages_without_text) == (5, 3)
    assert features.source_format == "pdf" and features.format_mix == {"document": 1.0}

    triage = RULES.triage(features)
    assert triage.route == "ocr_then_refine"
    assert "3 of 5 PDF pages have no text layer" in triage.reasons[0]
    (proposal,) = RULES.propose(
        features, RULES.score(features, triage), JobView("j", prices=PRICES)
    )
    assert (proposal.kind, proposal.units, proposal.unit) == ("ocr", 3, "page")
    assert proposal.amount == Decimal("0.15")
    # No price for OCR on this job: nothing is proposed.
    assert RULES.propose(features, RULES.score(features, triage), JobView("j")) == []

    text_only = measure(prepared(tmp_path, pdf_with_scans(tmp_path / "plain.pdf", 2, 0)))
    assert text_only.pages_without_text == 0
    assert RULES.triage(text_only).route == "refine"
    assert (
        RULES.propose(text_only, RULES.score(text_only, triage), JobView("j", prices=PRICES)) == []
    )
    scanned, plain = RULES.score(features, triage), RULES.score(text_only, triage)
    assert scanned.complexity_score > plain.complexity_score
    assert scanned.quality < plain.quality


def test_noisy_chat_scores_more_complex_and_lower_quality(tmp_path: Path) -> None:
    rng = random.Random(7)
    clean = clean_chat(rng, 40)
    noise = [
        ["### $$$ 12345 ### 99999 ### $$$ 00000 ###", "!!! 42 42 42 ### ..."],
        ["ok", "lol"],
        ["spam spam spam\nspam spam spam\nspam spam spam", "spam spam spam\nspam spam spam"],
    ]
    noisy = clean[:20] + clean[:10] + noise * 5  # exact repeats of conversations, and junk
    calm = measure(prepared(tmp_path, chat(tmp_path / "calm.jsonl", clean)))
    messy = measure(prepared(tmp_path, chat(tmp_path / "messy.jsonl", noisy)))

    assert calm.samples == calm.measured == 40
    assert calm.noise_ratio == 0.0 and calm.duplicate_rate == 0.0
    assert messy.noise_ratio >= 0.3  # 15 junk conversations of 45
    assert messy.duplicate_rate >= 10 / 45
    assert calm.language_mix == {"en": 1.0}
    for f in (calm, messy):
        assert RULES.triage(f).route == "refine"
    assert any("noise ratio" in r for r in RULES.triage(messy).reasons)

    calm_score = RULES.score(calm, RULES.triage(calm))
    messy_score = RULES.score(messy, RULES.triage(messy))
    assert messy_score.complexity_score > calm_score.complexity_score
    assert messy_score.quality < calm_score.quality
    assert "noise" in messy_score.rationale


def test_pii_and_languages_are_measured(tmp_path: Path) -> None:
    rng = random.Random(3)
    plain = clean_chat(rng, 10)
    personal = [
        [
            f"{sentence(rng, 12)} Mail me at user{i}@example.com or call +1 415 555 01{i:02d}.",
            sentence(rng),
        ]
        for i in range(10)
    ]
    german = [
        [
            "Der Router verliert jeden Morgen die Verbindung, und wir haben das Kabel schon "
            f"zweimal getauscht. Was können wir im Büro {i} noch versuchen?",
            "Halten Sie die Taste zehn Sekunden lang gedrückt und warten Sie, bis die Lampen "
            f"grün leuchten; danach ist die Verbindung im Büro {i} meistens stabil.",
        ]
        for i in range(10)
    ]
    base = measure(prepared(tmp_path, chat(tmp_path / "base.jsonl", plain)))
    pii = measure(prepared(tmp_path, chat(tmp_path / "pii.jsonl", plain + personal)))
    mixed = measure(prepared(tmp_path, chat(tmp_path / "mixed.jsonl", plain + german)))
    assert base.pii_density == 0.0 and pii.pii_density > 10  # 2 items per ~60 words
    assert set(mixed.language_mix) == {"en", "de"} and mixed.language_mix["de"] == 0.5
    for f in (pii, mixed):
        assert (
            RULES.score(f, RULES.triage(f)).complexity_score
            > RULES.score(base, RULES.triage(base)).complexity_score
        )


def test_nothing_parsed_halts_with_the_reason() -> None:
    empty = Features(source_format="text", bytes=10, samples=0)
    triage = RULES.triage(empty)
    assert triage.route == "halt" and "nothing to refine" in triage.reasons[0]
    assert RULES.score(empty, triage).quality == 0.0


BASE = Features(
    source_format="pdf",
    bytes=1000,
    samples=100,
    measured=100,
    words=5000,
    format_mix={"document": 1.0},
    pages=20,
    language_mix={"en": 1.0},
)
GRID = {
    "bytes": [0, 10, 10_000, 10**6, 10**9, 10**12],
    "pages_without_text": [0, 1, 5, 10, 20],
    "noise_ratio": [0.0, 0.1, 0.5, 0.9, 1.0],
    "pii_density": [0.0, 1.0, 20.0, 200.0, 1e6],
    "duplicate_rate": [0.0, 0.2, 0.7, 1.0],
    "language_mix": [{"en": 1.0}, {"en": 0.8, "de": 0.2}, {"en": 0.5, "de": 0.3, "fr": 0.2}],
    "format_mix": [{"document": 1.0}, {"document": 0.7, "conversation": 0.3}],
}


@pytest.mark.parametrize("name", GRID)
def test_complexity_rises_and_quality_falls_with_each_feature(name: str) -> None:
    scores = [
        RULES.score(f, RULES.triage(f)) for f in (replace(BASE, **{name: v}) for v in GRID[name])
    ]
    complexity = [s.complexity_score for s in scores]
    quality = [s.quality for s in scores]
    assert all(0.0 <= c <= 1.0 for c in complexity) and all(0.0 <= q <= 1.0 for q in quality)
    assert complexity == sorted(complexity) and complexity[-1] > complexity[0]
    assert quality == sorted(quality, reverse=True)


def test_extremes_span_the_scale() -> None:
    worst = replace(
        BASE,
        bytes=10**12,
        pages_without_text=20,
        noise_ratio=1.0,
        pii_density=1e9,
        duplicate_rate=1.0,
        language_mix={"en": 0.0, "de": 0.0},
        format_mix={"document": 0.0},
    )
    assert RULES.score(worst, RULES.triage(worst)).complexity_score == pytest.approx(1.0, abs=1e-6)
    assert RULES.score(BASE, RULES.triage(BASE)).complexity_score < 0.1


def test_qa_pairs_are_the_refinery_document_rule() -> None:
    model: AegisModel = RULES
    (pair,) = model.qa_pairs("Hold the reset button for ten seconds.", "Resetting", page=4)
    assert pair.question == 'What does the section "Resetting" (page 4) say?'
    assert pair.answer == "Hold the reset button for ten seconds."
    (untitled,) = model.qa_pairs("Updates arrive monthly. They install themselves.", None)
    assert untitled.question == 'What does the section "Updates arrive monthly" say?'
    assert isinstance(model, AegisModel) and (model.name, model.model_id) == ("rules", "rules-v1")
