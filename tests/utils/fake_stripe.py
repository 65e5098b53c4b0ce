"""A local stand-in for api.stripe.com speaking Stripe's wire format (form-encoded
requests, JSON objects back), recording what it was sent.

It creates Checkout Sessions and PaymentIntents, and keeps Stripe's idempotency rule: the
first answer per `Idempotency-Key` is replayed for every retry with the same parameters
(recorded with `replayed: True`); other parameters under a used key are an
`idempotency_error`."""

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

    lock = threading.Lock()
    replies: dict[str, tuple[dict, int, dict]] = {}  # Idempotency-Key -> (form, status, body)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            key = self.headers.get("Idempotency-Key")
            call = {"path": self.path, "form": form, "headers": dict(self.headers)}
            with lock:  # Stripe: the first result per key is stored and replayed
                calls.append(call)
                if key in replies:
                    first_form, status, body = replies[key]
                    if first_form != form:
                        status, body = (
                            400,
                            {
                                "error": {
                                    "type": "idempotency_error",
                                    "message": "Keys for idempotent requests can only be used with"
                                    " the same parameters they were first used with.",
                                }
                            },
                        )
                    call.update(replayed=True, status=status, response=body)
                    self._reply(status, body)
                    return
                status, body = self._answer(form)
                if key:
                    replies[key] = (form, status, body)
                call.update(replayed=False, status=status, response=body)
            self._reply(status, body)

        def _answer(self, form: dict) -> tuple[int, dict]:
            if fail:
                return 500, {"error": {"type": "api_error", "message": "Stripe is down"}}
            if self.path.startswith("/v1/payment_intents"):
                return 200, {
                    "id": f"pi_{uuid.uuid4().hex[:24]}",
                    "object": "payment_intent",
                    "amount": int(form["amount"]),
                    "currency": form["currency"],
                    "description": form.get("description"),
                    "metadata": {
                        k[len("metadata[") : -1]: v
                        for k, v in form.items()
                        if k.startswith("metadata[")
                    },
                    "status": "requires_payment_method",
                    "livemode": False,
                }
            session_id = f"cs_test_{uuid.uuid4().hex[:24]}"
            return 200, {
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
            }

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
