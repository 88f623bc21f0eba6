"""The MCP client against a real MCP server (the official SDK's MCPServer over Streamable HTTP, on loopback), in
both answer styles (SSE streams and JSON bodies), plus a few protocol faults no SDK server would commit, scripted
with httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from typing import Any

import httpx
import pytest

from agent_py.errors import (
    ToolArgumentError,
    ToolAuthError,
    ToolConnectError,
    ToolError,
    ToolServerError,
    ToolTimeout,
)
from agent_py.toolkit import PROTOCOL_VERSION, McpServer, PolicyGate, ToolDefinitionWarning, python_signature
from tests.servers.mcp_server import McpTestServer

# The loopback servers' fixtures (mcp_server, mcp_json_server, any_mcp_server, ...).
pytest_plugins = ["tests.servers.mcp_fixtures"]

pytestmark = pytest.mark.anyio
async def eventually(predicate: Any, timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return bool(predicate())


TOOL_NAMES = ["add", "echo", "fail", "slow", "weather", "chatty", "poll", "lookup-item"]


async def test_tools_are_listed_across_pages_as_untrusted_specs(any_mcp_server: McpTestServer) -> None:
    async with McpServer(any_mcp_server.url) as server:
        specs = await server.tools()
    assert [s.name for s in specs] == TOOL_NAMES
    # 8 tools, 2 per page: the cursor loop asked 4 times.
    assert any_mcp_server.rpc_methods().count("tools/list") == 4
    cursors = [r.body["params"].get("cursor") for r in any_mcp_server.requests
               if r.rpc_method == "tools/list"]
    assert cursors == [None, "2", "4", "6"]
    add = specs[0]
    assert add.source == "mcp:toolkit-test" and add.untrusted_output and add.policy == "allow"
    assert add.parameters["required"] == ["a", "b"] and add.returns is not None
    assert python_signature(add).startswith("def add(a: int, b: int) -> dict:\n    \"\"\"\n    Add two integers.")
    assert python_signature(specs[-1]).startswith("def lookup_item(item_id: str) -> dict:")


async def test_handshake_headers_and_session(any_mcp_server: McpTestServer) -> None:
    async with McpServer(any_mcp_server.url) as server:
        await server.tools()
        assert server.protocol_version == PROTOCOL_VERSION == "2025-11-25"
        assert server.server_info["name"] == "toolkit-test"
        session = server.session_id
        assert session in any_mcp_server.session_ids()
    posts = [r for r in any_mcp_server.requests if r.method == "POST"]
    assert [r.rpc_method for r in posts[:3]] == ["initialize", "notifications/initialized", "tools/list"]
    init = posts[0]
    assert init.body["params"]["protocolVersion"] == "2025-11-25"
    assert "mcp-session-id" not in init.headers and "mcp-protocol-version" not in init.headers
    for request in posts:
        assert request.headers["accept"] == "application/json, text/event-stream"
        assert request.headers["content-type"] == "application/json"
    for request in posts[1:]:
        assert request.headers["mcp-session-id"] == session
        assert request.headers["mcp-protocol-version"] == "2025-11-25"
    # Closing ended the session on the server.
    delete = any_mcp_server.requests[-1]
    assert (delete.method, delete.headers["mcp-session-id"]) == ("DELETE", session)
    # The server forgets the session in its own task after answering the DELETE; give it a moment.
    assert await eventually(lambda: session not in any_mcp_server.session_ids())


async def test_calls_return_structured_content_or_text(any_mcp_server: McpTestServer) -> None:
    async with McpServer(any_mcp_server.url) as server:
        specs = {s.name: s for s in await server.tools()}
        assert await specs["add"].call({"a": 2, "b": 3}) == {"result": 5}
        assert await specs["echo"].call({"text": "ab", "repeat": 3}) == {"result": "ababab"}
        assert await specs["weather"].call({"city": "Oslo"}) == {"city": "Oslo", "temp_c": 21.5, "sky": "clear"}
        assert await specs["lookup-item"].call({"item_id": "7"}) == {"result": "item 7"}
        # Concurrent calls share the one session.
        results = await asyncio.gather(*(specs["add"].call({"a": i, "b": i}) for i in range(5)))
        assert [r["result"] for r in results] == [0, 2, 4, 6, 8]
    assert len({r.headers.get("mcp-session-id") for r in any_mcp_server.requests if r.rpc_method == "tools/call"}) == 1


async def test_is_error_result_raises_tool_error_with_the_servers_message(any_mcp_server: McpTestServer) -> None:
    async with McpServer(any_mcp_server.url) as server:
        specs = {s.name: s for s in await server.tools()}
        with pytest.raises(ToolError) as caught:
            await specs["fail"].call({"message": "disk on fire"})
        assert type(caught.value) is ToolError
        assert "fail (MCP server toolkit-test) failed:" in caught.value.message
        assert "disk on fire" in caught.value.message and caught.value.tool == "fail"
        # A tool the server does not know is also an isError result in this SDK.
        with pytest.raises(ToolError, match="Unknown tool: nope"):
            await server.call_tool("nope", {})


async def test_json_rpc_error_objects_become_tool_server_errors(any_mcp_server: McpTestServer) -> None:
    async with McpServer(any_mcp_server.url) as server:
        with pytest.raises(ToolServerError) as caught:
            await server.request("bogus/method", {})
    err = caught.value
    assert err.code == -32601 and "Method not found" in err.message and "JSON-RPC error -32601" in err.message


async def test_bearer_token_is_sent_and_a_missing_one_is_an_auth_error(mcp_server: McpTestServer) -> None:
    mcp_server.token = "s3cret-token"
    async with McpServer(mcp_server.url, token="s3cret-token") as server:
        assert len(await server.tools()) == len(TOOL_NAMES)
    assert {r.headers.get("authorization") for r in mcp_server.requests} == {"Bearer s3cret-token"}
    for token in (None, "wrong"):
        async with McpServer(mcp_server.url, token=token) as server:
            with pytest.raises(ToolAuthError) as caught:
                await server.tools()
        assert caught.value.status == 401 and "s3cret" not in caught.value.message


async def test_slow_tool_times_out_and_the_request_is_cancelled(any_mcp_server: McpTestServer) -> None:
    async with McpServer(any_mcp_server.url, timeout_s=0.5) as server:
        specs = {s.name: s for s in await server.tools()}
        started = time.perf_counter()
        with pytest.raises(ToolTimeout) as caught:
            await specs["slow"].call({"seconds": 5})
        assert time.perf_counter() - started < 2.0
        assert caught.value.tool == "slow" and caught.value.timeout_s == 0.5
        assert "did not answer within 0.5 s" in caught.value.message
        # The server was told (in the background: the call did not wait for it), and the session still works.
        call_id = next(r.body["id"] for r in any_mcp_server.requests if r.rpc_method == "tools/call")

        def cancelled() -> list[Any]:
            return [r.body for r in any_mcp_server.requests if r.rpc_method == "notifications/cancelled"]

        assert await eventually(cancelled) and cancelled()[0]["params"]["requestId"] == call_id
        assert await specs["add"].call({"a": 1, "b": 1}) == {"result": 2}


async def test_expired_session_is_reinitialized_once_and_the_call_retried(any_mcp_server: McpTestServer) -> None:
    async with McpServer(any_mcp_server.url) as server:
        specs = {s.name: s for s in await server.tools()}
        first = server.session_id
        httpx.post(any_mcp_server.base + "/test/expire").raise_for_status()
        assert first not in any_mcp_server.session_ids()
        assert await specs["add"].call({"a": 20, "b": 22}) == {"result": 42}
        assert server.session_id not in (None, first)
    methods = any_mcp_server.rpc_methods()
    assert methods.count("initialize") == 2
    # The call went out on the old session (404), then again after the new handshake.
    assert methods[-3:] == ["initialize", "notifications/initialized", "tools/call"]
    assert methods.count("tools/call") == 2


async def test_concurrent_calls_on_an_expired_session_share_one_new_session(mcp_server: McpTestServer) -> None:
    async with McpServer(mcp_server.url) as server:
        specs = {s.name: s for s in await server.tools()}
        httpx.post(mcp_server.base + "/test/expire").raise_for_status()
        results = await asyncio.gather(*(specs["add"].call({"a": i, "b": 1}) for i in range(4)))
        assert [r["result"] for r in results] == [1, 2, 3, 4]
    assert mcp_server.rpc_methods().count("initialize") == 2


# chatty sends a log notification on purpose (servers still do; the client must skip it), which the SDK deprecates.
@pytest.mark.filterwarnings("ignore:The logging capability is deprecated")
async def test_server_requests_mid_stream_are_answered(mcp_server: McpTestServer) -> None:
    async with McpServer(mcp_server.url, timeout_s=5) as server:
        assert await server.call_tool("chatty", {"text": "x"}) == {"result": "done x"}
    replies = [r.body for r in mcp_server.requests if r.method == "POST" and r.rpc_method is None]
    assert len(replies) == 1 and replies[0]["result"] == {}  # the ping's answer


async def test_a_stream_closed_early_is_resumed_with_last_event_id(mcp_server: McpTestServer) -> None:
    async with McpServer(mcp_server.url, timeout_s=5) as server:
        assert await server.call_tool("poll", {"seconds": 0.3}) == {"result": "polled after 0.3"}
    resumes = [r for r in mcp_server.requests if r.method == "GET"]
    assert resumes and all(r.headers.get("last-event-id") for r in resumes)
    assert resumes[0].headers["accept"] == "text/event-stream"


async def test_naming_source_and_policies_are_configurable(mcp_server: McpTestServer) -> None:
    async with McpServer(mcp_server.url, name="calc", prefix="calc", policy="ask",
                         policies={"add": "allow", "fail": "deny"}) as server:
        specs = {s.name: s for s in await server.tools()}
        assert set(specs) == {f"calc_{n}" for n in TOOL_NAMES}
        assert specs["calc_add"].policy == "allow" and specs["calc_fail"].policy == "deny"
        assert specs["calc_echo"].policy == "ask" and specs["calc_echo"].source == "mcp:calc"
        # The prefixed spec still calls the server's own name.
        assert await specs["calc_add"].call({"a": 1, "b": 2}) == {"result": 3}
        assert python_signature(specs["calc_lookup-item"]).startswith("def calc_lookup_item(item_id: str)")


async def test_gate_rejects_bad_arguments_before_the_network(mcp_server: McpTestServer) -> None:
    async with McpServer(mcp_server.url) as server:
        add = next(s for s in await server.tools() if s.name == "add")
        with pytest.raises(ToolArgumentError, match="add: b: is required but missing; a: must be integer, got a "
                                                    "string 'x'"):
            await PolicyGate().call(add, {"a": "x"})
        assert await PolicyGate().call(add, {"a": 1, "b": 2}) == {"result": 3}
    assert mcp_server.rpc_methods().count("tools/call") == 1


async def test_unreachable_server_is_a_connect_error() -> None:
    async with McpServer("http://127.0.0.1:9/mcp", timeout_s=5) as server:
        with pytest.raises(ToolConnectError, match="could not reach http://127.0.0.1:9/mcp"):
            await server.tools()


# --- faults scripted with MockTransport ---------------------------------------------------------------------


def scripted(handler: Any) -> httpx.MockTransport:
    """Answers initialize with a session and notifications with 202; everything else goes to `handler`."""

    def respond(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(405)
        message = json.loads(request.content)
        if message.get("method") == "initialize":
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": message["id"], "result": {
                "protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "mock"}}},
                headers={"Mcp-Session-Id": "abc"})
        if "id" not in message:
            return httpx.Response(202)
        return handler(message)

    return httpx.MockTransport(respond)


async def test_malformed_definitions_are_skipped_with_typed_warnings() -> None:
    def handler(message: dict[str, Any]) -> httpx.Response:
        tools = [{"name": "good", "inputSchema": {"type": "object"}},
                 {"inputSchema": {"type": "object"}},
                 {"name": "noschema"},
                 {"name": "arrayschema", "inputSchema": {"type": "array"}},
                 {"name": "good", "inputSchema": {"type": "object"}}]
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": message["id"], "result": {"tools": tools}})

    async with McpServer("http://mock/mcp", transport=scripted(handler)) as server:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            specs = await server.tools()
        assert server.protocol_version == "2025-06-18"  # the server's counter-offer, which we speak
    assert [s.name for s in specs] == ["good"]
    problems = {w.name: w.problems for w in server.warnings}
    assert problems == {"#1": ["no name"], "noschema": ["inputSchema must be a JSON Schema object"],
                        "arrayschema": ["inputSchema must describe an object, not 'array'"],
                        "good": ["a second tool with this name"]}
    assert all(isinstance(w.message, ToolDefinitionWarning) for w in caught) and len(caught) == 4
    assert "mcp:mock: skipped tool 'noschema'" in str(server.warnings[1])


@pytest.mark.parametrize(("response", "words"), [
    (httpx.Response(500, text="boom"), "answered HTTP 500: boom"),
    (httpx.Response(200, text="<html>", headers={"content-type": "text/html"}), "answered tools/list with text/html"),
    (httpx.Response(200, text="{not json", headers={"content-type": "application/json"}), "does not parse"),
    (httpx.Response(200, text="event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}\n\n",
                    headers={"content-type": "text/event-stream"}), "ended its answer to tools/list without a"),
    (httpx.Response(200, json={"jsonrpc": "2.0", "id": 999, "result": {}}), "holds no response to request"),
])
async def test_protocol_faults_are_typed(response: httpx.Response, words: str) -> None:
    async with McpServer("http://mock/mcp", transport=scripted(lambda message: response)) as server:
        with pytest.raises(ToolServerError, match=words):
            await server.tools()


async def test_unsupported_protocol_version_and_oversized_answers_are_refused() -> None:
    def old_server(request: httpx.Request) -> httpx.Response:
        message = json.loads(request.content)
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": message["id"], "result": {
            "protocolVersion": "2024-11-05", "capabilities": {}, "serverInfo": {"name": "old"}}})

    async with McpServer("http://mock/mcp", transport=httpx.MockTransport(old_server)) as server:
        with pytest.raises(ToolServerError, match="speaks protocol '2024-11-05'"):
            await server.tools()

    def huge(message: dict[str, Any]) -> httpx.Response:
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": message["id"], "result": {"pad": "x" * 5000}})

    async with McpServer("http://mock/mcp", transport=scripted(huge), max_response_bytes=1000) as server:
        with pytest.raises(ToolServerError, match="sent more than 1000 bytes"):
            await server.tools()


async def test_binary_and_mixed_content_is_described_not_dumped() -> None:
    def handler(message: dict[str, Any]) -> httpx.Response:
        content = [{"type": "text", "text": "a chart:"}, {"type": "image", "mimeType": "image/png", "data": "A" * 400},
                   {"type": "resource_link", "uri": "file:///x", "name": "x"}]
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": message["id"], "result": {"content": content}})

    async with McpServer("http://mock/mcp", transport=scripted(handler)) as server:
        value = await server.call_tool("chart", {})
    assert value == [{"type": "text", "text": "a chart:"},
                     {"type": "image", "mimeType": "image/png", "bytes": 300, "note": "binary content, not shown"},
                     {"type": "resource_link", "uri": "file:///x", "name": "x"}]
