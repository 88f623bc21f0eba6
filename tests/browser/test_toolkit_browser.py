"""The toolkit in the real page's agent worker (Pyodide), over the browser's fetch, against the same loopback
servers as the unit tests: every call is cross-origin, so CORS (and the exposed Mcp-Session-Id) is part of it."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from tests.servers.mcp_server import McpTestServer
from tests.servers.web_server import WebServer

pytest_plugins = ["tests.servers.mcp_fixtures"]
pytestmark = pytest.mark.browser

PRELUDE = """
import json, sys
from agent_py.errors import ToolError
from agent_py.toolkit import McpServer, WebTools, PolicyGate
"""


def run_py(page: Any, code: str) -> Any:
    """Run `code` in the agent worker; its last expression must be a JSON string, returned decoded."""
    source = PRELUDE + textwrap.dedent(code)
    return json.loads(page.evaluate("code => window.codeact.agent.execPython(code)", source))


# chatty sends a log notification on purpose (the client must skip it), which the SDK deprecates.
@pytest.mark.filterwarnings("ignore:The logging capability is deprecated")
def test_mcp_client_over_fetch(ready_page: Any, mcp_server: McpTestServer) -> None:
    mcp_server.token = "browser-token"
    result = run_py(ready_page, f"""
        out = {{"platform": sys.platform}}
        async with McpServer({mcp_server.url!r}, token="browser-token", timeout_s=10) as server:
            specs = {{s.name: s for s in await server.tools()}}
            out["names"] = sorted(specs)
            out["transport"] = type(server._http._transport).__name__
            out["add"] = await PolicyGate().call(specs["add"], {{"a": 40, "b": 2}})
            out["chatty"] = await specs["chatty"].call({{"text": "page"}})
            try:
                await specs["fail"].call({{"message": "from the page"}})
            except ToolError as err:
                out["fail"] = [type(err).__name__, err.message]
            out["session"] = server.session_id
        json.dumps(out)
    """)
    assert result["platform"] == "emscripten" and result["transport"] == "FetchTransport"
    assert result["names"] == sorted(["add", "echo", "fail", "slow", "weather", "chatty", "poll", "lookup-item"])
    assert result["add"] == {"result": 42} and result["chatty"] == {"result": "done page"}
    assert result["fail"][0] == "ToolError" and "from the page" in result["fail"][1]
    # The session id crossed CORS (exposed header) and went back on every later request, with the token.
    posts = [r for r in mcp_server.requests if r.method == "POST"]
    assert result["session"] and all(r.headers.get("mcp-session-id") == result["session"] for r in posts[1:])
    assert all(r.headers.get("authorization") == "Bearer browser-token" for r in posts)
    assert posts[0].headers.get("origin", "").startswith("http://127.0.0.1:")
    assert any(r.method == "DELETE" for r in mcp_server.requests)


def test_fetch_url_and_search_over_fetch(ready_page: Any, web_server: WebServer) -> None:
    result = run_py(ready_page, f"""
        out = {{}}
        async with WebTools(allowed_origins=[{web_server.url!r}], search_url={web_server.url!r},
                            timeout_s=10) as web:
            page = await web.fetch_url({web_server.url + "/article.html"!r})
            out["title"], out["head"] = page["title"], page["text"][:14]
            out["search"] = await web.web_search("tides", limit=2)
            for url in ({web_server.url + "/nocors.html"!r}, "https://example.org/"):
                try:
                    await web.fetch_url(url)
                except ToolError as err:
                    out.setdefault("errors", []).append([type(err).__name__, err.message, getattr(err, "fix", "")])
        json.dumps(out)
    """)
    assert result["title"] == "The Test Article" and result["head"] == "# Main heading"
    assert [r["title"] for r in result["search"]] == ["Result 0 for tides", "Result 1 for tides"]
    (cors_type, _, cors_fix), (denied_type, denied_message, _) = result["errors"]
    # The page cannot read a site that sends no Access-Control-Allow-Origin: the error says so and names the proxy.
    assert cors_type == "ToolCorsError" and "CORS proxy URL template" in cors_fix
    assert denied_type == "ToolDenied" and "https://example.org:443 is not on the list" in denied_message
