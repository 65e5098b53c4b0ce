"""The API's request and response shapes, for the OpenAPI document only.

Routes read raw bodies on purpose: validation lives in the domain (`aegis_core.orders`,
`aegis_core.governance.validation`, `aegis_core.payments.webhooks`), with the messages
the governance document specifies. These models describe the same rules to clients;
nothing parses a request with them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aegis_core.governance.validation import CHANGE_TYPES, IMPACTS, PHASES
from aegis_core.loop.tickets import MAX_TEXT, POLICY_ACTOR, TIMEOUT_ACTOR, TicketStatus
from aegis_core.orders import FORMATS, MAX_DESCRIPTION, MAX_THRESHOLD, MAX_URL
from aegis_core.payments.webhooks import MAX_EVENT_ID, MAX_EVENT_TYPE


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def maybe(description: str = "", **kwargs: Any) -> Any:
    """A field that may be absent but is never null (the schema has no default)."""
    return Field(None, description=description, json_schema_extra=_no_default, **kwargs)


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)}, populate_by_name=True)


class ErrorBody(BaseModel):
    """Every error: one human-readable message."""

    model_config = _examples({"error": "risk_baseline must be a finite number, not a boolean"})
    error: str


class SandboxLimitBody(BaseModel):
    """The sandbox's 429, as the governance document spells it."""

    error: Literal["sandbox_limit_reached"]
    limit: int
    remaining: int
    message: str
    upgrade_url: str


# --- governance -------------------------------------------------------------------------

DOC_EXAMPLE = {
    "proposal_summary": "Add caching layer to reduce API latency",
    "estimated_impact": "medium",
    "risk_baseline": 0.05,
    "risk_proposed": 0.08,
    "profit_baseline": 0.10,
    "profit_proposed": 0.18,
    "complexity_score": 0.4,
    "quality_score": 0.85,
}
Impact = Literal[IMPACTS]  # type: ignore[valid-type]
Phase = Literal[PHASES]  # type: ignore[valid-type]
ChangeType = Literal[CHANGE_TYPES]  # type: ignore[valid-type]


class EvaluateRequest(BaseModel):
    """A proposal. Every field is optional; a present field is never null. Numbers are
    finite and not booleans; unknown fields are ignored (and kept in the audit context)."""

    model_config = _examples(DOC_EXAMPLE)
    proposal_summary: str = maybe('Default "API evaluation".')
    estimated_impact: Impact = maybe('Default "medium"; high and critical always escalate.')
    agent_id: str = maybe('Default "api-caller".')
    session_id: str = maybe("Default: a new UUID.")
    phase: Phase = maybe('Default "plan".')
    risk_baseline: float = maybe("Default 0.0.")
    risk_proposed: float = maybe("Default 0.0.")
    risk_score: float = maybe("Alias of risk_proposed, used only when that is absent.")
    profit_baseline: float = maybe("Default 0.0.")
    profit_proposed: float = maybe("Default 0.0.")
    novelty_score: float = maybe("Default 0.5.")
    complexity_score: float = maybe("Default 0.5.")
    quality_score: float = maybe("Default 0.7.")
    quality_subscores: list[float | None] = maybe("Nulls dropped; default [0.7, 0.7, 0.7].")
    requires_human_approval: bool = maybe("Default false.")
    time_sensitive: bool = maybe("Default false.")
    reversible: bool = maybe("Default true; irreversible changes need human approval.")
    metadata: dict[str, Any] = maybe("Stored with the decision's audit context.")
    shadow_mode: bool = maybe("Professional tier or higher (else 403).")
    change_type: ChangeType = maybe('Default "feature".')
    drift_baseline_data: list[float | None] = maybe("Seeds the drift baseline; nulls dropped.")


class GateDetail(BaseModel):
    passed: bool
    value: float | None
    threshold: float | None
    confidence: float | None
    message: str | None


