"""The README's settings table names every `AEGIS_*` variable the settings read, and no
variable that nothing reads."""

from __future__ import annotations

import re
from pathlib import Path

from aegis_cli.instance import PG_URL_ENV
from aegis_core.settings import AegisSettings

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(AEGIS_[A-Z0-9_]+)`", re.MULTILINE)


def read_by_settings() -> set[str]:
    prefix = AegisSettings.model_config["env_prefix"]
    return {f"{prefix}{name}".upper() for name in AegisSettings.model_fields}


def test_every_setting_is_in_the_readme_table() -> None:
    documented = set(ROW.findall(README.read_text(encoding="utf-8")))
    expected = read_by_settings()
    assert len(expected) > 20  # the fields were found at all
    assert sorted(expected - documented) == []
    assert sorted(documented - expected - {PG_URL_ENV}) == []
