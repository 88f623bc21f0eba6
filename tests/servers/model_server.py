"""A scripted OpenAI-compatible + Ollama-compatible model server on 127.0.0.1, for unit, loop and browser tests.

It streams for real (chunked transfer encoding, one write + flush per chunk, real sleeps between them), speaks CORS
like the real servers (including refusing an origin), injects faults on demand and records every request.

    server = ModelServer(allowed_origin="*").start()     # or the `model_server` fixture (tests/servers/fixtures.py)
    server.url                  # "http://127.0.0.1:PORT";  OpenAI base URL: server.openai_base ("<url>/v1")
    server.enqueue("Hello!")    # the next chat request gets this answer (either wire format)
    server.enqueue({"text": "<think>hm</think>42", "chunk_chars": 2, "chunk_delay_s": 0.01})
    server.enqueue({"fault": "429", "retry_after": 1}, "then this")   # one reply per chat request, in order
    server.requests             # [RecordedRequest(method, path, headers, body, ...)]
    server.reset()              # empty queue and records, default settings (the fixture does it per test)

Endpoints: POST /v1/chat/completions (SSE), GET /v1/models, POST /api/chat (NDJSON), GET /api/tags,
GET / ("Ollama is running"), OPTIONS * (CORS preflight). With an empty queue a chat request gets `default_reply`
(None: a 500 that says nothing was scripted, so a missing enqueue fails loudly).

A reply is a string (the answer text) or a dict with any of:
    text             the answer (split into deltas of chunk_chars characters)
    deltas           explicit list of delta strings instead of text
    reasoning        reasoning text, sent first as delta.reasoning_content (OpenAI) / message.thinking (Ollama)
    chunk_chars      characters per delta (default: server.chunk_chars, 8)
    chunk_delay_s    sleep between deltas (default: server.chunk_delay_s, 0)
    first_delta_delay_s  headers go out at once, the first delta after this sleep (time to first token)
    deltas_per_write several deltas in one write (fast bulk streams; default 1)
    usage            True (default: reported), False (not reported) or {"prompt_tokens": n, "completion_tokens": m}
    finish_reason    default "stop"
    status           answer with this HTTP status and an error body instead of a stream
    message          the error text for `status` / "error_event" (may contain {auth}: the received Authorization)
    error_code       OpenAI error `code` for status replies (e.g. "context_length_exceeded")
    retry_after      a Retry-After header value (seconds or HTTP date) for status/"429"/"503" replies
    fault            "429" | "500" | "502" | "503"  status with a short body
                     "cut"              stream after_chars characters of text, then close the socket mid-body
                     "truncate"         same, but end the body cleanly (no [DONE], no done: true)
                     "bad_json"         stream after_chars characters, then a line of invalid JSON
                     "error_event"      stream after_chars characters, then an error object in the stream
                     "drop"             close the connection without any answer
                     "slow_first_byte"  sleep delay_s before the status line, then answer normally
    after_chars      where "cut"/"truncate"/"bad_json"/"error_event" strike (default 0)
    delay_s          for "slow_first_byte"

Settings (attributes, reset by reset()): allowed_origin ("*", an exact origin, or None to refuse every origin:
the preflight and any request carrying that Origin get 403 without CORS headers, as Ollama does without
OLLAMA_ORIGINS; no reply is consumed), chunk_chars, chunk_delay_s,
models (names listed), default_reply, resource_policy (a Cross-Origin-Resource-Policy header value, or None),
api_key (None: any key; a string: a request to the model list or chat without `Authorization: Bearer <api_key>`
gets 401 echoing the Authorization it received, as some servers do, and consumes no reply).

Standalone: `python -m tests.servers.model_server --port 8123 [--origin '*'] [--reply 'text']`. Then the same
control API over HTTP: POST /_control/enqueue (a reply as JSON, or a list), POST /_control/reset,
POST /_control/settings ({"chunk_delay_s": 0.01, ...}), GET /_control/requests.
"""

from __future__ import annotations

import argparse
import http.server
import json
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["ModelServer", "RecordedRequest", "Reply"]

Reply = str | dict[str, Any]
DEFAULTS: dict[str, Any] = {
    "allowed_origin": "*",
    "chunk_chars": 8,
    "chunk_delay_s": 0.0,
    "models": ["scripted-model", "scripted-coder"],
    "default_reply": None,
    "resource_policy": None,
    "api_key": None,
}