class Decision(BaseModel):
    """The governance outcome; the HTTP status is 200 whatever `status` says."""

    model_config = _examples(
        {
            "status": "halt",
            "confidence": 0.998821,
            "gates_passed": 5,
            "gates_failed": 1,
            "failing_gates": ["complexity"],
            "rationale": "Halted: the complexity gate failed: complexity floor not met "
            "(0.4 < 0.5). A complexity floor failure cannot be overridden (5 of 6 gates "
            "passed).",
            "next_steps": ["Stop: this decision cannot be overridden; rework the proposal first."],
            "constraints": ["complexity floor not met (0.4 < 0.5)"],
            "decision_id": "af296aab-eb98-447a-9498-a73a6b6f6599",
            "timestamp": "2026-12-01T07:39:12.224600Z",
            "override_eligible": False,
            "override_requires": [],
            "gates": {
                "complexity": {
                    "passed": False,
                    "value": 0.4,
                    "threshold": 0.5,
                    "confidence": None,
                    "message": "complexity floor not met (0.4 < 0.5)",
                }
            },
            "_tenant_id": "cust_b64d2bc7cf1c",
            "_customer_id": "cust_b64d2bc7cf1c",
            "_tier": "professional",
            "_request_id": "req-4b1c701956fa4b29aa42e0fbddf2bc5a",
        }
    )
    status: Literal["proceed", "pause", "halt", "escalate"]
    confidence: float | None
    gates_passed: int
    gates_failed: int
    failing_gates: list[str]
    rationale: str
    next_steps: list[str]
    constraints: list[str]
    decision_id: str
    timestamp: str
    override_eligible: bool
    override_requires: list[str]
    gates: dict[str, GateDetail] = maybe("Per-gate details, when gates were evaluated.")
    drift: dict[str, Any] = maybe("Present when drift is not normal.")
    shadow_result: dict[str, Any] = maybe("Present in shadow mode.")
    tenant_id: str = Field(alias="_tenant_id")
    customer_id: str = maybe("When authenticated.", alias="_customer_id")
    tier: str = maybe("When authenticated.", alias="_tier")
    request_id: str = Field(alias="_request_id")


class SandboxDecision(Decision):
    sandbox: Literal[True]
    remaining: int = Field(description="Sandbox evaluations left today for this IP.")


class RiskCheckRequest(BaseModel):
    model_config = _examples(
        {
            "risk_score": 0.35,
            "threshold": 0.5,
            "agent_id": "deploy-bot",
            "action_description": "Deploy canary to staging",
        }
    )
    risk_score: float = Field(description="Required; finite, not a boolean.")
    threshold: float = maybe("Default 0.5; safe when risk_score < threshold.")
    agent_id: str = maybe('Default "api-caller".')
    action_description: str = maybe('Default "Lambda risk check".')


class RiskCheckResult(BaseModel):
    model_config = _examples(
        {
            "safe": True,
            "risk_score": 0.35,
            "threshold": 0.5,
            "agent_id": "deploy-bot",
            "_tenant_id": "cust_a1b2c3d4e5f6",
            "_customer_id": "cust_a1b2c3d4e5f6",
            "_tier": "community",
            "_request_id": "req-789",
        }
    )
    safe: bool
    risk_score: float
    threshold: float
    agent_id: str
    tenant_id: str = Field(alias="_tenant_id")
    customer_id: str = maybe("When authenticated.", alias="_customer_id")
    tier: str = maybe("When authenticated.", alias="_tier")
    request_id: str = Field(alias="_request_id")


class HealthCheck(BaseModel):
    ok: bool
    error: str = maybe("The exception's type when not ok.")


class Health(BaseModel):
    model_config = _examples(
        {
            "status": "ok",
            "version": "0.1.0",
            "stage": "dev",
            "checks": {"config": {"ok": True}, "gates": {"ok": True}, "database": {"ok": True}},
        }
    )
    status: Literal["ok", "degraded"]
    version: str
    stage: str
    checks: dict[str, HealthCheck]


class Liveness(BaseModel):
    status: Literal["ok"]


# --- customer decisions -----------------------------------------------------------------


class DecisionSummary(BaseModel):
    decision_id: str
    status: str
    confidence: float | None
    proposal_summary: str
    timestamp: str
    gates_passed: int
    gates_failed: int


class DecisionList(BaseModel):
    model_config = _examples(
        {
            "decisions": [
                {
                    "decision_id": "af296aab-eb98-447a-9498-a73a6b6f6599",
                    "status": "halt",
                    "confidence": 0.998821,
                    "proposal_summary": "Add caching layer to reduce API latency",
                    "timestamp": "2026-12-01T07:39:12.224600Z",
                    "gates_passed": 5,
                    "gates_failed": 1,
                }
            ],
            "total": 1,
            "month": "2026-12",
            "_customer_id": "cust_b64d2bc7cf1c",
            "_request_id": "req-bb0b6843738d48cc9a72a9baa74efaca",
        }
    )
    decisions: list[DecisionSummary]
    total: int
    month: str
    customer_id: str = Field(alias="_customer_id")
    request_id: str = Field(alias="_request_id")


