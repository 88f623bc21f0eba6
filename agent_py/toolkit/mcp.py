"""An MCP client over the Streamable HTTP transport, giving the server's tools as ToolSpecs.

    async with McpServer("http://127.0.0.1:8765/mcp", token=None, prefix=None) as server:
        specs = await server.tools()                       # tools/list, every page
        value = await specs[0].call({"a": 1, "b": 2})      # tools/call

Protocol: the initialize handshake, offering 2025-11-25 (the newest revision the installed `mcp` SDK 2.3 reaches
through `initialize`; its 2026-07-28 revision is a different, stateless envelope) and accepting 2025-06-18 and
2025-03-26 when the server counters with them. Then `notifications/initialized`; every later request carries
`Mcp-Session-Id` (when the server gave one) and `MCP-Protocol-Version`. Each JSON-RPC message is a POST with
`Accept: application/json, text/event-stream`; the answer is one JSON body or an SSE stream that may carry the
server's notifications (ignored) and requests (ping is answered, others refused) before our response. A stream
that ends without the response but after an event id is resumed with GET + Last-Event-ID (the 2025-11-25
"polling" pattern); so is a stream the network cut after an event id (re-POSTing could run the tool twice). A 404
for our session means it expired: initialize once more and retry, once. DELETE on close.

Errors: JSON-RPC error objects -> ToolServerError(code, message); `isError` results -> ToolError with the server's
text; 401/403 -> ToolAuthError; other statuses, bodies that do not parse or hold no response -> ToolServerError (with
`retry_after_s` from a 429/503's Retry-After); a dropped connection -> ToolConnectError; no answer within `timeout_s`
-> ToolTimeout, raised at the deadline (`notifications/cancelled` goes out in the background: a server that stopped
answering must not hold the call past its timeout a second time). tests/unit/test_faults_mcp.py injects each of
these through a proxy in front of the real SDK server.
Results are untrusted (a server relays other people's text): every spec has untrusted_output=True.

In a page, the server must allow the page's origin (CORS) and send `Access-Control-Expose-Headers: Mcp-Session-Id`,
or the browser hides the session id from us.
"""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from collections.abc import AsyncIterator
from typing import Any

import httpx

from agent_py.errors import ToolAuthError, ToolError, ToolServerError, ToolTimeout
from agent_py.models.retry import parse_retry_after
from agent_py.models.sse import SSEParser

from .http import deadline, make_client, read_limited, redact_url, transport_error
from .spec import Policy, RateLimit, ToolDefinitionWarning, ToolSpec

__all__ = ["McpServer", "PROTOCOL_VERSION", "SUPPORTED_PROTOCOL_VERSIONS"]

PROTOCOL_VERSION = "2025-11-25"
SUPPORTED_PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
MAX_PAGES = 100  # a server whose cursor never ends must not keep us listing forever
RESUME_DELAY_S = 0.2
log = logging.getLogger("agent_py.toolkit.mcp")


class _SessionExpired(Exception):
    """The server answered 404 for our session id."""


class _EventId(str):
    """An SSE event id from `_events`, kept apart from the messages: a server that sends `data: "a string"` must not
    have that string taken for an id to resume from."""


