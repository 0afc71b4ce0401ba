"""A loopback OpenAI-compatible chat server for tests, driven through the real `ChatOpenAI`.

    with StubLLM([reply1, Sleep(2.0), reply3]) as stub:   # scripted, one reply per request
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        ...
    stub.prompts  # the prompt text of every request received

A reply is a string (the assistant message), `Sleep(seconds)` (answer late: the client
times out), or a callable prompt -> string. After the script runs out the last reply repeats.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Sleep:
    seconds: float
    then: str = "{}"


Reply = str | Sleep | Callable[[str], str]


class StubLLM:
    def __init__(self, replies: list[Reply]) -> None:
        self.replies = list(replies)
        self.prompts: list[str] = []
        self.calls = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> StubLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, prompt: str) -> Reply:
        with self._lock:
            self.prompts.append(prompt)
            i = min(self.calls, len(self.replies) - 1)
            self.calls += 1
            return self.replies[i]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                prompt = "\n\n".join(str(m.get("content", "")) for m in body.get("messages", []))
                reply = stub._next(prompt)
                if isinstance(reply, Sleep):
                    time.sleep(reply.seconds)
                    reply = reply.then
                elif callable(reply):
                    reply = reply(prompt)
                doc = {
                    "id": f"chatcmpl-stub-{stub.calls}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "stub"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": len(prompt) // 4,
                        "completion_tokens": len(reply) // 4,
                        "total_tokens": (len(prompt) + len(reply)) // 4,
                    },
                }
                data = json.dumps(doc).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

        return Handler
