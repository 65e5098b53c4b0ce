"""The human gate's settings as a Dagster resource: how often it polls, how long it waits,
and who executes an approved spend (`aegis_core.loop.gate`, `aegis_core.loop.ocr`)."""

from __future__ import annotations

from typing import Literal

import dagster as dg

from aegis_core.loop import ocr
from aegis_core.loop.tickets import Action
from aegis_core.refine.service import JobFiles
from aegis_core.settings import get_settings


class GateResource(dg.ConfigurableResource):
    """Zero means "use the settings" (AEGIS_GATE_POLL_S, AEGIS_GATE_TIMEOUT_S). `ocr`:
    `auto` runs approved OCR where tesseract is installed (else a test stub), `stub` never."""

    poll_s: float = 0.0
    timeout_s: float = 0.0
    ocr: Literal["auto", "stub"] = "auto"

    def poll(self) -> float:
        return self.poll_s or get_settings().gate_poll_s

    def timeout(self) -> float:
        return self.timeout_s or get_settings().gate_timeout_s

    def ocr_unavailable(self) -> str | None:
        """Why approved OCR is a test stub here, or None when it is really done."""
        return "configured as a test stub" if self.ocr == "stub" else ocr.unavailable()

    def actions(self, files: JobFiles) -> dict[str, Action]:
        """The local executor of each spend kind that can be done here."""
        return {} if self.ocr_unavailable() else {ocr.KIND: ocr.action(files)}
