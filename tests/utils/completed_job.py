"""A completed job built through the domain, as the refinery and the gate leave it: paid,
two spend tickets (one auto-approved by the policy, one approved by a person), a dataset
written under the job folder with its figures recorded, status `complete`."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from aegis_core import audit
from aegis_core.db.models import GovernanceDecision, Job, Payment, utcnow
from aegis_core.db.session import Database
from aegis_core.jobs import JobStatus, create_job, transition
from aegis_core.loop import tickets
from aegis_core.refine.service import JobFiles, files_for

ROWS = [
    {
        "messages": [
            {"role": "user", "content": f"How do I reset router {i}? Mail [EMAIL_1]."},
            {"role": "assistant", "content": f"Hold the reset button of router {i} for 10 s."},
        ]
    }
    for i in range(12)
]


@dataclass(frozen=True)
class Proposal:
    kind: str
    amount: Decimal
    rationale: str
    units: int | None = None


def completed_job(
    db: Database,
    data_dir: Path,
    *,
    job_id: str | None = None,
    customer_id: str | None = None,
    access_token_hash: str | None = None,
    description: str = "Support conversations as <instruction> pairs & answers",
) -> tuple[str, JobFiles]:
    """A new job, paid and taken to `complete`."""
    with db.session() as s:
        job = create_job(
            s,
            job_id=job_id or str(uuid.uuid4()),
            source_url="https://user:pw@93.184.215.14/export.json?sig=secret#x",
            description=description,
            output_format="chatml",
            auto_approve_threshold=Decimal("5.00"),
            actor="customer",
            customer_id=customer_id,
            access_token_hash=access_token_hash,
        )
        session_id = f"cs_test_{uuid.uuid4().hex[:12]}"
        job.checkout_session_id = session_id
        s.add(
            Payment(
                job_id=job.id,
                checkout_session_id=session_id,
                payment_intent_id="pi_test_123",
                stripe_event_id=f"evt_{uuid.uuid4().hex[:12]}",
                amount_cents=2000,
                currency="usd",
            )
        )
        audit.append(s, job.id, "payment_received", "stripe", {"amount_cents": 2000})
        transition(s, job, JobStatus.TRIAGE, actor="stripe")
        job_id = job.id
    return job_id, finish_job(db, data_dir, job_id)


def finish_job(db: Database, data_dir: Path, job_id: str) -> JobFiles:
    """Take a paid job in triage to `complete`: scored (a governance decision stored for it),
    two spend tickets through the gate,
    its dataset written under the job folder with the figures the refinery records."""
    files = files_for(data_dir, job_id)
    files.root.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(row) + "\n" for row in ROWS).encode()
    files.dataset.write_bytes(body)
    with db.session() as s:
        job = s.get(Job, job_id)
        job.complexity_score = 0.42
        job.model_backend, job.model_name = "rules", "aegis-14b"
        decision_id = str(uuid.uuid4())
        s.add(
            GovernanceDecision(
                id=decision_id,
                customer_id=job.customer_id,
                job_id=job.id,
                month=utcnow().strftime("%Y-%m"),
                status="approved",
                confidence=0.91,
                proposal_summary="Refine support chats; OCR 12 pages, label 300 rows",
                estimated_impact="high",
                timestamp=utcnow(),
                gates_passed=9,
                gates_failed=0,
                record={"decision_id": decision_id},
                input_context={},
                audit_hash="a" * 64,
            )
        )
        details = {"complexity_score": 0.42, "model_backend": "rules", "decision_id": decision_id}
        audit.append(s, job.id, "scored", "agent", details)
        proposed = tickets.propose(
            s,
            job,
            [
                Proposal("ocr", Decimal("1.50"), "12 scanned pages need OCR", 12),
                Proposal("enrichment", Decimal("7.25"), "Label intents for 300 rows", 300),
            ],
        )
        transition(s, job, JobStatus.AWAITING_GATE, actor="system")
    with db.session() as s:
        tickets.decide(s, proposed[1].id, approve=True, actor="ops@example.com", reason="fine")
        job = s.get(Job, job_id)
        transition(s, job, JobStatus.REFINING, actor="system")
        job.output_path = str(files.dataset)
        job.dataset = {
            "rows": len(ROWS),
            "mean_quality": 0.8125,
            "pii_masked": {"email": 12},
            "sha256": hashlib.sha256(body).hexdigest(),
            "format": "chatml",
            "dedup": {"exact": 0},
            "dropped": {"short": 2},
        }
        audit.append(s, job.id, "dataset_written", "system", {"rows": len(ROWS)})
        transition(s, job, JobStatus.COMPLETE, actor="system", reason="dataset delivered")
    return files
