"""Local servers speaking each LLM provider's wire protocol, for the real client libraries.

One threaded HTTP server on a random loopback port answers OpenAI and Hugging Face
(`/v1/chat/completions`), Groq (`/openai/v1/chat/completions`) and Ollama (`/api/chat`,
`/api/generate`). By default it answers with a JSON value valid against the schema it was
sent (from `response_format`, Ollama's `format`, or the system prompt); a test queues
`Reply` steps to play 429s, 500s, truncated, refused, invalid or slow answers first.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATHS = ("/v1/chat/completions", "/openai/v1/chat/completions")
OLLAMA_PATHS = ("/api/chat", "/api/generate")


@dataclass(frozen=True)
class Reply:
    """One scripted answer: an HTTP error, or a 200 with this text, finish reason, refusal,
    after `delay_s` seconds (None fields take the default answer's value)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    finish: str = "stop"
    refusal: str | None = None
    delay_s: float = 0.0


@dataclass(frozen=True)
class Seen:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


def example(schema: Any) -> Any:
    """The smallest value valid against a (simple) JSON Schema, with readable strings."""
    if not isinstance(schema, dict):
        return None
    if "enum" in schema:
        values = [v for v in schema["enum"] if v is not None]
        return values[0] if values else None
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        names = schema.get("required", list(props))
        return {n: example(props.get(n, {})) for n in names}
    if kind == "array":
        item = example(schema.get("items", {}))
        return [item] * max(1, schema.get("minItems", 1)) if item is not None else []
    if kind == "string":
        return "served"
    if kind in ("number", "integer"):
        low = schema.get("minimum", 0)
        return max(low, min(schema.get("maximum", 1), 1 if kind == "integer" else 0.5))
    if kind == "boolean":
        return True
    return None


def _schema_of(body: dict[str, Any]) -> Any:
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return fmt["json_schema"]["schema"]
    if isinstance(body.get("format"), dict):
        return body["format"]
    system = body.get("system") or next(
        (m["content"] for m in body.get("messages", []) if m["role"] == "system"), ""
    )
    return json.loads(system.rsplit("\n", 1)[-1]) if system.rstrip().endswith("}") else {}


class LLMServer:
    """The server and what it saw; `script` holds replies played before the default."""

    def __init__(self, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s
        self.script: list[Reply] = []
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def requests(self) -> int:
        with self.lock:
            return len(self.seen)

    def _next(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        with self.lock:
            self.seen.append(Seen(path, body, headers))
            return self.script.pop(0) if self.script else Reply()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                body = json.loads(raw or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = server._next(self.path, body, headers)
                time.sleep(server.latency_s + reply.delay_s)
                if self.path not in CHAT_PATHS + OLLAMA_PATHS:
                    return self._send(404, {"error": f"no route {self.path}"}, {})
                if reply.status != 200:
                    error: Any = {"message": f"scripted {reply.status}", "type": "server_error"}
                    if self.path in OLLAMA_PATHS:
                        error = f"scripted {reply.status}"
                    return self._send(reply.status, {"error": error}, reply.headers)
                text = reply.text
                if text is None:
                    text = json.dumps(example(_schema_of(body)))
                self._send(200, server.answer(self.path, body, text, reply), reply.headers)

            def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                # The client may have given up waiting (the timeout tests).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

        return Handler

    def answer(self, path: str, body: dict[str, Any], text: str, reply: Reply) -> Any:
        """The 200 body in the protocol of `path`."""
        prompt = sum(len(m.get("content", "")) for m in body.get("messages", []))
        prompt += len(body.get("prompt", "") or "") + len(body.get("system", "") or "")
        usage_in, usage_out = prompt // 4 + 1, len(text) // 4 + 1
        model = body.get("model", "")
        if path in OLLAMA_PATHS:
            out: dict[str, Any] = {
                "model": model,
                "created_at": "2026-11-29T00:00:00Z",
                "done": True,
                "done_reason": reply.finish,
                "prompt_eval_count": usage_in,
                "eval_count": usage_out,
            }
            if path == "/api/chat":
                out["message"] = {"role": "assistant", "content": text}
            else:
                out["response"] = text
            return out
        return {
            "id": "chatcmpl-local",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": reply.refusal},
                    "finish_reason": reply.finish,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": usage_in,
                "completion_tokens": usage_out,
                "total_tokens": usage_in + usage_out,
            },
        }


@contextmanager
def serve(latency_s: float = 0.0) -> Iterator[LLMServer]:
    """An LLMServer running on a thread for the duration of the block."""
    server = LLMServer(latency_s)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join()
