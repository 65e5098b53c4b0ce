"""The OpenAPI document and the docs pages: what each route takes and answers, offline.

Routes declare their body with `body(Model)` (the document only: they parse raw bytes)
and their errors with `errors(...)`; 400 and 413 are on every route because the input
policy at the edge can answer them anywhere. `/docs` and `/redoc` load Swagger UI and
ReDoc from the `fastapi-offline` package's files, never from a CDN.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from api.schemas import ErrorBody

STATIC_URL = "/docs-static"
SECURITY_SCHEMES = {
    "customerKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A governance API key: `Authorization: Bearer YOUR_API_KEY`.",
    },
    "adminKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Admin-Key",
        "description": "The operator key (`AEGIS_ADMIN_KEY`).",
    },
}
WHY = {
    400: "Invalid input: a documented validation rule, or the input policy (NUL characters, "
    "lone surrogates, non-finite or out-of-range numbers, nesting too deep).",
    403: "Missing or invalid credentials, or a tier that may not do this.",
    404: "Unknown id, or one the caller may not see.",
    409: "Valid, but clashes with the current state.",
    413: "The request body is larger than AEGIS_MAX_BODY_BYTES.",
    429: "A per-minute, monthly or sandbox limit was reached.",
}
_REQUEST_MODELS: dict[str, type[BaseModel]] = {}


def errors(*codes: int, overrides: dict[int, dict[str, Any]] | None = None) -> dict[int | str, Any]:
    """`responses=` for a route: its error codes (plus the edge's 400 and 413)."""
    out: dict[int | str, Any] = {}
    for code in sorted({400, 413, *codes}):
        out[code] = {"model": ErrorBody, "description": WHY[code]}
    out.update(overrides or {})
    return out


def ok(model: type[BaseModel], description: str = "Success") -> dict[str, Any]:
    return {"model": model, "description": description}


def body(model: type[BaseModel], *, required: bool = True, **extra: Any) -> dict[str, Any]:
    """`openapi_extra=` declaring a JSON request body of `model` (documented only)."""
    _REQUEST_MODELS[model.__name__] = model
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {"required": required, "content": {"application/json": {"schema": ref}}},
        **extra,
    }


def bearer_auth(*schemes: str) -> dict[str, Any]:
    """`openapi_extra=` naming the credentials a route takes."""
    return {"security": [{scheme: []} for scheme in schemes]}


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name, model in _REQUEST_MODELS.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    for path in doc.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            # Request validation errors answer 400 `{"error": ...}` (api/errors.py), never 422.
            responses.pop("422", None)
            for code, response in responses.items():
                content = response.get("content", {})
                if code >= "400" and "application/json" not in content and content:
                    # An HTML route's errors are JSON too (FastAPI files them as text/html).
                    response["content"] = {"application/json": next(iter(content.values()))}
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = SECURITY_SCHEMES
    app.openapi_schema = doc
    return doc


def install(app: FastAPI) -> None:
    """The custom document and the offline `/docs` and `/redoc` pages."""
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    assets = files("fastapi_offline") / "static"
    app.mount(STATIC_URL, StaticFiles(directory=str(assets)), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            # Swagger UI would otherwise ask validator.swagger.io for a badge.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
