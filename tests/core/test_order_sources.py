"""Order validation resolves the source host with the fetch guard's rule."""

from __future__ import annotations

import pytest

from aegis_core.errors import ValidationError
from aegis_core.orders import parse_job_request
from aegis_core.settings import AegisSettings

DNS = {
    "data.example": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    "split.example": ["93.184.215.14", "10.0.0.7"],
    "internal.example": ["10.0.0.7", "fd00::7"],
    "metadata.example": ["169.254.169.254"],
}


def resolver(host: str, port: int) -> list[str]:
    return DNS.get(host, [])


def _order(url: str, **settings) -> str:
    body = {"source_url": url, "description": "pairs"}
    return parse_job_request(body, AegisSettings(**settings), resolver=resolver).source_url


def test_a_host_with_only_public_addresses_is_accepted() -> None:
    assert _order("https://Data.Example/x.json") == "https://Data.Example/x.json"
    assert _order("https://93.184.215.14/x.json")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        # One internal address is enough: the fetch would refuse the job after payment.
        ("https://split.example/x.json", "Private-Use"),
        ("https://internal.example/x.json", "Private-Use"),
        ("https://metadata.example/latest", "Link Local"),
        ("https://nowhere.example/x.json", "resolves to no address"),
        ("http://data.example/x.json", "only https"),
        ("file:///etc/passwd", "development mode"),
    ],
)
def test_sources_the_fetch_would_refuse_are_refused(url: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        _order(url)


def test_other_fields_are_checked_before_any_lookup() -> None:
    asked: list[str] = []

    def counting(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["93.184.215.14"]

    body = {"source_url": "https://data.example/x.json", "description": " "}
    with pytest.raises(ValidationError, match="description"):
        parse_job_request(body, AegisSettings(), resolver=counting)
    assert asked == []


def test_dev_mode_opens_http_and_files_not_internal_addresses() -> None:
    assert _order("http://data.example/x.json", allow_insecure_sources=True)
    assert _order("file:///tmp/chats.json", allow_insecure_sources=True)
    with pytest.raises(ValidationError, match="Loopback"):
        _order("http://127.0.0.1:8000/x.json", allow_insecure_sources=True)
