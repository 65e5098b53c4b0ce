"""Typed domain errors. The API maps each family to one HTTP status in `api/errors.py`."""

from __future__ import annotations


class AegisError(Exception):
    """Base for every error the domain raises on purpose."""


class ValidationError(AegisError):
    """Input that breaks a documented rule (HTTP 400)."""


class AuthError(AegisError):
    """Missing or invalid credentials, or a tier that may not do this (HTTP 403)."""


class NotFound(AegisError):
    """Unknown id, or one the caller may not see (HTTP 404)."""


class RateLimited(AegisError):
    """A per-key, monthly or sandbox limit was exceeded (HTTP 429)."""

    def __init__(self, message: str, *, body: dict | None = None, remaining: int = 0) -> None:
        super().__init__(message)
        self.body = body
        self.remaining = remaining


class Conflict(AegisError):
    """The request is valid but clashes with current state (HTTP 409)."""


class IllegalTransition(Conflict):
    """A job status change the state machine does not allow."""


class SourceRefused(AegisError):
    """A job's source cannot be fetched or parsed; the job halts with this reason."""


class UpstreamError(AegisError):
    """A remote service we depend on (Stripe) failed; nothing was stored (HTTP 502)."""
