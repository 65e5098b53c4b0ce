"""Signed audit certificates: W3C Verifiable Credentials with an eddsa-jcs-2022 proof,
a did:web issuer, a PDF for people, and offline verification.

Entry points: `issue_certificate` (sign and store a job's certificate), `Issuer`
(the DID and key from settings), `verify_certificate` (everything a relying party checks),
`latest` (the certificate the API serves).
"""

from aegis_core.certificates.content import CheckOutcome
from aegis_core.certificates.issue import Issuer, issue_certificate, latest
from aegis_core.certificates.verify import Verification, verify_certificate

__all__ = [
    "CheckOutcome",
    "Issuer",
    "Verification",
    "issue_certificate",
    "latest",
    "verify_certificate",
]
