"""The edge of the API: a 500 that keeps its headers and the connection, offline docs,
and an OpenAPI document that says what each route takes and answers."""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from aegis_core.db import migrate
from aegis_core.settings import get_settings
from api.middleware import AegisHeadersMiddleware
from tests.utils.server import free_port

ORIGIN = "https://portal.undercurrentholdings.com"
HEADERS = ("x-aegis-version", "x-aegis-request-id", "x-aegis-tenant")


@pytest.fixture
def app(tmp_path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """The real app on SQLite, plus a route that fails the way a bug would."""
    url = f"sqlite:///{tmp_path / 'aegis.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("AEGIS_DATABASE_URL", url)
    get_settings.cache_clear()
    from api.main import create_app

    application = create_app()

    def boom() -> None:
        raise RuntimeError("a bug")

    application.add_api_route("/boom", boom, include_in_schema=False)
    return application


@pytest.fixture
def served(app: FastAPI) -> Iterator[int]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def test_500_is_json_with_headers_and_keeps_the_connection(served: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    try:
        conn.request("GET", "/boom", headers={"Origin": ORIGIN})
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 500 and body == {"error": "internal error"}
        for header in HEADERS:
            assert r.getheader(header), header
        assert r.getheader("access-control-allow-origin") == ORIGIN
        assert (r.getheader("connection") or "").lower() != "close"
        sock = conn.sock
        conn.request("GET", "/livez")
        again = conn.getresponse()
        assert again.status == 200 and json.loads(again.read()) == {"status": "ok"}
        assert conn.sock is sock  # the same keep-alive connection answered
    finally:
        conn.close()


def test_an_error_before_any_response_is_a_json_500() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("outside every handler")

    client = TestClient(AegisHeadersMiddleware(broken))
    r = client.get("/anything")
    assert r.status_code == 500 and r.json() == {"error": "internal error"}
    for header in HEADERS:
        assert r.headers[header]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_render_offline(app: FastAPI, page: str) -> None:
    with TestClient(app) as client:
        html = client.get(page)
        assert html.status_code == 200 and "text/html" in html.headers["content-type"]
        assert "://" not in html.text and "cdn" not in html.text.lower()
        assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert any(a.endswith(".js") for a in assets), assets
        for asset in assets:
            r = client.get(asset)
            assert r.status_code == 200 and len(r.content) > 1000, asset
        assert client.get("/openapi.json").status_code == 200


def _schema(doc: dict, ref: str) -> dict:
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_openapi_documents_bodies_responses_and_errors(app: FastAPI) -> None:
    doc = TestClient(app).get("/openapi.json").json()
    error = doc["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"] and error["properties"]["error"]["type"] == "string"
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    bodies = {
        ("/v1/jobs/", "JobRequest"),
        ("/jobs/", "JobRequest"),
        ("/evaluate", "EvaluateRequest"),
        ("/sandbox/evaluate", "EvaluateRequest"),
        ("/risk-check", "RiskCheckRequest"),
        ("/webhooks/stripe", "StripeEvent"),
    }
    for path, model in bodies:
        content = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        schema = _schema(doc, content["schema"]["$ref"])
        assert schema["title"] == model and schema["examples"], path
    assert doc["paths"]["/risk-check"]["post"]["requestBody"]["required"] is True
    assert "risk_score" in _schema(doc, "#/RiskCheckRequest")["required"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            assert {"400", "413"} <= set(responses), (method, path)
            success = [code for code in responses if code.startswith("2")]
            assert success, (method, path)
            for code, response in responses.items():
                if code.startswith("4") and (method, path) != ("post", "/sandbox/evaluate"):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorBody"), (method, path, code)
    assert set(doc["components"]["securitySchemes"]) == {"customerKey", "adminKey"}
    assert doc["paths"]["/evaluate"]["post"]["security"] == [{"customerKey": []}]
    created = doc["paths"]["/v1/jobs/"]["post"]["responses"]["201"]
    assert _schema(doc, created["content"]["application/json"]["schema"]["$ref"])["examples"]
    assert "ReadJob" in created["links"]