@dataclass
class RecordedRequest:
    """One request as the server saw it. Times are time.time() seconds (comparable with a browser's epoch ms/1000)."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    received_at: float
    first_body_at: float | None = None  # just before the first delta was written
    finished_at: float | None = None
    client_disconnected: bool = False  # a write failed: the client went away (e.g. an aborted fetch)
    reply: Any = None

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "headers": self.headers,
                "body": self.body.decode("utf-8", "replace"), "received_at": self.received_at,
                "first_body_at": self.first_body_at, "finished_at": self.finished_at,
                "client_disconnected": self.client_disconnected}


class _ClientGone(Exception):
    pass


class ModelServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, **settings: Any) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self.requests: list[RecordedRequest] = []
        self._apply(DEFAULTS)
        self._apply(settings)
        self._httpd = _HTTPServer((host, port), _make_handler(self))
        self._thread: threading.Thread | None = None

    # --- control ------------------------------------------------------------------------------------------------

    def _apply(self, settings: dict[str, Any]) -> None:
        for name, value in settings.items():
            if name not in DEFAULTS:
                raise TypeError(f"unknown setting {name!r}; known: {sorted(DEFAULTS)}")
            setattr(self, name, list(value) if isinstance(value, list | tuple) else value)

    def configure(self, **settings: Any) -> ModelServer:
        self._apply(settings)
        return self

    def enqueue(self, *replies: Reply) -> ModelServer:
        with self._lock:
            self._queue.extend(replies)
        return self

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
        self._apply(DEFAULTS)

    @property
    def pending_replies(self) -> int:
        return len(self._queue)

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path in ("/v1/chat/completions", "/api/chat")]

    def wait_for(self, predicate: Any, timeout_s: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return predicate()

    def _next_reply(self) -> Reply | None:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default_reply

    # --- lifecycle ----------------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base(self) -> str:
        return f"{self.url}/v1"

    def start(self) -> ModelServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="model-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that abort or drop keep-alive connections are part of the script, not server failures.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _normalise(reply: Reply | None) -> dict[str, Any]:
    if reply is None:
        return {"status": 500, "message": "scripted model server: no reply was enqueued for this request"}
    return {"text": reply} if isinstance(reply, str) else dict(reply)


def _pieces(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i:i + size] for i in range(0, len(text), size)]


def _make_handler(server: ModelServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(_Handler):
        owner = server

    return Handler


class _Handler(http.server.BaseHTTPRequestHandler):
    owner: ModelServer
    protocol_version = "HTTP/1.1"  # chunked streaming and keep-alive, like real servers
    disable_nagle_algorithm = True  # each delta leaves at once (else small writes wait ~40 ms for delayed ACKs)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base class signature
        pass

    # --- plumbing -------------------------------------------------------------------------------------------------

    def _record(self) -> RecordedRequest:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record = RecordedRequest(self.command, self.path.split("?", 1)[0],
                                 {k.lower(): v for k, v in self.headers.items()}, body, time.time())
        with self.owner._lock:
            self.owner.requests.append(record)
        return record

    def _origin_allowed(self) -> bool:
        allowed = self.owner.allowed_origin
        origin = self.headers.get("Origin")
        return origin is None or allowed == "*" or (allowed is not None and origin == allowed)

    def _common_headers(self) -> None:
        origin = self.headers.get("Origin")
        if origin is not None and self._origin_allowed():
            self.send_header("Access-Control-Allow-Origin", "*" if self.owner.allowed_origin == "*" else origin)
            self.send_header("Vary", "Origin")
            # Without this a cross-origin page cannot read Retry-After (it is not a CORS-safelisted header).
            self.send_header("Access-Control-Expose-Headers", "Retry-After")
        if self.owner.resource_policy:
            self.send_header("Cross-Origin-Resource-Policy", self.owner.resource_policy)

    def _send_json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self._common_headers()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _write_chunk(self, record: RecordedRequest, data: bytes) -> None:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as err:
            record.client_disconnected = True
            raise _ClientGone from err

    def _close_abruptly(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # --- routes ---------------------------------------------------------------------------------------------------

    def do_OPTIONS(self) -> None:  # noqa: N802 - http.server naming
        self._record()
        if not self._origin_allowed():
            self._send_json(403, {"error": "origin not allowed"})  # no CORS headers: the browser refuses
            return
        self.send_response(204)
        self._common_headers()
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", self.headers.get("Access-Control-Request-Headers", "*"))
        self.send_header("Access-Control-Max-Age", "0")  # tests reconfigure CORS; no cached preflights
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _refuse_origin(self) -> bool:
        """Like Ollama without OLLAMA_ORIGINS: a request from a foreign origin gets 403 (and no CORS headers). It can
        arrive without a preflight when the browser cached an earlier, allowed one."""
        if self._origin_allowed():
            return False
        self._send_json(403, {"error": "origin not allowed"})
        return True

    def _refuse_key(self, record: RecordedRequest) -> bool:
        expected = self.owner.api_key
        received = record.headers.get("authorization", "")
        if expected is None or record.path.startswith("/_control/") or received == f"Bearer {expected}":
            return False
        self._send_json(401, {"error": {"message": f"Incorrect API key provided: {received}",
                                        "type": "invalid_request_error", "code": "invalid_api_key"}})
        return True

    def do_GET(self) -> None:  # noqa: N802
        record = self._record()
        if self._refuse_origin() or self._refuse_key(record):
            return
        if record.path == "/_control/requests":
            self._send_json(200, [r.to_dict() for r in self.owner.requests[:-1]])
        elif record.path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in self.owner.models]})
        elif record.path == "/api/tags":
            self._send_json(200, {"models": [{"name": m, "model": m} for m in self.owner.models]})
        elif record.path == "/":
            self._send_json(200, "Ollama is running")
        else:
            self._send_json(404, {"error": f"no route {record.path}"})

    def do_POST(self) -> None:  # noqa: N802
        record = self._record()
        if self._refuse_origin():
            return
        if record.path.startswith("/_control/"):
            self._control(record)
            return
        if record.path not in ("/v1/chat/completions", "/api/chat"):
            self._send_json(404, {"error": f"no route {record.path}"})
            return
        if self._refuse_key(record):
            return
        reply = _normalise(self.owner._next_reply())
        record.reply = reply
        try:
            self._chat(record, reply, ollama=record.path == "/api/chat")
        except _ClientGone:
            self.close_connection = True
        finally:
            record.finished_at = time.time()

    def _control(self, record: RecordedRequest) -> None:
        payload = record.json
        if record.path == "/_control/enqueue":
            self.owner.enqueue(*(payload if isinstance(payload, list) else [payload]))
        elif record.path == "/_control/reset":
            self.owner.reset()
        elif record.path == "/_control/settings":
            self.owner.configure(**payload)
        else:
            self._send_json(404, {"error": "unknown control"})
            return
        self._send_json(200, {"ok": True})

    # --- chat -----------------------------------------------------------------------------------------------------

    def _chat(self, record: RecordedRequest, reply: dict[str, Any], *, ollama: bool) -> None:
        fault = str(reply.get("fault", ""))
        if fault == "drop":
            self._close_abruptly()
            return
        if fault == "slow_first_byte":
            time.sleep(float(reply.get("delay_s", 1.0)))
        if fault in ("429", "500", "502", "503"):
            reply = {**reply, "status": int(fault)}
        if "status" in reply:
            self._error_reply(record, reply, ollama=ollama)
            return
        model = (record.json or {}).get("model", "scripted-model")
        chunk_chars = int(reply.get("chunk_chars", self.owner.chunk_chars))
        delay = float(reply.get("chunk_delay_s", self.owner.chunk_delay_s))
        deltas = list(reply.get("deltas") or _pieces(str(reply.get("text", "")), chunk_chars))
        reasoning = _pieces(str(reply.get("reasoning", "")), chunk_chars) if reply.get("reasoning") else []
        per_write = max(1, int(reply.get("deltas_per_write", 1)))
        strike = int(reply.get("after_chars", 0)) if fault in ("cut", "truncate", "bad_json", "error_event") else None

        self.send_response(200)
        self._common_headers()
        self.send_header("Content-Type", "application/x-ndjson" if ollama else "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        if reply.get("first_delta_delay_s"):
            time.sleep(float(reply["first_delta_delay_s"]))

        frames = [self._frame(model, thinking=piece, ollama=ollama) for piece in reasoning]
        sent_chars = 0
        for piece in deltas:
            if strike is not None and sent_chars + len(piece) > strike:
                piece = piece[: strike - sent_chars]
                if piece:
                    frames.append(self._frame(model, content=piece, ollama=ollama))
                break
            frames.append(self._frame(model, content=piece, ollama=ollama))
            sent_chars += len(piece)
        for start in range(0, len(frames), per_write):
            if record.first_body_at is None:
                record.first_body_at = time.time()
            self._write_chunk(record, b"".join(frames[start:start + per_write]))
            if delay:
                time.sleep(delay)

        if strike is not None:
            if fault == "cut":
                self._close_abruptly()  # no terminating chunk: the client sees a broken body
                return
            if fault == "bad_json":
                broken = b"{\"message\":\n" if ollama else b"data: {\"choices\": [{\"delta\": \n\n"
                self._write_chunk(record, broken)
            elif fault == "error_event":
                message = str(reply.get("message", "the model crashed"))
                err = {"error": message} if ollama else {"error": {"message": message, "type": "server_error"}}
                self._write_chunk(record, (json.dumps(err) + "\n").encode() if ollama
                                  else b"data: " + json.dumps(err).encode() + b"\n\n")
            self._write_chunk(record, b"")  # clean end of the body, without a finish
            return
        self._write_chunk(record, self._finish(model, record, reply, deltas, ollama=ollama))
        self._write_chunk(record, b"")

    @staticmethod
    def _frame(model: str, *, content: str = "", thinking: str = "", ollama: bool) -> bytes:
        if ollama:
            message = {"role": "assistant", "content": content}
            if thinking:
                message["thinking"] = thinking
            return json.dumps({"model": model, "created_at": "2026-01-01T00:00:00Z", "message": message,
                               "done": False}).encode() + b"\n"
        delta = {"reasoning_content": thinking} if thinking else {"content": content}
        chunk = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"

    @staticmethod
    def _finish(model: str, record: RecordedRequest, reply: dict[str, Any], deltas: list[str], *,
                ollama: bool) -> bytes:
        reason = str(reply.get("finish_reason", "stop"))
        usage_spec = reply.get("usage", True)
        messages = (record.json or {}).get("messages", [])
        prompt = sum(len(str(m.get("content", ""))) for m in messages) // 4 + 1
        usage = {"prompt_tokens": prompt, "completion_tokens": len(deltas)}
        if isinstance(usage_spec, dict):
            usage.update(usage_spec)
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if ollama:
            done: dict[str, Any] = {"model": model, "created_at": "2026-01-01T00:00:00Z",
                                    "message": {"role": "assistant", "content": ""}, "done": True,
                                    "done_reason": reason}
            if usage_spec:
                done.update(prompt_eval_count=usage["prompt_tokens"], eval_count=usage["completion_tokens"])
            return json.dumps(done).encode() + b"\n"
        last = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": model,
                "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}
        out = b"data: " + json.dumps(last).encode() + b"\n\n"
        wants_usage = ((record.json or {}).get("stream_options") or {}).get("include_usage")
        if usage_spec and wants_usage:
            tail = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": model,
                    "choices": [], "usage": usage}
            out += b"data: " + json.dumps(tail).encode() + b"\n\n"
        return out + b"data: [DONE]\n\n"

    def _error_reply(self, record: RecordedRequest, reply: dict[str, Any], *, ollama: bool) -> None:
        status = int(reply["status"])
        default = {401: "Incorrect API key provided", 404: "model not found", 429: "Rate limit reached",
                   500: "Internal server error", 502: "Bad gateway", 503: "Service unavailable"}
        message = str(reply.get("message", default.get(status, f"HTTP {status}")))
        message = message.replace("{auth}", record.headers.get("authorization", ""))
        if ollama:
            body: Any = {"error": message}
        else:
            body = {"error": {"message": message, "type": "invalid_request_error" if status < 500 else "server_error",
                              "code": reply.get("error_code")}}
        extra = {"Retry-After": str(reply["retry_after"])} if "retry_after" in reply else {}
        self._send_json(status, body, extra)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Scripted OpenAI/Ollama-compatible model server on loopback.")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--origin", default="*", help="allowed CORS origin ('*', an origin, or 'none')")
    parser.add_argument("--reply", default="Hello from the scripted model.", help="answer when nothing is enqueued")
    parser.add_argument("--chunk-delay", type=float, default=0.02, help="seconds between deltas")
    args = parser.parse_args(argv)
    server = ModelServer(port=args.port, allowed_origin=None if args.origin == "none" else args.origin,
                         default_reply=args.reply, chunk_delay_s=args.chunk_delay)
    print(f"scripted model server on {server.url} (OpenAI base {server.openai_base}); Ctrl-C to stop", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
