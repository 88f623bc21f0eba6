"""A real MCP server for the toolkit tests: the official SDK's MCPServer over Streamable HTTP, run by uvicorn on
127.0.0.1 in a background thread.

Tools: add(a, b), echo(text, repeat), fail(message) (raises), slow(seconds), weather(city) (structured output),
chatty(text) (a log notification and a ping to the client mid-call), poll(seconds) (closes its SSE stream so the
client must resume with Last-Event-ID), lookup-item(item_id) (a name that is not a Python identifier).
`tools/list` is paginated `page_size` tools at a time so the client's cursor loop meets the real SDK.

Test hooks, beside the MCP endpoint at /mcp:
- `POST /test/expire` ends every live session on the server side (the SDK then answers 404 for their ids, as it
  does after its idle timeout), so tests can provoke session expiry without waiting.
- `token=` makes every request but the CORS preflight need `Authorization: Bearer <token>` (401 otherwise).
- `requests` records method, path and headers of every request, for assertions on what the client sent.
CORS: any loopback page origin is allowed and `Mcp-Session-Id` is exposed, so the page's worker can read it.

Run by hand: `python -m tests.servers.mcp_server --port 8765 [--json]`.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import anyio
import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError as McpToolError
from mcp.server.streamable_http import EventMessage, EventStore
from mcp.shared.message import ServerMessageMetadata
from mcp_types import EmptyResult, ListToolsResult, PaginatedRequestParams, PingRequest
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_ORIGIN_REGEX = r"https?://(127\.0\.0\.1|localhost)(:\d+)?"


class PagedMCPServer(MCPServer):
    """MCPServer answers tools/list in one page; real servers may not, so this one pages by an offset cursor."""

    def __init__(self, *args: Any, page_size: int = 2, **kwargs: Any) -> None:
        self.page_size = page_size
        super().__init__(*args, **kwargs)

    async def _handle_list_tools(self, ctx: Any, params: PaginatedRequestParams | None) -> ListToolsResult:
        tools = await self.list_tools()
        start = int(params.cursor) if params is not None and params.cursor else 0
        end = start + self.page_size
        return ListToolsResult(tools=tools[start:end], next_cursor=str(end) if end < len(tools) else None)


def build_mcp(page_size: int = 2) -> PagedMCPServer:
    mcp = PagedMCPServer("toolkit-test", page_size=page_size)

    @mcp.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @mcp.tool()
    def echo(text: str, repeat: int = 1) -> str:
        """Echo the text back, `repeat` times."""
        return text * repeat

    @mcp.tool()
    def fail(message: str) -> str:
        """Always raises with the given message."""
        raise McpToolError(message)  # the SDK passes ToolError text through; other exceptions are masked

    @mcp.tool()
    async def slow(seconds: float) -> str:
        """Sleep, then answer."""
        await anyio.sleep(seconds)
        return f"slept {seconds}"

    @mcp.tool()
    def weather(city: str) -> dict[str, Any]:
        """Structured weather for a city."""
        return {"city": city, "temp_c": 21.5, "sky": "clear"}

    @mcp.tool()
    async def chatty(text: str, ctx: Context) -> str:
        """Logs and pings the client (which must answer) before it answers."""
        await ctx.info(f"working on {text}")
        # Related to this call, so the ping rides the call's own SSE stream (unrelated requests would go to the
        # optional standalone GET stream, which this client does not open).
        await ctx.session.send_request(PingRequest(), EmptyResult,
                                       metadata=ServerMessageMetadata(related_request_id=ctx.request_id))
        return f"done {text}"

    @mcp.tool()
    async def poll(seconds: float, ctx: Context) -> str:
        """Closes its SSE stream at once (the 2025-11-25 polling pattern); the client must resume to get the answer."""
        await ctx.close_sse_stream()
        await anyio.sleep(seconds)
        return f"polled after {seconds}"

    @mcp.tool(name="lookup-item")
    def lookup_item(item_id: str) -> str:
        """A tool whose name is not a Python identifier."""
        return f"item {item_id}"

    return mcp


class MemoryEventStore(EventStore):
    """Keeps every SSE event so a client that lost its stream can resume with Last-Event-ID."""

    def __init__(self) -> None:
        self._events: list[tuple[str, str, Any]] = []  # (event id, stream id, message)

    async def store_event(self, stream_id: str, message: Any) -> str:
        event_id = str(len(self._events) + 1)
        self._events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(self, last_event_id: str, send_callback: Any) -> str | None:
        ids = [event_id for event_id, _, _ in self._events]
        if last_event_id not in ids:
            return None
        start = ids.index(last_event_id)
        stream_id = self._events[start][1]
        for event_id, stream, message in self._events[start + 1:]:
            if stream == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream_id


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # the JSON-RPC message(s), or None

    @property
    def rpc_method(self) -> str | None:
        return self.body.get("method") if isinstance(self.body, dict) else None


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


class _Gate:
    """Outermost ASGI layer: records requests and checks the bearer token (the preflight carries none)."""

    def __init__(self, app: ASGIApp, server: McpTestServer) -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        # Read the whole body first (to record it), then hand the app the same bytes.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        self.server.requests.append(SeenRequest(scope["method"], scope["path"], headers, _json_or_none(body)))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        token = self.server.token
        if token and scope["method"] != "OPTIONS" and headers.get("authorization") != f"Bearer {token}":
            response = JSONResponse({"error": "unauthorized"}, status_code=401)
            await self.app_with_cors(response)(scope, replay, send)
            return
        await self.app(scope, replay, send)

    @staticmethod
    def app_with_cors(response: Response) -> ASGIApp:
        # A 401 must still be readable by the page, or the browser reports a CORS failure instead.
        return CORSMiddleware(response, allow_origin_regex=LOOPBACK_ORIGIN_REGEX, allow_methods=["*"],
                              allow_headers=["*"], expose_headers=["Mcp-Session-Id"])


class McpTestServer:
    def __init__(self, *, json_response: bool = False, page_size: int = 2, token: str | None = None,
                 port: int = 0) -> None:
        self.json_response = json_response
        self.token = token
        self.requests: list[SeenRequest] = []
        self.mcp = build_mcp(page_size)
        self._port = port or _free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/mcp"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def reset(self) -> None:
        self.requests.clear()
        self.token = None

    def rpc_methods(self) -> list[str]:
        """The JSON-RPC methods POSTed so far, in order (responses to the server's requests show as "<reply>")."""
        return [r.rpc_method or "<reply>" for r in self.requests if r.method == "POST" and r.path == "/mcp"]

    def session_ids(self) -> set[str]:
        return set(self.mcp.session_manager._server_instances)  # the SDK keeps no public list

    def _app(self) -> ASGIApp:
        @self.mcp.custom_route("/test/expire", methods=["POST"])
        async def expire(request: Request) -> Response:
            manager = self.mcp.session_manager
            ended = list(manager._server_instances.items())
            for session_id, transport in ended:
                await manager._discard_session(session_id, transport)
            return JSONResponse({"expired": [sid for sid, _ in ended]})

        # The event store (SSE mode only) lets `poll` close its stream and the client resume it.
        store = None if self.json_response else MemoryEventStore()
        app = self.mcp.streamable_http_app(json_response=self.json_response, event_store=store, retry_interval=100)
        cors = CORSMiddleware(app, allow_origin_regex=LOOPBACK_ORIGIN_REGEX, allow_methods=["GET", "POST", "DELETE"],
                              allow_headers=["*"], expose_headers=["Mcp-Session-Id"])
        return _Gate(cors, self)

    def start(self) -> McpTestServer:
        config = uvicorn.Config(self._app(), host="127.0.0.1", port=self._port, log_level="warning",
                                lifespan="on", ws="none")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="mcp-test-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the MCP test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    def __enter__(self) -> McpTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--json", action="store_true", help="answer with JSON bodies instead of SSE streams")
    parser.add_argument("--token", default=None)
    args = parser.parse_args()
    with McpTestServer(json_response=args.json, port=args.port, token=args.token) as server:
        print(f"MCP server at {server.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
