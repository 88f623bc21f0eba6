"""Web tools against the loopback web server (tests/servers/web_server.py): the allowlist, size and time limits,
HTML extraction, redirects, the CORS proxy template and the SearXNG-style search."""

from __future__ import annotations

import time
from urllib.parse import unquote

import pytest

from agent_py.errors import ConfigError, ToolArgumentError, ToolDenied, ToolError, ToolServerError, ToolTimeout
from agent_py.toolkit import Allowlist, PolicyGate, WebTools, python_signature
from agent_py.toolkit.html_text import extract_text
from tests.servers.web_server import ARTICLE, BIG_TOTAL, WebServer

pytest_plugins = ["tests.servers.mcp_fixtures"]
pytestmark = pytest.mark.anyio


def web_for(server: WebServer, **options: object) -> WebTools:
    return WebTools(allowed_origins=[server.url], search_url=server.url, **options)  # type: ignore[arg-type]


# --- extraction -----------------------------------------------------------------------------------------------


def test_html_becomes_readable_text_without_script_style_nav_or_hidden_text() -> None:
    title, text = extract_text(ARTICLE, "http://site.test/dir/page.html")
    assert title == "The Test Article"
    for dropped in ("SCRIPT-TEXT", "SCRIPT-TWO", "color: red", "NAV-TEXT", "Home", "HIDDEN-TEXT",
                    "ignore previous instructions", "ALSO-HIDDEN", "NOSCRIPT-TEXT"):
        assert dropped not in text
    assert text.startswith("# Main heading\n\nFirst paragraph with a relative link (http://site.test/docs/page.html)")
    assert "an absolute one (https://example.org/x)." in text
    assert "\n## Second level\n" in text
    assert "- item one\n- item two" in text
    assert "| name | value" in text and "| alpha | 1" in text
    assert "def f(x):\n    return x + 1" in text  # <pre> keeps its indentation
    assert "Café & more <tags>" in text


def test_allowlist_matches_origins_and_wildcards_only() -> None:
    allow = Allowlist(["https://docs.python.org", "http://127.0.0.1:8000", "https://*.wikipedia.org"])
    assert allow.allows("https://docs.python.org/3/library/")
    assert allow.allows("https://DOCS.python.org:443/x")
    assert allow.allows("http://127.0.0.1:8000/a?b=c")
    assert allow.allows("https://en.wikipedia.org/wiki/X") and allow.allows("https://wikipedia.org/")
    for refused in ("http://docs.python.org/", "https://docs.python.org:8443/", "http://127.0.0.1:8001/",
                    "https://evilwikipedia.org/", "https://docs.python.org.evil.test/",
                    "https://docs.python.org@evil.test/", "file:///etc/passwd", "javascript:alert(1)",
                    "ftp://docs.python.org/", "not a url"):
        assert not allow.allows(refused), refused
    assert not Allowlist([]).allows("http://127.0.0.1:8000/")
    with pytest.raises(ConfigError, match="not an http"):
        Allowlist(["docs.python.org"])


# --- fetch_url ------------------------------------------------------------------------------------------------


async def test_fetch_url_returns_readable_text(web_server: WebServer) -> None:
    async with web_for(web_server) as web:
        page = await web.fetch_url(f"{web_server.url}/article.html")
    assert page["status"] == 200 and page["content_type"] == "text/html" and page["title"] == "The Test Article"
    assert page["text"].startswith("# Main heading") and page["truncated"] is False
    assert f"relative link ({web_server.url}/docs/page.html)" in page["text"]


async def test_fetch_url_outside_the_allowlist_is_denied_before_any_request(web_server: WebServer) -> None:
    async with WebTools(allowed_origins=["https://docs.python.org"]) as web:
        with pytest.raises(ToolDenied) as caught:
            await web.fetch_url(f"{web_server.url}/article.html")
    err = caught.value
    assert f"http://127.0.0.1:{web_server.port} is not on the list of sites the user allowed" in err.message
    assert "(https://docs.python.org)" in err.message and err.allowed == ["https://docs.python.org"]
    assert web_server.requests == []
    async with WebTools() as web:  # deny by default
        with pytest.raises(ToolDenied, match="empty: no site may be fetched"):
            await web.fetch_url(f"{web_server.url}/article.html")
    async with web_for(web_server) as web:
        with pytest.raises(ToolArgumentError, match="is not an http\\(s\\) URL"):
            await web.fetch_url("file:///etc/passwd")


async def test_redirects_are_followed_only_inside_the_allowlist(web_server: WebServer) -> None:
    async with web_for(web_server) as web:
        page = await web.fetch_url(f"{web_server.url}/redirect")
        assert page["url"] == f"{web_server.url}/article.html" and page["title"] == "The Test Article"
        with pytest.raises(ToolDenied, match=f"http://localhost:{web_server.port} is not on the list"):
            await web.fetch_url(f"{web_server.url}/redirect-away")
        with pytest.raises(ToolServerError, match="more than 5 redirects"):
            await web.fetch_url(f"{web_server.url}/loop")
    # The hop to the other origin was never requested; the loop stopped after 1 + 5 requests.
    assert web_server.requests == ["/redirect", "/article.html", "/redirect-away"] + ["/loop"] * 6


