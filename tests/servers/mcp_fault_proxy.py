"""A fault-injecting HTTP proxy in front of the real MCP test server (tests/servers/mcp_server.py), on 127.0.0.1.

Every request is forwarded to the SDK server as it came, unless a fault was queued for its JSON-RPC method (or
"GET" / "DELETE" for those HTTP methods); then the proxy answers, mangles or withholds the answer itself. The
normal path therefore stays the official SDK's, and a fault costs only the request it was queued for.

    proxy = McpFaultProxy(upstream.url).start()        # or the fixtures in tests/unit/test_faults_mcp.py
    proxy.inject("tools/call", {"kind": "cut", "at": 0.4}, None, {"kind": "429", "retry_after": "1"})
    proxy.url                                           # "http://127.0.0.1:PORT/mcp", what the client is given
    proxy.struck                                        # [(rpc method, kind)] of every fault that took effect
    proxy.stop_answering() / proxy.resume()             # hold every request from now on / answer again

A queued entry is a fault dict or None (forward this one untouched). Fault kinds:
    "429"           429 with Retry-After (`retry_after`: seconds or an HTTP date) and a JSON-RPC-ish error body
    "500" "502" "503"  that status, with an HTML (`html`: True) or JSON body; not forwarded
    "cut"           forward, then send the first `at` (a fraction) of the real answer's bytes and reset the socket
    "truncate"      the same prefix, then end the body cleanly (chunked terminator), as if the answer were whole
    "slow"          wait `delay_s` before the status line, then forward
    "drip"          forward, sending the real answer `step` bytes every `every_s` seconds
    "hang"          read the request, never answer (until the client gives up)
    "drop"          close the connection without a byte
    "garbage"       a reply that is not HTTP at all
    "bad_json"      the real content type, a body that is not JSON (an SSE event whose data does not parse)
    "bad_sse"       an SSE stream with malformed events (`variant` picks: non-UTF-8 bytes, JSON that is not an
                    object, a response without "jsonrpc"/"result", an event with no blank line before the end, ...)
    "wrong_id"      forward, then rewrite the JSON-RPC response id so it answers no request we sent
    "oversized"     an endless stream (`style`: "sse" comments or "json" whitespace) until the client hangs up
    "expire"        404 for the session id, as the SDK answers for a session it forgot; the client re-initializes
                    and sends the request again, which is forwarded untouched (it does not take the next fault)
Buffered kinds (cut, truncate, wrong_id) read the upstream answer whole first: use them only on requests the server
answers without asking the client something mid-stream (the test server's `chatty` and `poll` do ask / close).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
from collections import defaultdict, deque
from typing import Any

import httpx

__all__ = ["McpFaultProxy", "FAULT_KINDS", "BAD_SSE_VARIANTS"]

FAULT_KINDS = ("429", "500", "502", "503", "cut", "truncate", "slow", "drip", "hang", "drop", "garbage",
               "bad_json", "bad_sse", "wrong_id", "oversized", "expire")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host",
              "accept-encoding", "te", "trailer", "upgrade", "proxy-connection"}
BAD_SSE_VARIANTS = (
    b"event: message\ndata: \xff\xfe\x00\x81 not utf-8\n\n",
    b'event: message\ndata: "just a string"\n\n',
    b"event: message\ndata: [1, \"two\", null]\n\n",
    b"event: message\ndata: 42\n\n",
    b'event: message\ndata: {"id": %ID%, "result": "not an object"}\n\n',
    b'event: message\ndata: {"jsonrpc": "2.0", "id": %ID%, "error": "a string, not an object"}\n\n',
    b'event: message\ndata: {"jsonrpc": "2.0", "id": %ID%}\n\n',
    b'id: 1\nretry: soon\nevent: message\ndata: {"jsonrpc": "2.0", "id": %ID%, "res',
    b"event: message\r\ndata: {\"jsonrpc\": \"2.0\", \"id\": %ID%, \"result\": {\"content\": 7}}\r\n\r\n",
    b"::::\n\n\n\ndata\nevent\nid\n\n",
)
REASONS = {200: "OK", 202: "Accepted", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable"}


class McpFaultProxy:
    def __init__(self, upstream_url: str) -> None:
        self.upstream_url = upstream_url
        self.struck: list[tuple[str, str]] = []
        self.seen: list[tuple[str, str]] = []  # (HTTP method, JSON-RPC method or "") of every request
        self._faults: dict[str, deque[dict[str, Any] | None]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._silent = False
        self.open_holds: list[str] = []  # what is being held unanswered right now (rpc method or HTTP method)
        self._port = _free_port()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._client: httpx.AsyncClient | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/mcp"

    # --- control, from the test's thread -------------------------------------------------------------------

    def inject(self, method: str, *faults: dict[str, Any] | None) -> None:
        """Queue faults (or None: forward untouched) for the next requests of this JSON-RPC / HTTP method."""
        for fault in faults:
            if fault is not None and fault.get("kind") not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {fault.get('kind')!r}; known: {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._faults[method].extend(faults)

    def pending(self) -> int:
        with self._lock:
            return sum(1 for queue in self._faults.values() for fault in queue if fault is not None)

    def stop_answering(self) -> None:
        """A server that stopped answering: every request from now on is read and held, never answered."""
        self._silent = True

    def resume(self) -> None:
        self._silent = False

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
        self.struck.clear()
        self.seen.clear()
        self._silent = False

    def _next_fault(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            queue = self._faults.get(key)
            return queue.popleft() if queue else None

    # --- serving -------------------------------------------------------------------------------------------

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = [tuple(line.split(":", 1)) for line in lines[1:] if ":" in line]
                headers = [(k.strip(), v.strip()) for k, v in headers]
                length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
                body = await reader.readexactly(length) if length else b""
                rpc = _rpc_method(body)
                self.seen.append((method, rpc))
                if self._silent:
                    await self._hold(reader, rpc or method)
                    return
                fault = self._next_fault(rpc or method)
                if fault is not None:
                    self.struck.append((rpc or method, fault["kind"]))
                keep = await self._answer(fault, method, target, headers, body, reader, writer)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            if not writer.is_closing():
                writer.close()

    async def _hold(self, reader: asyncio.StreamReader, what: str) -> None:
        self.open_holds.append(what)
        try:
            while await reader.read(65536):  # until the client hangs up
                pass
        except ConnectionError:
            pass
        finally:
            self.open_holds.remove(what)

    async def _answer(self, fault: dict[str, Any] | None, method: str, target: str, headers: list[tuple[str, str]],
                      body: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; False when the connection must not be reused."""
        kind = fault["kind"] if fault else None
        request_id = _rpc_id(body)
        if kind == "hang":
            await self._hold(reader, _rpc_method(body) or method)
            return False
        if kind == "drop":
            writer.transport.abort()
            return False
        if kind == "garbage":
            writer.write(b"\x00\x01 this is not HTTP \xff\r\n\r\nat all\n")
            await writer.drain()
            writer.transport.abort()
            return False
        if kind in ("429", "500", "502", "503"):
            assert fault is not None
            extra = {"Retry-After": str(fault.get("retry_after", "0"))} if kind in ("429", "503") else {}
            if fault.get("html"):
                payload, kind_header = b"<html><body><h1>upstream busy</h1></body></html>", "text/html"
            else:
                payload = json.dumps({"jsonrpc": "2.0", "id": request_id, "error": {
                    "code": -32000, "message": f"injected {kind}"}}).encode()
                kind_header = "application/json"
            await self._respond(writer, int(kind), {"Content-Type": kind_header, **extra}, payload)
            return True
        if kind == "expire":
            with self._lock:  # the retry after re-initializing is the same call: it must not meet the next fault
                self._faults[_rpc_method(body) or method].appendleft(None)
            payload = json.dumps({"jsonrpc": "2.0", "id": "server-error",
                                  "error": {"code": -32600, "message": "Session not found"}}).encode()
            await self._respond(writer, 404, {"Content-Type": "application/json"}, payload)
            return True
        if kind == "bad_json":
            assert fault is not None
            if fault.get("style") == "sse":
                payload = b'id: 1\nevent: message\ndata: {"jsonrpc": "2.0", "id": ' + str(request_id).encode() + \
                    b', "result": {"content": [}\n\n'
                await self._respond(writer, 200, {"Content-Type": "text/event-stream"}, payload)
            else:
                payload = b'{"jsonrpc": "2.0", "id": ' + str(request_id).encode() + b', "result": {"con'
                await self._respond(writer, 200, {"Content-Type": "application/json"}, payload + b"}}}{")
            return True
        if kind == "bad_sse":
            assert fault is not None
            variant = BAD_SSE_VARIANTS[int(fault.get("variant", 0)) % len(BAD_SSE_VARIANTS)]
            payload = variant.replace(b"%ID%", str(request_id).encode())
            await self._respond(writer, 200, {"Content-Type": "text/event-stream"}, payload)
            return True
        if kind == "oversized":
            assert fault is not None
            sse = fault.get("style", "sse") == "sse"
            await self._start(writer, 200, {"Content-Type": "text/event-stream" if sse else "application/json"})
            pad = (b": " + b"x" * 65_000 + b"\n\n") if sse else b"[" + b" " * 65_000
            try:
                for _ in range(1000):  # 65 MB at most: far past any client's cap, and the test still ends
                    await self._chunk(writer, pad)
            except ConnectionError:
                pass
            return False
        if kind == "slow":
            assert fault is not None
            await asyncio.sleep(float(fault.get("delay_s", 0.1)))
        return await self._forward(fault, method, target, headers, body, writer)

    async def _forward(self, fault: dict[str, Any] | None, method: str, target: str,
                       headers: list[tuple[str, str]], body: bytes, writer: asyncio.StreamWriter) -> bool:
        assert self._client is not None
        kind = fault["kind"] if fault else None
        sent = {k: v for k, v in headers if k.lower() not in HOP_BY_HOP}
        upstream = httpx.URL(self.upstream_url).join(target)
        try:
            async with self._client.stream(method, upstream, content=body, headers=sent) as response:
                out = {k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP}
                if kind in ("cut", "truncate", "wrong_id"):
                    assert fault is not None
                    whole = await response.aread()
                    if kind == "wrong_id":
                        whole = re.sub(rb'"id":\s*(\d+)', lambda m: b'"id": ' + str(int(m[1]) + 1000).encode(),
                                       whole)
                        await self._respond(writer, response.status_code, out, whole)
                        return True
                    prefix = whole[: int(len(whole) * float(fault.get("at", 0.5)))]
                    await self._start(writer, response.status_code, out)
                    if prefix:
                        await self._chunk(writer, prefix)
                    if kind == "cut":
                        writer.transport.abort()
                        return False
                    writer.write(b"0\r\n\r\n")
                    await writer.drain()
                    return True
                await self._start(writer, response.status_code, out)
                async for piece in response.aiter_raw():
                    if kind == "drip":
                        assert fault is not None
                        step = int(fault.get("step", 16))
                        for i in range(0, len(piece), step):
                            await self._chunk(writer, piece[i:i + step])
                            await asyncio.sleep(float(fault.get("every_s", 0.05)))
                    else:
                        await self._chunk(writer, piece)
                writer.write(b"0\r\n\r\n")
                await writer.drain()
                return True
        except (ConnectionError, httpx.HTTPError):
            writer.transport.abort()
            return False

    @staticmethod
    async def _start(writer: asyncio.StreamWriter, status: int, headers: dict[str, str]) -> None:
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append("Transfer-Encoding: chunked")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()

    @staticmethod
    async def _chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await writer.drain()

    async def _respond(self, writer: asyncio.StreamWriter, status: int, headers: dict[str, str],
                       payload: bytes) -> None:
        await self._start(writer, status, headers)
        if payload:
            await self._chunk(writer, payload)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    # --- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> McpFaultProxy:
        self._thread = threading.Thread(target=self._run, name="mcp-fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("the MCP fault proxy did not start")
        return self

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)

        async def boot() -> None:
            self._client = httpx.AsyncClient(timeout=None)
            self._server = await asyncio.start_server(self._serve_connection, "127.0.0.1", self._port)
            self._ready.set()

        self._loop.run_until_complete(boot())
        self._loop.run_forever()

    def stop(self) -> None:
        loop = self._loop
        if loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            assert self._server is not None and self._client is not None
            self._server.close()
            await self._client.aclose()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> McpFaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _rpc_method(body: bytes) -> str:
    try:
        message = json.loads(body) if body else None
    except ValueError:
        return ""
    return str(message.get("method") or "") if isinstance(message, dict) else ""


def _rpc_id(body: bytes) -> Any:
    try:
        message = json.loads(body) if body else None
    except ValueError:
        return None
    return message.get("id") if isinstance(message, dict) else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
