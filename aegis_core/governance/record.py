"""The persisted decision record and its audit hash.

The hash is SHA-256 over the RFC 8785 (JCS) canonical JSON of the record, so anyone can
recompute it from the stored JSON with any JCS implementation. `aegis_core.canonical`
produces exactly `rfc8785.dumps` bytes (tested there and here), only faster.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from aegis_core.canonical import canonical_bytes

# The response fields that describe the decision itself (not the request that made it).
RECORD_FIELDS = (
    "decision_id",
    "status",
    "confidence",
    "gates_passed",
    "gates_failed",
    "failing_gates",
    "rationale",
    "next_steps",
    "constraints",
    "timestamp",
    "override_eligible",
    "override_requires",
    "gates",
    "drift",
    "shadow_result",
)


def canonical_record(
    decision: Mapping[str, Any],
    *,
    customer_id: str,
    proposal_summary: str,
    estimated_impact: str,
    input_context: Mapping[str, Any],
) -> dict[str, Any]:
    """What is stored and hashed: the decision's own fields (identity and request-id
    fields dropped) plus who asked and what they sent."""
    record = {k: decision[k] for k in RECORD_FIELDS if k in decision}
    record.update(
        customer_id=customer_id,
        proposal_summary=proposal_summary,
        estimated_impact=estimated_impact,
        input_context=dict(input_context),
    )
    return record


def audit_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 hex of the RFC 8785 canonical JSON of `record`.

    Raises ValueError for NaN or Infinity anywhere in it (they have no canonical form);
    `evaluate` never emits them.
    """
    return hashlib.sha256(canonical_bytes(dict(record))).hexdigest()
