"""`aegis serve`: the FastAPI app under uvicorn."""

from __future__ import annotations

import argparse
import ipaddress
import os

PUBLIC_BASE_URL_ENV = "AEGIS_PUBLIC_BASE_URL"


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the HTTP API (api.main:app) with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--reload", action="store_true")
    serve.add_argument("--no-access-log", action="store_true", help="do not log a line per request")
    serve.set_defaults(handler=_serve)


def public_base_url(host: str, port: int) -> str:
    """The base of links handed to customers for a server bound to host:port; a wildcard
    address (all interfaces) is reached through loopback on this machine."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return f"http://{host}:{port}"
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    return f"http://{f'[{address}]' if address.version == 6 else address}:{port}"


def export_public_base_url(host: str, port: int) -> str:
    """AEGIS_PUBLIC_BASE_URL as set, else the server's own address (exported for the app
    and every child process); returns the value in force."""
    from aegis_core.settings import get_settings

    if not os.environ.get(PUBLIC_BASE_URL_ENV):
        os.environ[PUBLIC_BASE_URL_ENV] = public_base_url(host, port)
    get_settings.cache_clear()
    return os.environ[PUBLIC_BASE_URL_ENV]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    export_public_base_url(args.host, args.port)

    uvicorn.run(
        "api.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=args.reload,
        proxy_headers=True,
        access_log=not args.no_access_log,
    )
    return 0
