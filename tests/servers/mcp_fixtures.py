"""pytest fixtures for the toolkit's loopback servers: the MCP server (SSE answers and JSON answers), the HTTP tool
gateway and the web server. One server per test session each, reset before every test.

Use from a test module with `from tests.servers.mcp_fixtures import mcp_server, ...  # noqa: F401`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.gateway_server import GatewayServer
from tests.servers.mcp_server import McpTestServer
from tests.servers.web_server import WebServer


@pytest.fixture(scope="session")
def mcp_server_session() -> Iterator[McpTestServer]:
    with McpTestServer() as server:
        yield server


@pytest.fixture(scope="session")
def mcp_json_server_session() -> Iterator[McpTestServer]:
    with McpTestServer(json_response=True) as server:
        yield server


@pytest.fixture
def mcp_server(mcp_server_session: McpTestServer) -> Iterator[McpTestServer]:
    """The MCP server answering over SSE streams (the SDK's default)."""
    mcp_server_session.reset()
    yield mcp_server_session
    mcp_server_session.reset()


@pytest.fixture
def mcp_json_server(mcp_json_server_session: McpTestServer) -> Iterator[McpTestServer]:
    """The MCP server answering each POST with one JSON body."""
    mcp_json_server_session.reset()
    yield mcp_json_server_session
    mcp_json_server_session.reset()


@pytest.fixture(params=["sse", "json"])
def any_mcp_server(request: pytest.FixtureRequest) -> McpTestServer:
    """Both answer styles, for behaviour that must not depend on them."""
    name = "mcp_server" if request.param == "sse" else "mcp_json_server"
    return request.getfixturevalue(name)


@pytest.fixture(scope="session")
def gateway_server_session() -> Iterator[GatewayServer]:
    with GatewayServer() as server:
        yield server


@pytest.fixture
def gateway_server(gateway_server_session: GatewayServer) -> Iterator[GatewayServer]:
    gateway_server_session.reset()
    yield gateway_server_session
    gateway_server_session.reset()


@pytest.fixture(scope="session")
def web_server_session() -> Iterator[WebServer]:
    with WebServer() as server:
        yield server


@pytest.fixture
def web_server(web_server_session: WebServer) -> Iterator[WebServer]:
    web_server_session.reset()
    yield web_server_session
    web_server_session.reset()
