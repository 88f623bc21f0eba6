"""The HTTP tool gateway client against the scripted gateway on loopback (tests/servers/gateway_server.py)."""

from __future__ import annotations

import time
import warnings

import httpx
import pytest

from agent_py.errors import (
    ToolAuthError,
    ToolConnectError,
    ToolError,
    ToolServerError,
    ToolTimeout,
    UnknownTool,
)
from agent_py.toolkit import Gateway, ToolDefinitionWarning, python_signature
from tests.servers.gateway_server import GatewayServer

pytest_plugins = ["tests.servers.mcp_fixtures"]
pytestmark = pytest.mark.anyio
GOOD = ["add", "echo", "report", "fail", "slow", "crash", "garbage"]


@pytest.mark.parametrize("shape", ["list", "object"])
async def test_tools_in_both_shapes_become_untrusted_specs(gateway_server: GatewayServer, shape: str) -> None:
    gateway_server.configure(shape=shape)
    async with Gateway(gateway_server.url, name="office") as gateway:
        specs = await gateway.tools()
    assert [s.name for s in specs] == GOOD and gateway.warnings == []
    echo = specs[1]
    assert echo.source == "gateway:office" and echo.untrusted_output and echo.returns is None
    assert python_signature(echo).splitlines()[0] == "def echo(text: str) -> Any:"
    assert "text: what to echo" in python_signature(echo)
    assert specs[5].parameters == {"type": "object", "properties": {}}  # crash declared no parameters


async def test_invoke_maps_text_data_and_both(gateway_server: GatewayServer) -> None:
    async with Gateway(gateway_server.url) as gateway:
        specs = {s.name: s for s in await gateway.tools()}
        assert await specs["add"].call({"a": 2, "b": 5}) == 7
        assert await specs["echo"].call({"text": "hello"}) == "hello"
        assert await specs["report"].call({"topic": "q3"}) == {"text": "report on q3",
                                                                "data": {"topic": "q3", "items": 3}}
    invoke = [r for r in gateway_server.requests if r.path == "/invoke"]
    assert invoke[0].body == {"name": "add", "arguments": {"a": 2, "b": 5}}
    assert invoke[0].headers["content-type"] == "application/json"


async def test_error_field_is_a_tool_error_with_the_gateways_words(gateway_server: GatewayServer) -> None:
    async with Gateway(gateway_server.url, name="office") as gateway:
        with pytest.raises(ToolError) as caught:
            await gateway.invoke("fail", {"message": "quota exceeded"})
    assert type(caught.value) is ToolError
    assert caught.value.message == "fail (gateway office) failed: quota exceeded" and caught.value.tool == "fail"


async def test_http_faults_are_typed(gateway_server: GatewayServer) -> None:
    async with Gateway(gateway_server.url, name="office") as gateway:
        with pytest.raises(ToolServerError, match="crash \\(gateway office\\) answered HTTP 500: the gateway fell "
                                                  "over") as caught:
            await gateway.invoke("crash", {})
        assert caught.value.status == 500
        with pytest.raises(ToolServerError, match="the answer is not JSON: b'<html>definitely not json'"):
            await gateway.invoke("garbage", {})
        with pytest.raises(UnknownTool, match="does not know this tool: unknown tool nope"):
            await gateway.invoke("nope", {})
        gateway_server.configure(tools_status=503)
        with pytest.raises(ToolServerError, match="gateway office \\(GET /tools\\) answered HTTP 503: scripted 503"):
            await gateway.tools()


async def test_slow_answers_are_timeouts(gateway_server: GatewayServer) -> None:
    async with Gateway(gateway_server.url, timeout_s=0.4) as gateway:
        started = time.perf_counter()
        with pytest.raises(ToolTimeout, match="slow \\(gateway 127.0.0.1\\) did not answer within 0.4 s") as caught:
            await gateway.invoke("slow", {"seconds": 3})
        assert time.perf_counter() - started < 1.5 and caught.value.timeout_s == 0.4
        gateway_server.configure(tools_delay_s=2)
        with pytest.raises(ToolTimeout):
            await gateway.tools()


async def test_malformed_definitions_are_skipped_with_warnings_naming_the_problem(
        gateway_server: GatewayServer) -> None:
    gateway_server.configure(malformed=True)
    async with Gateway(gateway_server.url, name="office") as gateway:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            specs = await gateway.tools()
    assert [s.name for s in specs] == GOOD  # one bad definition does not cost the good ones
    problems = [(w.name, w.problems) for w in gateway.warnings]
    assert problems == [
        ("#7", ['no "function" object']),
        ("#8", ["function.name is missing"]),
        ("bad name!", ["function.name 'bad name!' has characters outside A-Z a-z 0-9 _ . - (or is too long)"]),
        ("listy", ["function.parameters must describe an object, not 'array'"]),
        ("stringy", ["function.parameters must be a JSON Schema object, got str"]),
        ("retriever", ["type must be \"function\", got 'retrieval'"]),
        ("add", ["a second tool with this name"]),
        ("#14", ["a definition must be an object, got str"]),
    ]
    assert len(caught) == 8 and all(isinstance(w.message, ToolDefinitionWarning) for w in caught)
    assert str(gateway.warnings[3]) == ("gateway:office: skipped tool 'listy': function.parameters must describe an "
                                        "object, not 'array'")


async def test_bearer_token_and_headers_are_sent(gateway_server: GatewayServer) -> None:
    gateway_server.configure(token="gw-token")
    async with Gateway(gateway_server.url, token="gw-token", headers={"X-Team": "blue"}) as gateway:
        specs = await gateway.tools()
        assert await specs[0].call({"a": 1, "b": 1}) == 2
    assert {r.headers["authorization"] for r in gateway_server.requests} == {"Bearer gw-token"}
    assert {r.headers["x-team"] for r in gateway_server.requests} == {"blue"}
    async with Gateway(gateway_server.url, token="wrong") as gateway:
        with pytest.raises(ToolAuthError, match="refused the request \\(401\\): missing or wrong token") as caught:
            await gateway.tools()
    assert "wrong" not in caught.value.message.replace("missing or wrong token", "")


async def test_prefix_policies_and_trust_are_configurable(gateway_server: GatewayServer) -> None:
    async with Gateway(gateway_server.url + "/", prefix="gw", policies={"crash": "deny"}, policy="ask",
                       trusted=True) as gateway:
        specs = {s.name: s for s in await gateway.tools()}
        assert specs["gw_crash"].policy == "deny" and specs["gw_add"].policy == "ask"
        assert not specs["gw_add"].untrusted_output
        assert await specs["gw_add"].call({"a": 1, "b": 2}) == 3  # the gateway is asked for its own name


async def test_unreachable_gateway_is_a_connect_error() -> None:
    async with Gateway("http://127.0.0.1:9", timeout_s=5) as gateway:
        with pytest.raises(ToolConnectError, match="could not reach http://127.0.0.1:9/tools"):
            await gateway.tools()


@pytest.mark.parametrize("body", [{"tools": "nope"}, {"functions": []}, "a string", 5])
async def test_tools_answer_that_is_not_a_list(body: object) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    async with Gateway("http://gw.test", transport=transport) as gateway:
        with pytest.raises(ToolServerError, match="GET /tools must answer a list of tools"):
            await gateway.tools()
