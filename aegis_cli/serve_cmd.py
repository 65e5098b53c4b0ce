"""`aegis serve`: the ASGI app under granian (default) or uvicorn.

granian answered POST /evaluate with ~1.7x the requests per second of uvicorn on the
same machine and app (docs/benchmarks.md); `--server uvicorn`, and `--reload` (which
uses uvicorn's reloader), keep uvicorn available.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the HTTP API (api.main:app)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--reload", action="store_true", help="restart on code changes (uvicorn)")
    serve.add_argument("--no-access-log", action="store_true", help="do not log a line per request")
    serve.add_argument("--server", choices=("granian", "uvicorn"), default="granian")
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from aegis_cli.public_url import export_public_base_url

    export_public_base_url(args.host, args.port)  # links follow this server's host and port
    if args.server == "granian" and not args.reload:
        from granian import Granian
        from granian.constants import Interfaces, Loops

        Granian(
            "api.main:behind_proxy",  # X-Forwarded-* from trusted proxies, as uvicorn does
            address=args.host,
            port=args.port,
            workers=args.workers,
            interface=Interfaces.ASGI,
            loop=Loops.uvloop,
            websockets=False,
            log_access=not args.no_access_log,
        ).serve()
        return 0
    import uvicorn

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
