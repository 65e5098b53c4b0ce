"""Where a job's files live and how sources may be fetched; defaults from the settings."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from aegis_core.refine.pipeline import DEFAULT_QUALITY_THRESHOLD
from aegis_core.refine.service import JobFiles, files_for
from aegis_core.settings import get_settings


class RefineryResource(dg.ConfigurableResource):
    """Empty or zero fields mean "use AEGIS_* settings"."""

    data_dir: str = ""
    max_source_bytes: int = 0
    allow_insecure_sources: bool | None = None
    quality_threshold: float = DEFAULT_QUALITY_THRESHOLD

    def files(self, job_id: str) -> JobFiles:
        return files_for(
            Path(self.data_dir) if self.data_dir else get_settings().resolved_data_dir, job_id
        )

    def fetch_limits(self) -> dict[str, object]:
        settings = get_settings()
        insecure = self.allow_insecure_sources
        return {
            "max_bytes": self.max_source_bytes or settings.max_source_bytes,
            "allow_insecure": settings.allow_insecure_sources if insecure is None else insecure,
        }