class McpServer:
    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        name: str | None = None,
        prefix: str | None = None,
        headers: dict[str, str] | None = None,
        timeout_s: float = 30.0,
        max_response_bytes: int = 8 * 1024 * 1024,
        policy: Policy = "allow",
        policies: dict[str, Policy] | None = None,
        rate_limits: dict[str, RateLimit] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        client_name: str = "codeact-agent",
    ) -> None:
        """`name` labels the server in `source` ("mcp:<name>"; default: the server's own name); `prefix` makes
        tool names "<prefix>_<tool>" (default: the server's names as they are); `policies` / `rate_limits` by the
        server's tool name override `policy` / no limit."""
        self.url = url
        self.name = name
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.max_response_bytes = max_response_bytes
        self.policy: Policy = policy
        self.policies = dict(policies or {})
        self.rate_limits = dict(rate_limits or {})
        self.client_name = client_name
        self.warnings: list[ToolDefinitionWarning] = []
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self.server_info: dict[str, Any] = {}
        self.capabilities: dict[str, Any] = {}
        base_headers = dict(headers or {})
        if token:
            base_headers["Authorization"] = f"Bearer {token}"
        self._http = make_client(transport, base_headers)
        self._initialized = False
        self._init_lock = asyncio.Lock()
        self._next_id = 0
        self._shown_url = redact_url(url)
        self._background: set[asyncio.Task[None]] = set()  # cancellations in flight (kept so they are not collected)

    async def __aenter__(self) -> McpServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def label(self) -> str:
        return self.name or str(self.server_info.get("name") or "") or self._shown_url

    # --- the tools ------------------------------------------------------------------------------------------

    async def list_tools(self) -> list[dict[str, Any]]:
        """The server's tool definitions as sent, all pages."""
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            result = await self.request("tools/list", {"cursor": cursor} if cursor else {})
            page = result.get("tools")
            if not isinstance(page, list):
                raise ToolServerError(f"MCP server {self.label}: tools/list answered without a tools list",
                                      url=self._shown_url)
            tools.extend(page)
            cursor = result.get("nextCursor")
            if not cursor:
                return tools
        raise ToolServerError(f"MCP server {self.label}: tools/list did not end after {MAX_PAGES} pages",
                              url=self._shown_url)

    async def tools(self) -> list[ToolSpec]:
        """Every usable tool as a ToolSpec; malformed definitions are skipped with a ToolDefinitionWarning (also
        kept in `self.warnings`)."""
        specs: list[ToolSpec] = []
        seen: set[str] = set()
        self.warnings = []
        for index, tool in enumerate(await self.list_tools()):
            problems = _definition_problems(tool)
            name = tool.get("name") if isinstance(tool, dict) and isinstance(tool.get("name"), str) else None
            if name in seen:
                problems.append("a second tool with this name")
            if problems:
                warning = ToolDefinitionWarning(f"mcp:{self.label}", name or f"#{index}", problems)
                self.warnings.append(warning)
                warnings.warn(warning, stacklevel=2)
                continue
            assert name is not None
            seen.add(name)
            specs.append(self._spec(tool, name))
        return specs

    def _spec(self, tool: dict[str, Any], name: str) -> ToolSpec:
        async def call(arguments: dict[str, Any]) -> Any:
            return await self.call_tool(name, arguments)

        output = tool.get("outputSchema")
        return ToolSpec(
            name=f"{self.prefix}_{name}" if self.prefix else name,
            description=str(tool.get("description") or tool.get("title") or ""),
            parameters=tool["inputSchema"],
            returns=output if isinstance(output, dict) else None,
            call=call,
            policy=self.policies.get(name, self.policy),
            rate_limit=self.rate_limits.get(name),
            source=f"mcp:{self.label}",
            untrusted_output=True,
        )

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        """tools/call: structuredContent when the server gives it, else the text (several parts joined), else a
        list of the content parts (binary data described, not included)."""
        result = await self.request("tools/call", {"name": name, "arguments": arguments}, tool=name)
        content = result.get("content", [])
        if not isinstance(content, list):  # not an empty answer: a malformed one (the spec requires a list)
            raise ToolServerError(f"{name} (MCP server {self.label}) answered with content that is not a list",
                                  tool=name, url=self._shown_url)
        if result.get("isError"):
            text = _joined_text(content) or "the tool reported an error without a message"
            raise ToolError(f"{name} (MCP server {self.label}) failed: {text}", tool=name, server=self.label)
        if result.get("structuredContent") is not None:
            return result["structuredContent"]
        if all(isinstance(part, dict) and part.get("type") == "text" for part in content):
            return _joined_text(content)
        return [_content_part(part) for part in content]

    # --- JSON-RPC over Streamable HTTP ----------------------------------------------------------------------

    async def request(self, method: str, params: dict[str, Any] | None = None, *, tool: str = "") -> dict[str, Any]:
        """One JSON-RPC request after the handshake; its `result`. Re-initializes once if the session expired."""
        await self._ensure_session()
        used = self.session_id
        try:
            return await self._request(method, params, tool=tool)
        except _SessionExpired:
            log.info("MCP session %s expired at %s; initializing a new one", used, self._shown_url)
            async with self._init_lock:
                if self.session_id == used:  # concurrent calls that all met the 404 start one new session, not many
                    self._initialized = False
                    self.session_id = None
            await self._ensure_session()
            try:
                return await self._request(method, params, tool=tool)
            except _SessionExpired:
                raise ToolServerError(f"MCP server {self.label} rejected a fresh session (404)", tool=tool,
                                      url=self._shown_url, status=404) from None

    async def _ensure_session(self) -> None:
        async with self._init_lock:
            if self._initialized:
                return
            params = {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                      "clientInfo": {"name": self.client_name, "version": "0.1.0"}}
            try:
                result = await self._request("initialize", params, initializing=True)
            except _SessionExpired:  # cannot happen without a session id; kept typed all the same
                raise ToolServerError(f"MCP server {self.label}: initialize answered 404", url=self._shown_url,
                                      status=404) from None
            version = result.get("protocolVersion")
            if version not in SUPPORTED_PROTOCOL_VERSIONS:
                raise ToolServerError(f"MCP server {self._shown_url} speaks protocol {version!r}; this client speaks "
                                      f"{', '.join(SUPPORTED_PROTOCOL_VERSIONS)}", url=self._shown_url)
            self.protocol_version = version
            self.server_info = result.get("serverInfo") if isinstance(result.get("serverInfo"), dict) else {}
            self.capabilities = result.get("capabilities") if isinstance(result.get("capabilities"), dict) else {}
            await self._notify("notifications/initialized")
            self._initialized = True

    def _headers(self, *, sse_only: bool = False) -> dict[str, str]:
        headers = {"Accept": "text/event-stream" if sse_only else "application/json, text/event-stream"}
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol_version:
            headers["MCP-Protocol-Version"] = self.protocol_version
        return headers

    async def _request(self, method: str, params: dict[str, Any] | None, *, tool: str = "",
                       initializing: bool = False) -> dict[str, Any]:
        self._next_id += 1
        request_id = self._next_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        what = f"{tool} (MCP server {self.label})" if tool else f"MCP server {self.label} ({method})"
        try:
            async with deadline(self.timeout_s, f"{what} did not answer within {self.timeout_s:g} s", tool=tool,
                                url=self._shown_url):
                reply = await self._exchange(message, tool=tool, initializing=initializing)
        except ToolTimeout:
            if not initializing:
                # Not awaited: the deadline has passed, and a server that stopped answering would hold this POST too.
                task = asyncio.ensure_future(self._cancel(request_id))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            raise
        if "error" in reply:
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            code, text = error.get("code"), str(error.get("message") or "error without a message")
            raise ToolServerError(f"{what} failed: {text} (JSON-RPC error {code})", tool=tool, url=self._shown_url,
                                  code=code, data=error.get("data"))
        result = reply.get("result")
        if not isinstance(result, dict):
            raise ToolServerError(f"{what}: the answer has no result object", tool=tool, url=self._shown_url)
        return result

    async def _exchange(self, message: dict[str, Any], *, tool: str, initializing: bool) -> dict[str, Any]:
        """POST one request and find its response in the JSON body or the SSE stream (resumed if cut)."""
        request_id = message["id"]
        last_event_id: str | None = None
        try:
            async with self._http.stream("POST", self.url, json=message, headers=self._headers()) as response:
                await self._check_status(response, tool=tool)
                if initializing:
                    self.session_id = response.headers.get("mcp-session-id") or None
                kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if kind == "application/json":
                    return self._pick(json.loads(await self._read_body(response)), request_id, tool=tool)
                if kind != "text/event-stream":
                    raise ToolServerError(f"MCP server {self.label} answered {message['method']} with "
                                          f"{kind or 'no content type'}", tool=tool, url=self._shown_url)
                reply, last_event_id = await self._read_stream(response, request_id, None)
                if reply is not None:
                    return reply
            while last_event_id is not None:
                await asyncio.sleep(RESUME_DELAY_S)
                headers = {**self._headers(sse_only=True), "Last-Event-ID": last_event_id}
                async with self._http.stream("GET", self.url, headers=headers) as response:
                    await self._check_status(response, tool=tool)
                    reply, last_event_id = await self._read_stream(response, request_id, last_event_id)
                    if reply is not None:
                        return reply
        except (ToolError, _SessionExpired):
            raise
        except json.JSONDecodeError as err:
            raise ToolServerError(f"MCP server {self.label} sent JSON that does not parse: {err}", tool=tool,
                                  url=self._shown_url) from None
        except Exception as err:  # noqa: BLE001 - transport failures become typed tool errors
            raise transport_error(err, self.url, tool=tool, cors_fix=self._cors_fix()) from None
        raise ToolServerError(f"MCP server {self.label} ended its answer to {message['method']} without a response",
                              tool=tool, url=self._shown_url)

    async def _read_stream(self, response: httpx.Response, request_id: int, resume_from: str | None
                           ) -> tuple[dict[str, Any] | None, str | None]:
        """Our response from an SSE stream, or None and the event id to resume from (None: nothing to resume).
        A stream the network cut after an event id is resumed like one the server closed."""
        last_event_id = resume_from
        try:
            async for item in self._events(response):
                if isinstance(item, _EventId):
                    last_event_id = item
                elif (reply := await self._handle(item, request_id)) is not None:
                    return reply, last_event_id
        except httpx.TransportError as err:  # the browser's fetch transport raises httpx.ReadError too
            if last_event_id is None:
                raise
            log.info("MCP stream from %s cut (%s); resuming after event %s", self._shown_url, type(err).__name__,
                     last_event_id)
        return None, last_event_id

    async def _read_body(self, response: httpx.Response) -> bytes:
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self.max_response_bytes:
                raise ToolServerError(f"MCP server {self.label} sent more than {self.max_response_bytes} bytes",
                                      url=self._shown_url)
        return bytes(body)

    async def _events(self, response: httpx.Response) -> AsyncIterator[Any]:
        """The JSON messages of an SSE stream, and each new event id (as an _EventId) so a cut stream can resume."""
        parser = SSEParser()
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_response_bytes:
                raise ToolServerError(f"MCP server {self.label} sent more than {self.max_response_bytes} bytes",
                                      url=self._shown_url)
            for event in parser.feed(chunk):
                if event.id:
                    yield _EventId(event.id)
                if event.event == "message" and event.data.strip():
                    yield json.loads(event.data)

    async def _handle(self, item: Any, request_id: int) -> dict[str, Any] | None:
        """Our response, or None after dealing with a server notification or request."""
        for message in item if isinstance(item, list) else [item]:
            if not isinstance(message, dict):
                continue
            if "method" in message and "id" in message:
                await self._answer_server_request(message)
            elif "method" not in message and message.get("id") == request_id:
                return message
        return None

    def _pick(self, item: Any, request_id: int, *, tool: str) -> dict[str, Any]:
        for message in item if isinstance(item, list) else [item]:
            if isinstance(message, dict) and message.get("id") == request_id and "method" not in message:
                return message
        raise ToolServerError(f"MCP server {self.label}: its JSON answer holds no response to request {request_id}",
                              tool=tool, url=self._shown_url)

    async def _answer_server_request(self, message: dict[str, Any]) -> None:
        """ping gets its empty result; we declared no client capabilities, so anything else is refused."""
        if message.get("method") == "ping":
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"], "result": {}}
        else:
            reply = {"jsonrpc": "2.0", "id": message["id"],
                     "error": {"code": -32601, "message": f"this client does not support {message.get('method')}"}}
        await self._post_quietly(reply)

    async def _notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        try:
            async with deadline(self.timeout_s, f"MCP server {self.label} did not take {method} in time",
                                url=self._shown_url):
                # Streamed and the body left unread: a notification's answer carries nothing we use, and a server
                # that sends an endless one must not fill memory until the deadline.
                async with self._http.stream("POST", self.url, json=message, headers=self._headers()) as response:
                    await self._check_status(response, tool="")
        except _SessionExpired:  # the session initialize just gave is already unknown: no point in a second try
            raise ToolServerError(f"MCP server {self.label} answered 404 for the session it had just given",
                                  url=self._shown_url, status=404) from None
        except ToolError:
            raise
        except Exception as err:  # noqa: BLE001
            raise transport_error(err, self.url, tool="", cors_fix=self._cors_fix()) from None

    async def _post_quietly(self, message: dict[str, Any]) -> None:
        """Best effort (replies to pings, cancellations): a failure here must not hide the real outcome."""
        try:
            async with asyncio.timeout(min(self.timeout_s, 5.0)):
                async with self._http.stream("POST", self.url, json=message, headers=self._headers()):
                    pass  # the answer's body is not ours to read (nor to buffer, whatever its size)
        except Exception as err:  # noqa: BLE001
            log.debug("MCP message %s to %s failed: %s", message.get("method"), self._shown_url, err)

    async def _cancel(self, request_id: int) -> None:
        await self._post_quietly({"jsonrpc": "2.0", "method": "notifications/cancelled",
                                  "params": {"requestId": request_id, "reason": "timed out on the client"}})

    async def _check_status(self, response: httpx.Response, *, tool: str) -> None:
        status = response.status_code
        if status in (200, 202):
            return
        detail = await self._error_detail(response)
        if status == 404 and response.request.headers.get("mcp-session-id"):
            raise _SessionExpired()  # judged by the id this request carried: another call may be re-initializing
        if status in (401, 403):
            raise ToolAuthError(f"MCP server {self.label} refused the request ({status}): {detail}", tool=tool,
                                url=self._shown_url, status=status,
                                fix="check the server's bearer token" if status == 401 else
                                "the token lacks a permission, or the server refuses this page's origin")
        fix = ""
        retry_after = parse_retry_after(response.headers.get("retry-after")) if status in (429, 503) else None
        if retry_after is not None:  # said in words too: the model's code reads the message, not the fields
            detail += f" (retry after {retry_after:g} s)"
        if status == 400 and not self.session_id and self._initialized and "session" in detail.lower():
            fix = ("the server wants a session id the browser did not let us read: it must send "
                   "Access-Control-Expose-Headers: Mcp-Session-Id")
        raise ToolServerError(f"MCP server {self.label} answered HTTP {status}: {detail}", tool=tool,
                              url=self._shown_url, status=status, fix=fix, retry_after_s=retry_after)

    @staticmethod
    async def _error_detail(response: httpx.Response) -> str:
        try:
            body = (await read_limited(response, 4096))[0].decode("utf-8", "replace")  # an error page can be huge
        except Exception:  # noqa: BLE001 - the status alone still says what went wrong
            return response.reason_phrase
        try:
            error = json.loads(body).get("error")
            if isinstance(error, dict) and error.get("message"):
                return str(error["message"])
        except (ValueError, AttributeError):
            pass
        return body.strip()[:300] or response.reason_phrase

    def _cors_fix(self) -> str:
        return (f"the MCP server at {self._shown_url} must allow this page's origin (Access-Control-Allow-Origin, "
                "-Allow-Headers: Content-Type, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID) "
                "and send Access-Control-Expose-Headers: Mcp-Session-Id")

    async def aclose(self) -> None:
        """End the session on the server (DELETE; a server that does not allow it answers 405) and the client."""
        for task in list(self._background):  # cancellations still waiting on a silent server: the client goes away
            task.cancel()
        if self.session_id:
            try:
                async with asyncio.timeout(min(self.timeout_s, 5.0)):
                    async with self._http.stream("DELETE", self.url, headers=self._headers()):
                        pass
            except Exception as err:  # noqa: BLE001 - closing must not fail because the server is gone
                log.debug("MCP DELETE %s failed: %s", self._shown_url, err)
            self.session_id = None
        self._initialized = False
        await self._http.aclose()


