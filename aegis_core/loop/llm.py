"""What every language-model backend shares: prompts, schema-constrained questions,
validation, and retries with exponential backoff.

A backend only implements `_complete(messages, schema, task, max_tokens, temperature)`,
returning the answer's text or raising `Retryable` (timeout, 5xx, cut-off answer). Each
answer must parse as JSON (raw control characters inside strings are let through:
grammar-constrained decoders emit raw newlines) and validate against its pydantic model
(aegis_core.loop.model) plus the checks the schema cannot say (units within the need).
A failed attempt is retried after backoff_s * 2^(n-1) seconds, at RETRY_TEMPERATURE so
that a retried answer can differ from a greedy one; after `retries` retries the last
reason becomes a `ModelError`.
Choices the data rules out are not offered: the schema's enums list only possible routes
and priced spend kinds.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from aegis_core.loop.features import Features
from aegis_core.loop.model import (
    ROUTES,
    SPEND_UNITS,
    JobView,
    ModelError,
    Proposal,
    ProposalsAnswer,
    QAAnswer,
    QAPair,
    Score,
    ScoreAnswer,
    Triage,
    TriageAnswer,
    answer_schema,
    priced,
    spend_needs,
)

log = logging.getLogger(__name__)
A = TypeVar("A", bound=BaseModel)
Messages = list[dict[str, str]]

RETRY_TEMPERATURE = 0.7
MAX_BACKOFF_S = 30.0
MAX_TOKENS = {"triage": 400, "score": 300, "propose": 400, "qa_pairs": 900}
MAX_CHUNK_CHARS = 4000

SYSTEM = {
    "triage": (
        "You are Aegis, the triage step of a dataset refinery. From measured features of a "
        "customer's parsed data choose a route: refine (clean and convert it), "
        "ocr_then_refine (PDF pages without a text layer need OCR first) or halt (nothing "
        "usable). Give short reasons. Reply with JSON only."
    ),
    "score": (
        "You are Aegis. Score a dataset refinement job from its features, in percent. "
        "complexity: 0 (small, clean) to 100 (large, noisy, scanned, PII-heavy, duplicated, "
        "multilingual). quality: 0 (unusable) to 100 (clean). Reply with JSON only."
    ),
    "propose": (
        "You are Aegis. Propose the paid external steps this job needs, only from the "
        "offered kinds, never more units than needed. A person approves the spend. Reply "
        "with JSON only."
    ),
    "qa_pairs": (
        "Write question and answer pairs a reader could ask about the text. Every answer "
        "comes from the text. Reply with JSON only."
    ),
}


class Retryable(Exception):
    """A failed attempt worth repeating; the message is the reason."""


class LLMModel:
    """Base of the `openai` and `tensorrt_llm` backends."""

    name = "llm"

    def __init__(
        self,
        model_id: str,
        *,
        retries: int = 2,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.model_id = model_id
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self._sleep = sleep

    def _complete(
        self,
        messages: Messages,
        schema: dict[str, Any],
        task: str,
        max_tokens: int,
        temperature: float,
    ) -> str:
        raise NotImplementedError

    def close(self) -> None:
        return None

    def _ask(
        self,
        task: str,
        user: str,
        answer: type[A],
        schema: dict[str, Any],
        check: Callable[[A], None] | None = None,
    ) -> A:
        messages = [{"role": "system", "content": SYSTEM[task]}, {"role": "user", "content": user}]
        reason = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(min(MAX_BACKOFF_S, self.backoff_s * 2 ** (attempt - 1)))
            temperature = 0.0 if attempt == 0 else RETRY_TEMPERATURE
            text = ""
            try:
                text = self._complete(messages, schema, task, MAX_TOKENS[task], temperature)
                parsed = answer.model_validate(json.loads(text, strict=False))
                if check:
                    check(parsed)
                return parsed
            except Retryable as exc:
                reason = str(exc)
            except json.JSONDecodeError as exc:
                reason = f"answer is not JSON ({exc.msg} at {exc.pos}): {text[:120]!r}"
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(map(str, first["loc"])) or "answer"
                reason = f"answer does not match the schema: {where}: {first['msg']}"
            except ValueError as exc:
                reason = f"answer rejected: {exc}"
            log.warning("%s %s attempt %d failed: %s", self.name, task, attempt + 1, reason)
        raise ModelError(self.name, task, reason, self.retries + 1)

    def triage(self, features: Features) -> Triage:
        routes = [r for r in ROUTES if r != "ocr_then_refine" or features.pages_without_text]
        if features.samples == 0 and "ocr_then_refine" not in routes:
            routes = ["halt"]
        schema = answer_schema(TriageAnswer, route=routes)

        def allowed(a: TriageAnswer) -> None:
            if a.route not in routes:
                raise ValueError(f"route {a.route!r} is not possible here: {routes}")

        a = self._ask("triage", _features(features), TriageAnswer, schema, allowed)
        return Triage(a.route, list(a.reasons), self.name, self.model_id)

    def score(self, features: Features, triage: Triage) -> Score:
        user = f"{_features(features)}\nRoute: {triage.route}"
        a = self._ask("score", user, ScoreAnswer, answer_schema(ScoreAnswer))
        return Score(a.complexity / 100, a.quality / 100, a.rationale, self.name, self.model_id)

    def propose(self, features: Features, score: Score, job: JobView) -> list[Proposal]:
        needs = spend_needs(features, job)
        if not needs:
            return []
        offered = {
            kind: {"unit": SPEND_UNITS[kind], "max_units": n, "usd_per_unit": str(job.prices[kind])}
            for kind, n in needs.items()
        }
        user = (
            f"{_features(features)}\nComplexity: {score.complexity_score}\n"
            f"Offered: {json.dumps(offered)}"
        )

        def within_need(a: ProposalsAnswer) -> None:
            kinds = [p.kind for p in a.proposals]
            if len(set(kinds)) != len(kinds):
                raise ValueError("a spend kind is proposed twice")
            for p in a.proposals:
                if p.kind not in needs or p.units > needs[p.kind]:
                    raise ValueError(f"{p.units} units of {p.kind!r} exceed the need {needs}")

        schema = answer_schema(ProposalsAnswer, kind=list(needs))
        a = self._ask("propose", user, ProposalsAnswer, schema, within_need)
        return [priced(p.kind, p.units, p.rationale, job) for p in a.proposals]

    def qa_pairs(self, chunk_text: str, title: str | None, page: int | None = None) -> list[QAPair]:
        if not chunk_text.strip():
            return []
        where = f" (page {page})" if page else ""
        user = f"Title: {title or 'untitled'}{where}\nText: {chunk_text[:MAX_CHUNK_CHARS]}"
        a = self._ask("qa_pairs", user, QAAnswer, answer_schema(QAAnswer))
        return [QAPair(p.question, p.answer) for p in a.pairs]


def _features(features: Features) -> str:
    return "Features: " + json.dumps(features.as_dict(), separators=(",", ":"))
