"""Urlencoded forms (the Ops console's) under the input policy: what is read, what is refused."""

from __future__ import annotations

import pytest

from aegis_core.input_policy import InputRefused, read_form


def test_reads_fields_percent_decoded() -> None:
    assert read_form(b"csrf=ab12&reason=scans+%C3%A0+OCR&next=%2Fops&empty=") == {
        "csrf": "ab12",
        "reason": "scans à OCR",
        "next": "/ops",
        "empty": "",
    }
    assert read_form(b"") == {}


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"reason=a%00b", "NUL"),
        (b"re%00ason=x", "NUL"),
        (b"reason=%ff", "UTF-8"),
        (b"reason=%ED%A0%80", "UTF-8"),  # a lone surrogate, encoded
        (b"reason=a&reason=b", "twice"),
        (b"&".join(b"f%d=1" % i for i in range(21)), "at most 20"),
    ],
)
def test_refuses(body: bytes, why: str) -> None:
    with pytest.raises(InputRefused, match=why):
        read_form(body)
