"""A local stand-in for api.stripe.com speaking Stripe's wire format (form-encoded
requests, JSON objects back), recording what it was sent."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


@contextmanager
def fake_stripe(fail: bool = False) -> Iterator[tuple[str, list[dict]]]:
    calls: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            calls.append({"path": self.path, "form": form, "headers": dict(self.headers)})
            if fail:
                body = {"error": {"type": "api_error", "message": "Stripe is down"}}
                self._reply(500, body)
                return
            session_id = f"cs_test_{uuid.uuid4().hex[:24]}"
            self._reply(
                200,
                {
                    "id": session_id,
                    "object": "checkout.session",
                    "mode": form.get("mode"),
                    "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
                    "currency": form["line_items[0][price_data][currency]"],
                    "client_reference_id": form.get("client_reference_id"),
                    "payment_status": "unpaid",
                    "status": "open",
                    "livemode": False,
                    "url": f"https://checkout.stripe.com/c/pay/{session_id}",
                },
            )

        def _reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_{uuid.uuid4().hex[:14]}")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", calls
    finally:
        server.shutdown()
        server.server_close()