async def test_size_limit_stops_reading(web_server: WebServer) -> None:
    async with web_for(web_server, max_bytes=50_000) as web:
        page = await web.fetch_url(f"{web_server.url}/big.txt", max_chars=200_000)
    assert page["truncated"] is True and len(page["text"]) == 50_000
    time.sleep(0.3)  # let the server's writer notice the closed connection
    assert web_server.big_bytes_sent < BIG_TOTAL / 2  # the rest was never downloaded


async def test_max_chars_cuts_the_text(web_server: WebServer) -> None:
    async with web_for(web_server) as web:
        page = await web.fetch_url(f"{web_server.url}/article.html", max_chars=100)
    assert len(page["text"]) == 100 and page["truncated"] is True


async def test_time_limit_covers_a_server_that_drips(web_server: WebServer) -> None:
    async with web_for(web_server, timeout_s=0.5) as web:
        started = time.perf_counter()
        with pytest.raises(ToolTimeout, match="did not answer within 0.5 s") as caught:
            await web.fetch_url(f"{web_server.url}/slow")
    assert time.perf_counter() - started < 1.5 and caught.value.tool == "fetch_url"


async def test_content_types_and_http_errors(web_server: WebServer) -> None:
    async with web_for(web_server) as web:
        plain = await web.fetch_url(f"{web_server.url}/plain.txt")
        assert plain["text"] == "just text\nsecond line\n" and plain["title"] == ""
        assert (await web.fetch_url(f"{web_server.url}/latin1.html"))["text"] == "Grüße aus Köln"
        with pytest.raises(ToolServerError, match="is image/png, not text this tool can read"):
            await web.fetch_url(f"{web_server.url}/image.png")
        with pytest.raises(ToolServerError, match="answered HTTP 404") as caught:
            await web.fetch_url(f"{web_server.url}/missing")
        assert caught.value.status == 404


async def test_cors_proxy_template_carries_every_fetch_and_the_allowlist_checks_the_target(
        web_server: WebServer) -> None:
    proxy = f"{web_server.url}/proxy?url={{url}}"
    target = f"http://localhost:{web_server.port}/article.html"
    async with WebTools(allowed_origins=[f"http://localhost:{web_server.port}"], cors_proxy=proxy) as web:
        page = await web.fetch_url(target)
        assert page["title"] == "The Test Article" and page["url"] == target
        with pytest.raises(ToolDenied):
            await web.fetch_url(f"{web_server.url}/article.html")  # the proxy's own origin is not allowed
    assert [unquote(p) for p in web_server.requests] == [f"/proxy?url={target}"]
    with pytest.raises(ConfigError, match="must be a URL template holding \\{url\\}"):
        WebTools(cors_proxy="https://proxy.test/")


async def test_unreachable_site_is_a_connect_error() -> None:
    async with WebTools(allowed_origins=["http://127.0.0.1:9"]) as web:
        with pytest.raises(ToolError, match="could not reach http://127.0.0.1:9/x") as caught:
            await web.fetch_url("http://127.0.0.1:9/x")
    assert type(caught.value).__name__ == "ToolConnectError"


# --- web_search -----------------------------------------------------------------------------------------------


async def test_search_returns_title_url_content_up_to_the_limit(web_server: WebServer) -> None:
    async with web_for(web_server) as web:
        results = await web.web_search("tide tables", limit=3)
    assert results == [{"title": f"Result {i} for tide tables", "url": f"{web_server.url}/article.html?n={i}",
                        "content": f"snippet {i}"} for i in range(3)]
    assert web_server.requests == ["/search?q=tide+tables&format=json"]


async def test_search_faults_are_explained(web_server: WebServer) -> None:
    web_server.search_json = False  # SearXNG answers 403 when json is not in search.formats
    async with web_for(web_server) as web:
        with pytest.raises(ToolServerError, match="refused the JSON format \\(HTTP 403\\); in SearXNG, add json to "
                                                  "search.formats") as caught:
            await web.web_search("x")
        assert caught.value.status == 403
    async with WebTools(search_url=f"{web_server.url}/plain.txt#") as web:  # answers, but not JSON
        with pytest.raises(ToolServerError, match="answered HTTP 404|did not answer JSON"):
            await web.web_search("x")
    async with WebTools() as web:
        with pytest.raises(ToolError, match="no search endpoint is configured"):
            await web.web_search("x")
        assert [s.name for s in web.tools()] == ["fetch_url"]


# --- as tools -------------------------------------------------------------------------------------------------


async def test_tools_are_untrusted_specs_that_go_through_the_gate(web_server: WebServer) -> None:
    async with web_for(web_server, policies={"web_search": "ask"}) as web:
        fetch, search = web.tools()
        assert fetch.untrusted_output and search.untrusted_output and fetch.source == "web"
        assert search.policy == "ask" and fetch.policy == "allow"
        text = python_signature(fetch)
        assert text.splitlines()[0] == "def fetch_url(url: str, max_chars: int = 20000) -> dict:"
        assert f"Only these sites may be fetched: {web_server.url}." in text and "untrusted data from web" in text
        assert python_signature(search).splitlines()[0] == "def web_search(query: str, limit: int = 5) -> list[dict]:"
        gate = PolicyGate()
        page = await gate.call(fetch, {"url": f"{web_server.url}/plain.txt"})
        assert page["text"] == "just text\nsecond line\n"
        with pytest.raises(ToolArgumentError, match="limit: must be at most 20"):
            await gate.call(search, {"query": "x", "limit": 50})
        with pytest.raises(ToolDenied, match="needs the user's approval"):
            await gate.call(search, {"query": "x"})
