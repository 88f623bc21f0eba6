"""A tiny HTTP tool gateway (issue 10) for the toolkit tests: stdlib http.server on 127.0.0.1, with scripted faults.

    GET  /tools   -> [{"type": "function", "function": {...}}] (or {"tools": [...]} with shape="object")
    POST /invoke  -> {"text"?, "data"?, "error"?}

Tools: add(a, b) -> data; echo(text) -> text; report(topic) -> text and data; fail(message) -> error field;
slow(seconds) -> sleeps; crash() -> HTTP 500; garbage() -> a body that is not JSON. Unknown names -> 404.
Settings (configure / reset): shape ("list" | "object"), malformed (add broken definitions to /tools),
tools_status (answer /tools with this HTTP status), tools_delay_s, token (require `Authorization: Bearer`).
Every answer allows any origin (CORS), so the page can use it too. `requests` records (method, path, headers, body).

Run by hand: `python -m tests.servers.gateway_server --port 8766`.
"""

from __future__ import annotations

import argparse
import http.server
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

DEFAULTS: dict[str, Any] = {"shape": "list", "malformed": False, "tools_status": 200, "tools_delay_s": 0.0,
                            "token": None}

GOOD_TOOLS = [
    {"type": "function", "function": {"name": "add", "description": "Add two integers.", "parameters": {
        "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"]}}},
    {"type": "function", "function": {"name": "echo", "description": "Echo text.", "parameters": {
        "type": "object", "properties": {"text": {"type": "string", "description": "what to echo"}},
        "required": ["text"]}}},
    {"type": "function", "function": {"name": "report", "description": "Text and data.", "parameters": {
        "type": "object", "properties": {"topic": {"type": "string"}}, "required": ["topic"]}}},
    {"type": "function", "function": {"name": "fail", "description": "Answers with an error field.",
                                      "parameters": {"type": "object", "properties": {"message": {"type": "string"}},
                                                     "required": ["message"]}}},
    {"type": "function", "function": {"name": "slow", "description": "Sleeps.", "parameters": {
        "type": "object", "properties": {"seconds": {"type": "number"}}, "required": ["seconds"]}}},
    {"type": "function", "function": {"name": "crash", "description": "HTTP 500."}},  # no parameters: allowed
    {"type": "function", "function": {"name": "garbage", "description": "Not JSON.", "parameters": {
        "type": "object", "properties": {}}}},
]

MALFORMED_TOOLS: list[Any] = [
    {"type": "function"},                                                                  # no function object
    {"type": "function", "function": {"description": "nameless", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "bad name!", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "listy", "parameters": {"type": "array"}}},
    {"type": "function", "function": {"name": "stringy", "parameters": "a, b"}},
    {"type": "retrieval", "function": {"name": "retriever"}},
    {"type": "function", "function": {"name": "add", "description": "a second add"}},    # duplicate name
    "not even an object",
]


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class GatewayServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[SeenRequest] = []
        self._apply(DEFAULTS)
        self._httpd = http.server.ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    def _apply(self, settings: dict[str, Any]) -> None:
        for name, value in settings.items():
            if name not in DEFAULTS:
                raise TypeError(f"unknown setting {name!r}; known: {sorted(DEFAULTS)}")
            setattr(self, name, value)

    def configure(self, **settings: Any) -> GatewayServer:
        self._apply(settings)
        return self

    def reset(self) -> None:
        self.requests.clear()
        self._apply(DEFAULTS)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> GatewayServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="gateway-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> GatewayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def tools_body(self) -> Any:
        tools = GOOD_TOOLS + (MALFORMED_TOOLS if self.malformed else [])
        return {"tools": tools} if self.shape == "object" else tools

    def invoke(self, name: str, args: dict[str, Any]) -> tuple[int, Any]:
        if name == "add":
            return 200, {"data": args["a"] + args["b"]}
        if name == "echo":
            return 200, {"text": args["text"]}
        if name == "report":
            return 200, {"text": f"report on {args['topic']}", "data": {"topic": args["topic"], "items": 3}}
        if name == "fail":
            return 200, {"error": args["message"]}
        if name == "slow":
            time.sleep(float(args["seconds"]))
            return 200, {"text": "slept"}
        if name == "crash":
            return 500, {"error": "the gateway fell over"}
        if name == "garbage":
            return 200, b"<html>definitely not json"
        return 404, {"error": f"unknown tool {name}"}


def _make_handler(server: GatewayServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _send(self, status: int, body: Any) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(data)

        def _record(self, body: Any) -> bool:
            headers = {k.lower(): v for k, v in self.headers.items()}
            server.requests.append(SeenRequest(self.command, self.path, headers, body))
            if server.token and headers.get("authorization") != f"Bearer {server.token}":
                self._send(401, {"error": "missing or wrong token"})
                return False
            return True

        def do_OPTIONS(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(204)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Methods", "GET, POST")
            self.send_header("Access-Control-Allow-Headers", "Content-Type, Authorization")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            if not self._record(None):
                return
            if self.path != "/tools":
                self._send(404, {"error": "not found"})
                return
            time.sleep(server.tools_delay_s)
            if server.tools_status != 200:
                self._send(server.tools_status, {"error": f"scripted {server.tools_status}"})
                return
            self._send(200, server.tools_body())

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                body = None
            if not self._record(body):
                return
            if self.path != "/invoke" or not isinstance(body, dict):
                self._send(400, {"error": "POST /invoke with {name, arguments}"})
                return
            status, answer = server.invoke(str(body.get("name")), body.get("arguments") or {})
            self._send(status, answer)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    with GatewayServer(port=args.port) as server:
        print(f"gateway at {server.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
