"""The audit log: one way in (`append`), one way to check it (`verify`)."""

from aegis_core.audit.chain import (
    GENESIS_HASH,
    AuditEntry,
    VerifyResult,
    append,
    append_many,
    entry_hash,
    verify,
)
from aegis_core.audit.redaction import ALLOWED_DETAIL_KEYS, redact_details

__all__ = [
    "ALLOWED_DETAIL_KEYS",
    "GENESIS_HASH",
    "AuditEntry",
    "VerifyResult",
    "append",
    "append_many",
    "entry_hash",
    "redact_details",
    "verify",
]
