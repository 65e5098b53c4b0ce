"""One settings object, read from `AEGIS_*` environment variables.

Embedded default: a SQLite file and a data folder under `.aegis/` in the working
directory, so `aegis` runs on a laptop with nothing else installed.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CORS_ORIGINS = (
    "https://portal.undercurrentholdings.com",
    "https://undercurrentholdings.com",
    "https://www.undercurrentholdings.com",
)
PLACEHOLDER_SECRETS = {"changethis", "changeme", "secret", "admin", "password", ""}


class AegisSettings(BaseSettings):
    """Runtime configuration; every field maps to `AEGIS_<FIELD>` (see the README table)."""

    model_config = SettingsConfigDict(env_prefix="AEGIS_", extra="ignore")

    home: Path = Field(default=Path(".aegis"), description="Folder for embedded state.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<home>/aegis.db."
    )
    data_dir: Path | None = Field(default=None, description="Job files; default <home>/data.")
    admin_key: str | None = Field(default=None, description="X-Admin-Key for operator routes.")
    stripe_secret_key: str | None = Field(
        default=None, validation_alias=AliasChoices("AEGIS_STRIPE_SECRET_KEY", "STRIPE_SECRET_KEY")
    )
    stripe_webhook_secret: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AEGIS_STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET"),
    )
    stripe_api_base: str | None = Field(
        default=None, description="Point the Stripe client elsewhere (tests use a local fake)."
    )
    # The Aegis model (aegis_core/loop/backends.py): which backend triages, scores, proposes.
    model_backend: Literal["rules", "openai", "tensorrt_llm"] = "rules"
    model_base_url: str | None = Field(
        default=None, description="OpenAI-compatible base URL, e.g. http://gpu:8000/v1."
    )
    model_name: str = "aegis-14b"
    model_timeout_s: float = Field(default=60.0, gt=0)
    model_retries: int = Field(default=2, ge=0)
    model_backoff_s: float = Field(default=0.5, ge=0)
    model_engine_dir: Path | None = None
    model_api_key: str | None = None
    model_response_format: Literal["json_schema", "json_object", "json"] = "json_schema"
    signing_key_path: Path | None = Field(
        default=None, description="Ed25519 signing key; default <home>/keys/signing.key."
    )
    public_base_url: str = "http://127.0.0.1:8000"
    did_domain: str | None = Field(
        default=None,
        description="Host[:port] of the issuer's did:web DID; default the public base URL's.",
    )
    stage: str = "dev"
    default_auto_approve_threshold: Decimal = Decimal("5.00")
    max_source_bytes: int = 200 * 1024 * 1024
    allow_insecure_sources: bool = False
    cors_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS
    max_body_bytes: int = Field(
        default=1024 * 1024, gt=0, description="Largest request body the API reads (else 413)."
    )
    max_json_depth: int = Field(
        default=32, gt=0, le=500, description="Deepest nesting of arrays/objects in a JSON body."
    )
    gate_poll_s: float = Field(
        default=5.0, gt=0, description="How often the human gate re-reads a job's tickets."
    )
    gate_timeout_s: float = Field(
        default=86400.0, gt=0, description="How long the gate waits before rejecting as timed out."
    )
    dagster_ui_url: str = Field(
        default="http://127.0.0.1:3000",
        description="The Dagster UI the Ops console links a job's lineage into.",
    )
    ops_session_hours: float = Field(
        default=8.0, gt=0, le=168, description="How long an Ops console sign-in lasts."
    )
    activity_stream_s: float = Field(
        default=300.0,
        gt=0,
        le=3600,
        description="How long one /activity event stream stays open (clients then resume).",
    )
    ocr_price_per_page: Decimal = Field(
        default=Decimal("0.05"),
        gt=0,
        description="USD per PDF page the loop prices OCR at (a page without a text layer).",
    )

    @field_validator("admin_key")
    @classmethod
    def _no_placeholder_admin_key(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("AEGIS_ADMIN_KEY must not be a placeholder such as 'changethis'")
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'aegis.db').resolve()}"

    @property
    def resolved_data_dir(self) -> Path:
        return (self.data_dir or self.home / "data").resolve()

    @property
    def resolved_signing_key_path(self) -> Path:
        return (self.signing_key_path or self.home / "keys" / "signing.key").resolve()


@lru_cache(maxsize=1)
def get_settings() -> AegisSettings:
    """The process-wide settings; tests call `get_settings.cache_clear()` after changing env."""
    return AegisSettings()
