"""Ops console sign-in: a signed session cookie and per-session CSRF tokens.

The cookie holds the operator's email and a random nonce, signed (HMAC-SHA256, with a
timestamp checked against `AEGIS_OPS_SESSION_HOURS`) with a secret derived from the admin
key: never the key itself. Changing `AEGIS_ADMIN_KEY` therefore signs every operator out.
It is HttpOnly, SameSite=Strict, scoped to /ops, and Secure when the public base URL is
https. Every form carries a CSRF token, an HMAC of the session's nonce: a POST whose token
is missing or wrong is refused. The sign-in form itself is protected the same way by a
short-lived pre-session cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from aegis_core.settings import AegisSettings

PATH = "/ops"
SESSION_COOKIE = "aegis_ops"
LOGIN_COOKIE = "aegis_ops_login"
LOGIN_MAX_AGE_S = 3600
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class OpsSession:
    """A signed-in operator: `email` is the audit actor of every decision they make."""

    email: str
    nonce: str
    csrf: str


class Sessions:
    """Issues and reads the console's cookies for one configuration."""

    def __init__(self, settings: AegisSettings) -> None:
        key = settings.admin_key or ""
        self.enabled = bool(key)
        self._key = key.encode()
        secret = hmac.new(self._key, b"aegis-ops-console-v1", hashlib.sha256).digest()
        signer = {"digest_method": hashlib.sha256}
        self._session = URLSafeTimedSerializer(secret, "aegis-ops-session", signer_kwargs=signer)
        self._login = URLSafeTimedSerializer(secret, "aegis-ops-login", signer_kwargs=signer)
        self._csrf_key = hmac.new(secret, b"csrf", hashlib.sha256).digest()
        self.max_age_s = int(settings.ops_session_hours * 3600)
        self.secure = settings.public_base_url.lower().startswith("https://")

    def key_ok(self, given: str) -> bool:
        """The admin key, compared in constant time; never true while none is set."""
        return self.enabled and hmac.compare_digest(given.encode(), self._key)

    def csrf_for(self, nonce: str) -> str:
        return hmac.new(self._csrf_key, nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, nonce: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_for(nonce), str(token))

    # --- the session ---------------------------------------------------------------------

    def read(self, request: Request) -> OpsSession | None:
        """The signed-in operator, or None (no cookie, a forged or expired one)."""
        if not self.enabled:
            return None
        value = request.cookies.get(SESSION_COOKIE)
        data = self._loads(self._session, value, self.max_age_s)
        if not data or not isinstance(data.get("e"), str) or not isinstance(data.get("n"), str):
            return None
        return OpsSession(data["e"], data["n"], self.csrf_for(data["n"]))

    def sign_in(self, response: Response, email: str) -> None:
        value = self._session.dumps({"e": email, "n": secrets.token_urlsafe(16)})
        self._set(response, SESSION_COOKIE, value, self.max_age_s)
        self._clear(response, LOGIN_COOKIE)

    def sign_out(self, response: Response) -> None:
        self._clear(response, SESSION_COOKIE)

    # --- the sign-in form's CSRF ---------------------------------------------------------

    def login_nonce(self, request: Request) -> str | None:
        data = self._loads(self._login, request.cookies.get(LOGIN_COOKIE), LOGIN_MAX_AGE_S)
        nonce = data.get("n") if data else None
        return nonce if isinstance(nonce, str) else None

    def login_token(self, request: Request) -> tuple[str, str | None]:
        """The sign-in form's CSRF token, and a new pre-session cookie when one is needed."""
        nonce = self.login_nonce(request)
        if nonce is not None:
            return self.csrf_for(nonce), None
        nonce = secrets.token_urlsafe(16)
        return self.csrf_for(nonce), self._login.dumps({"n": nonce})

    def set_login_cookie(self, response: Response, value: str) -> None:
        self._set(response, LOGIN_COOKIE, value, LOGIN_MAX_AGE_S)

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _loads(
        serializer: URLSafeTimedSerializer, value: str | None, max_age: int
    ) -> dict[str, Any] | None:
        if not value:
            return None
        try:
            data = serializer.loads(value, max_age=max_age)
        except BadSignature:  # forged, altered, signed with another key, or expired
            return None
        return data if isinstance(data, dict) else None

    def _clear(self, response: Response, name: str) -> None:
        response.delete_cookie(
            name, path=PATH, secure=self.secure, httponly=True, samesite="strict"
        )

    def _set(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=PATH,
            httponly=True,
            samesite="strict",
            secure=self.secure,
        )
