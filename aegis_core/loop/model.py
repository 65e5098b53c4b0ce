"""The Aegis model: one interface, whatever answers it (rules, a chat server, TensorRT-LLM).

Every backend implements `AegisModel`: triage (route), score, propose external spend, and
write Q/A pairs from a document chunk. Results are plain dataclasses; the backend name and
model id travel with them so a job can record who decided.

The structured answers a language model gives are defined once, as pydantic models below:
their JSON schemas are what a backend sends to constrain decoding, and every answer is
validated against the same models before it becomes a result. `ModelError` is raised when
a backend could not get a valid answer in time, after its retries; the job halts with it
(never a silent fallback to another backend).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from aegis_core.loop.features import Features

Route = Literal["refine", "ocr_then_refine", "halt"]
ROUTES: tuple[str, ...] = ("refine", "ocr_then_refine", "halt")
# External spend a proposal may name, with the unit it is priced in.
SPEND_UNITS: dict[str, str] = {"ocr": "page"}


class ModelError(RuntimeError):
    """No valid answer from the model: `reason` says why (timeout, HTTP 500, bad JSON...)."""

    def __init__(self, backend: str, task: str, reason: str, attempts: int = 1) -> None:
        self.backend, self.task, self.reason, self.attempts = backend, task, reason, attempts
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"{backend} model: {task} failed{tries}: {reason}")


@dataclass(frozen=True)
class Triage:
    route: str
    reasons: list[str]
    backend: str = ""
    model_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Score:
    complexity_score: float  # 0 trivial .. 1 hard
    quality: float  # 0 unusable .. 1 clean
    rationale: str
    backend: str = ""
    model_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Proposal:
    """One external spend step: `units` of `unit` at the job's price, `amount` in USD."""

    kind: str
    units: int
    unit: str
    amount: Decimal
    rationale: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "amount": str(self.amount)}


@dataclass(frozen=True)
class QAPair:
    question: str
    answer: str


@dataclass(frozen=True)
class JobView:
    """What a proposal may depend on besides the data: the job and the price list (USD per
    unit of each spend kind; a kind without a price is never proposed)."""

    job_id: str
    description: str = ""
    auto_approve_threshold: Decimal = Decimal("0")
    prices: Mapping[str, Decimal] = field(default_factory=dict)


def spend_needs(features: Features, job: JobView) -> dict[str, int]:
    """The most units of each priced spend kind the data can use (OCR: pages without text)."""
    needs = {"ocr": features.pages_without_text}
    return {kind: n for kind, n in needs.items() if n > 0 and kind in job.prices}


def priced(kind: str, units: int, rationale: str, job: JobView) -> Proposal:
    """A proposal's amount is always units x the job's price, never a model's number."""
    amount = (job.prices[kind] * units).quantize(Decimal("0.01"))
    return Proposal(kind, units, SPEND_UNITS[kind], amount, rationale)


@runtime_checkable
class AegisModel(Protocol):
    name: str  # "rules" | "openai" | "tensorrt_llm"
    model_id: str

    def triage(self, features: Features) -> Triage: ...

    def score(self, features: Features, triage: Triage) -> Score: ...

    def propose(self, features: Features, score: Score, job: JobView) -> list[Proposal]: ...

    def qa_pairs(
        self, chunk_text: str, title: str | None, page: int | None = None
    ) -> list[QAPair]: ...

    def close(self) -> None: ...


# Structured answers of a language model. Bounded strings and lists keep answers short
# (and bound a constrained decoder); `answer_schema` narrows enums to what is allowed.


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("blank text")
    return value


def text(max_length: int) -> Any:
    """A non-blank string of at most max_length characters (the length is in the schema)."""
    return Annotated[str, Field(min_length=1, max_length=max_length), AfterValidator(_not_blank)]


Text = text(300)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TriageAnswer(_Answer):
    route: Route
    reasons: Annotated[list[Text], Field(min_length=1, max_length=3)]


# Whole percent, also as an enum: every constrained decoder enforces an enum, not all
# enforce minimum/maximum (llama-cpp-python's grammar does not).
Percent = Annotated[int, Field(ge=0, le=100, json_schema_extra={"enum": list(range(101))})]


class ScoreAnswer(_Answer):
    complexity: Percent
    quality: Percent
    rationale: Text


class ProposalAnswer(_Answer):
    kind: str
    units: Annotated[int, Field(ge=1)]
    rationale: Text


class ProposalsAnswer(_Answer):
    proposals: Annotated[list[ProposalAnswer], Field(max_length=len(SPEND_UNITS))]


class QAPairAnswer(_Answer):
    question: text(200)
    answer: text(800)


class QAAnswer(_Answer):
    pairs: Annotated[list[QAPairAnswer], Field(min_length=1, max_length=3)]


def answer_schema(answer: type[BaseModel], **enums: list[str]) -> dict[str, Any]:
    """The JSON schema of an answer, with `enums` restricting fields (also in nested
    models) to the values allowed for this question."""
    schema = answer.model_json_schema()
    for node in [schema, *schema.get("$defs", {}).values()]:
        for name, values in enums.items():
            if name in node.get("properties", {}):
                node["properties"][name] = {"type": "string", "enum": list(values)}
    return schema
