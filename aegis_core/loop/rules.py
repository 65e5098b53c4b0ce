"""The embedded backend: deterministic, documented formulas over `Features`.

Triage (first match wins):
- no samples and no PDF page to OCR -> halt ("nothing to refine");
- any PDF page without a text layer -> ocr_then_refine;
- otherwise -> refine. Reasons name every feature past its notice level (NOTICE).

Score, from terms t in [0, 1], each non-decreasing in its feature:
- t_size   = min(1, log10(1 + bytes) / 9)          (1 GB -> 1)
- t_ocr    = pages_without_text / pages            (0 without pages)
- t_noise  = noise_ratio
- t_pii    = pii_density / (pii_density + 20)      (20 items per 1,000 words -> 0.5)
- t_dup    = duplicate_rate
- t_lang   = 1 - share of the main language       (0 for one language)
- t_format = 1 - share of the main sample kind
complexity_score = sum of WEIGHTS[k] * t_k (weights sum to 1, so it stays in [0, 1]);
quality = (1 - t_noise) * (1 - t_dup) * (1 - t_ocr), and 0 when nothing was measured.
The rationale spells out every term.

Propose: for each priced spend kind the data needs (`model.spend_needs`: OCR for every
page without a text layer), one proposal for all of it at the job's price.
Q/A: a document chunk becomes the refinery's instruction/answer pair
(`aegis_core.refine.formats.document_turns`, the one place that rule lives).
"""

from __future__ import annotations

import math

from aegis_core.loop.features import Features
from aegis_core.loop.model import JobView, Proposal, QAPair, Score, Triage, priced, spend_needs
from aegis_core.refine.formats import document_turns
from aegis_core.refine.records import Sample

VERSION = "rules-v1"
WEIGHTS = {
    "size": 0.20,
    "ocr": 0.25,
    "noise": 0.20,
    "pii": 0.15,
    "dup": 0.10,
    "lang": 0.05,
    "format": 0.05,
}
PII_HALF = 20.0
NOTICE = {"noise": 0.2, "pii": 0.25, "dup": 0.1, "lang": 0.2}
WHY = {"ocr": "OCR for {units} PDF pages without a text layer at {price} per page"}


def terms(f: Features) -> dict[str, float]:
    def diversity(mix: dict[str, float]) -> float:
        return 1.0 - max(mix.values()) if mix else 0.0

    return {
        "size": min(1.0, math.log10(1 + max(0, f.bytes)) / 9),
        "ocr": f.pages_without_text / f.pages if f.pages else 0.0,
        "noise": f.noise_ratio,
        "pii": f.pii_density / (f.pii_density + PII_HALF),
        "dup": f.duplicate_rate,
        "lang": diversity(f.language_mix),
        "format": diversity(f.format_mix),
    }


class RulesModel:
    name = "rules"
    model_id = VERSION

    def triage(self, features: Features) -> Triage:
        f = features
        if f.samples == 0 and f.pages_without_text == 0:
            return self._triage("halt", ["nothing to refine: no text was parsed from the source"])
        t = terms(f)
        notes = [
            f"{label} {t[key]:.2f} is past {NOTICE[key]}"
            for key, label in (
                ("noise", "noise ratio"),
                ("pii", "PII term"),
                ("dup", "duplicate rate"),
                ("lang", "language diversity"),
            )
            if t[key] > NOTICE[key]
        ]
        if f.pages_without_text:
            return self._triage(
                "ocr_then_refine",
                [f"{f.pages_without_text} of {f.pages} PDF pages have no text layer", *notes],
            )
        return self._triage("refine", [f"{f.samples} parsed samples to refine", *notes])

    def _triage(self, route: str, reasons: list[str]) -> Triage:
        return Triage(route, reasons, self.name, self.model_id)

    def score(self, features: Features, triage: Triage) -> Score:
        t = terms(features)
        complexity = sum(WEIGHTS[k] * t[k] for k in WEIGHTS)
        quality = (1 - t["noise"]) * (1 - t["dup"]) * (1 - t["ocr"]) if features.measured else 0.0
        rationale = "complexity = " + " + ".join(
            f"{WEIGHTS[k]:.2f}*{k} {t[k]:.3f}" for k in WEIGHTS
        )
        rationale += f"; quality = (1-noise)(1-dup)(1-ocr) = {quality:.3f}"
        return Score(round(complexity, 4), round(quality, 4), rationale, self.name, self.model_id)

    def propose(self, features: Features, score: Score, job: JobView) -> list[Proposal]:
        return [
            priced(kind, units, WHY[kind].format(units=units, price=job.prices[kind]), job)
            for kind, units in spend_needs(features, job).items()
        ]

    def qa_pairs(self, chunk_text: str, title: str | None, page: int | None = None) -> list[QAPair]:
        sample = Sample(id="", kind="document", text=chunk_text, title=title, page=page)
        (_, question), (_, answer) = document_turns(sample)
        return [QAPair(question, answer)]

    def close(self) -> None:
        return None