class DecisionRecord(BaseModel):
    """A stored decision in full: the decision, its input context and audit hash."""

    decision_id: str
    status: str
    confidence: float | None
    gates_passed: int
    gates_failed: int
    timestamp: str
    proposal_summary: str
    estimated_impact: str
    input_context: dict[str, Any]
    audit_hash: str
    customer_id: str = Field(alias="_customer_id")
    request_id: str = Field(alias="_request_id")


# --- jobs -------------------------------------------------------------------------------

Format = Literal[FORMATS]  # type: ignore[valid-type]


class JobRequest(BaseModel):
    """An order for a refined dataset; the answer carries its $20 checkout."""

    model_config = _examples(
        {
            "source_url": "https://example.com/support-chats.json",
            "description": "Customer support conversations about NAS firmware updates",
            "format": "sharegpt",
            "auto_approve_threshold": "5.00",
        }
    )
    source_url: str = Field(
        description="An https URL of the raw data, without credentials.",
        min_length=1,
        max_length=MAX_URL,
        pattern=r"^\s*[hH][tT][tT][pP][sS]://",
    )
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    format: Format = maybe('Default "sharegpt".')
    auto_approve_threshold: float | str = maybe(
        f"US dollars, 0 to {MAX_THRESHOLD}: spend the refinery may approve on its own."
    )


class SpendTicketView(BaseModel):
    """A proposed outbound spend and what became of it."""

    model_config = _examples(
        {
            "id": "3f1c9a2e-8b7d-4c55-9e0a-6d2b1f4e7a90",
            "job_id": "fddd49c1-96a9-43fb-bbd1-4fdbac7cb4da",
            "kind": "ocr",
            "units": 12,
            "amount": "0.60",
            "description": "12 PDF pages have no text layer",
            "status": "approved",
            "decided_by": "ops@example.com",
            "decided_at": "2026-12-01T07:41:02.120400+00:00",
            "decision_reason": None,
            "stripe_pi_id": None,
            "executed_at": None,
            "execution": None,
            "created_at": "2026-12-01T07:40:12.323624+00:00",
        }
    )
    id: str
    job_id: str
    kind: str = Field(description='The paid step, e.g. "ocr".')
    units: int | None = Field(description="How many units (OCR: pages) the amount pays for.")
    amount: str = Field(description="US dollars, two decimals.")
    description: str = Field(description="The agent's rationale for the spend.")
    status: TicketStatus
    decided_by: str | None = Field(
        description=f"An operator's email, `customer:...`, `{POLICY_ACTOR}` (at or below the"
        f" job's threshold) or `{TIMEOUT_ACTOR}`."
    )
    decided_at: str | None
    decision_reason: str | None
    stripe_pi_id: str | None = Field(
        description="Once executed: a Stripe test-mode PaymentIntent, or `pi_local_test_...`"
        " where no Stripe key is set (no funds move either way)."
    )
    executed_at: str | None
    execution: dict[str, Any] | None = Field(description="What the execution did.")
    created_at: str


class GateState(BaseModel):
    state: Literal["none", "waiting", "approved", "rejected", "timed_out"] = Field(
        description="Over the newest ticket of each kind: waiting while any is proposed."
    )
    awaiting_approval: int
    tickets: list[SpendTicketView] = Field(description="The job's spend tickets, oldest first.")


class JobView(BaseModel):
    job_id: str
    status: str
    halt_reason: str | None
    description: str
    format: str
    source_url: str
    auto_approve_threshold: str
    complexity_score: float | None
    estimated_cost: str | None
    paid: bool
    gate: GateState
    dataset: dict[str, Any] | None
    links: dict[str, str]
    created_at: str
    updated_at: str


class JobCreated(JobView):
    model_config = _examples(
        {
            "job_id": "fddd49c1-96a9-43fb-bbd1-4fdbac7cb4da",
            "status": "awaiting_payment",
            "halt_reason": None,
            "description": "support pairs",
            "format": "sharegpt",
            "source_url": "https://example.com/a.json",
            "auto_approve_threshold": "5.00",
            "complexity_score": None,
            "estimated_cost": None,
            "paid": False,
            "gate": {"state": "none", "awaiting_approval": 0, "tickets": []},
            "dataset": None,
            "links": {
                "self": "http://127.0.0.1:8000/jobs/fddd49c1-96a9-43fb-bbd1-4fdbac7cb4da",
                "checkout": "http://127.0.0.1:8000/checkout/fddd49c1-96a9-43fb-bbd1-4fdbac7cb4da",
            },
            "created_at": "2026-12-01T07:39:12.323624+00:00",
            "updated_at": "2026-12-01T07:39:12.330909+00:00",
            "checkout_url": "http://127.0.0.1:8000/checkout/fddd49c1-96a9-43fb-bbd1-4fdbac7cb4da",
            "checkout_session_id": "cs_test_local_afdf456409c15d13013d9231",
            "access_token": "ajt_BpW6q0TT9qTu4GsUjcnS3S_3biAFZ1nsTzW416EJ_wM",
        }
    )
    checkout_url: str
    checkout_session_id: str
    access_token: str = Field(description="Shown once: read the job with it (X-Job-Token).")


