"""A scripted OpenAI-compatible chat server on a real socket, for the wire's error paths.

Each request to POST /v1/chat/completions takes the next `Reply` from the script (the last
one repeats): an HTTP status, the message content (wrapped in a real chat.completion
body) or a raw body, a delay before answering, a finish_reason. Requests are recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str | None = None
    status: int = 200
    raw: str | None = None
    delay_s: float = 0.0
    finish_reason: str = "stop"


def completion(content: str, model: str, finish_reason: str = "stop") -> dict[str, Any]:
    """The body OpenAI's API returns for a non-streaming chat completion."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


@dataclass
class FakeChatServer:
    script: list[Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    url: str = ""

    def next_reply(self, body: dict[str, Any]) -> Reply:
        self.requests.append(body)
        self.times.append(time.monotonic())
        return self.script[min(len(self.requests), len(self.script)) - 1]


@contextmanager
def fake_chat_server(*script: Reply) -> Iterator[FakeChatServer]:
    """Yields the server; its `url` is the OpenAI base URL (ending in /v1)."""
    state = FakeChatServer(list(script))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def do_POST(self) -> None:
            if self.path != "/v1/chat/completions":
                self.send_error(404)
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            reply = state.next_reply(body)
            time.sleep(reply.delay_s)
            if reply.raw is not None:
                payload = reply.raw
            elif reply.status >= 400:
                payload = json.dumps({"error": {"message": "scripted failure", "type": "server"}})
            else:
                payload = json.dumps(completion(reply.content, body["model"], reply.finish_reason))
            data = payload.encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