def _definition_problems(tool: Any) -> list[str]:
    if not isinstance(tool, dict):
        return [f"a definition must be an object, got {type(tool).__name__}"]
    problems = []
    name = tool.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append("no name")
    schema = tool.get("inputSchema")
    if not isinstance(schema, dict):
        problems.append("inputSchema must be a JSON Schema object")
    elif schema.get("type", "object") != "object":
        problems.append(f"inputSchema must describe an object, not {schema.get('type')!r}")
    if "description" in tool and not isinstance(tool["description"], str | type(None)):
        problems.append("description must be a string")
    return problems


def _joined_text(content: list[Any]) -> str:
    return "\n".join(str(part.get("text", "")) for part in content
                     if isinstance(part, dict) and part.get("type") == "text")


def _content_part(part: Any) -> Any:
    """A content part the model can read: text as is, binary (image, audio) described without its base64."""
    if not isinstance(part, dict):
        return part
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "text": part.get("text", "")}
    if kind in ("image", "audio"):
        data = part.get("data") or ""
        return {"type": kind, "mimeType": part.get("mimeType"), "bytes": len(data) * 3 // 4,
                "note": "binary content, not shown"}
    if kind == "resource":
        resource = part.get("resource") if isinstance(part.get("resource"), dict) else {}
        out = {"type": "resource", "uri": resource.get("uri"), "mimeType": resource.get("mimeType")}
        if "text" in resource:
            out["text"] = resource["text"]
        return out
    if kind == "resource_link":
        return {k: part.get(k) for k in ("type", "uri", "name", "description", "mimeType") if k in part}
    return part