class OperatorQueued(BaseModel):
    model_config = _examples(
        {
            "request_id": "5b0f0c43-5f2e-4d5c-9a55-5d1f4a3b2c10",
            "job_id": "fddd49c1-96a9-43fb-bbd1-4fdbac7cb4da",
            "kind": "process",
            "status": "queued",
        }
    )
    request_id: str
    job_id: str
    kind: Literal["process", "complete"]
    status: Literal["queued"]


# --- the human gate ---------------------------------------------------------------------


class DecisionRequest(BaseModel):
    """Optional when approving; rejecting needs a reason (it is audited)."""

    model_config = _examples({"reason": "OCR is not worth it for this source"})
    reason: str = Field(min_length=1, max_length=MAX_TEXT)


class SpendTicketList(BaseModel):
    tickets: list[SpendTicketView]
    count: int


# --- webhooks ---------------------------------------------------------------------------


class StripeEvent(BaseModel):
    """A Stripe event, verified against `Stripe-Signature` over the raw bytes."""

    model_config = _examples(
        {
            "id": "evt_1PZ3Yx2eZvKYlo2C8Qk0Tq1N",
            "object": "event",
            "type": "checkout.session.completed",
            "created": 1767225600,
            "livemode": False,
            "data": {"object": {"id": "cs_test_a1b2", "object": "checkout.session"}},
        }
    )
    id: str = Field(min_length=1, max_length=MAX_EVENT_ID)
    type: str = Field(min_length=1, max_length=MAX_EVENT_TYPE)
    object: Literal["event"] = maybe()
    created: int = maybe()
    livemode: bool = maybe()
    data: dict[str, Any] = maybe()


class WebhookAck(BaseModel):
    model_config = _examples(
        {"received": True, "event_id": "evt_1PZ3Yx2eZvKYlo2C8Qk0Tq1N", "duplicate": False}
    )
    received: Literal[True]
    event_id: str
    duplicate: bool = Field(description="True when this event id was already stored.")


# --- certificates -----------------------------------------------------------------------

DID = "did:web:refine.example.com"
KEY = f"{DID}#key-20260101-1a2b3c4d"


class VerificationMethod(BaseModel):
    id: str = Field(description="Absolute DID URL: `did:web:<host>#<key id>`.")
    type: Literal["Multikey"]
    controller: str
    publicKeyMultibase: str = Field(description="Ed25519 public key: `z6Mk...`.")


class DidDocument(BaseModel):
    """The issuer's did:web document: every signing key ever used, current and retired."""

    model_config = _examples(
        {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": DID,
            "verificationMethod": [
                {
                    "id": KEY,
                    "type": "Multikey",
                    "controller": DID,
                    "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
                }
            ],
            "assertionMethod": [KEY],
        }
    )
    context: list[str] = Field(alias="@context")
    id: str
    verificationMethod: list[VerificationMethod]
    assertionMethod: list[str]


class CertificateProof(BaseModel):
    """A W3C Data Integrity proof, cryptosuite eddsa-jcs-2022."""

    model_config = ConfigDict(populate_by_name=True)
    type: Literal["DataIntegrityProof"]
    cryptosuite: Literal["eddsa-jcs-2022"]
    created: str
    verificationMethod: str
    proofPurpose: Literal["assertionMethod"]
    context: list[str] = Field(alias="@context")
    proofValue: str = Field(description="`z` + base58btc of the 64-byte Ed25519 signature.")


class SignedCertificate(BaseModel):
    """The job's audit certificate: a W3C Verifiable Credential (VC Data Model 2.0) whose
    `credentialSubject` is the AAR record (`cert_id`, `job_id`, `issued_at`, `ledger`,
    `decisions`, `dataset`, `aar`, `audit_chain`, `model`)."""

    model_config = ConfigDict(populate_by_name=True)
    context: list[str] = Field(alias="@context")
    id: str
    type: list[str]
    name: str
    description: str
    issuer: str
    validFrom: str
    credentialSubject: dict[str, Any]
    proof: CertificateProof
