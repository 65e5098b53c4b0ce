"""The Aegis model as a Dagster resource: a thin adapter over `aegis_core.loop.backends`."""

from __future__ import annotations

import dagster as dg

from aegis_core.loop.backends import ModelConfig, build_model
from aegis_core.loop.model import AegisModel
from aegis_core.settings import get_settings


class AegisModelResource(dg.ConfigurableResource):
    """Empty or zero fields mean "use the AEGIS_MODEL_* settings"."""

    backend: str = ""
    base_url: str = ""
    model: str = ""
    timeout_s: float = 0.0
    retries: int = -1
    engine_dir: str = ""
    response_format: str = ""

    def config(self) -> ModelConfig:
        return ModelConfig.from_settings(
            get_settings(),
            backend=self.backend,
            base_url=self.base_url,
            model=self.model,
            timeout_s=self.timeout_s or None,
            retries=self.retries if self.retries >= 0 else None,
            engine_dir=self.engine_dir,
            response_format=self.response_format,
        )

    def get(self) -> AegisModel:
        """A model for this run; call `close()` on it when done (a no-op for rules)."""
        return build_model(self.config())
