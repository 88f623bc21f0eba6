"""Web research tools: fetch_url (pages on origins the user allowed, as readable text) and web_search (a
SearXNG-compatible endpoint the user configured).

    web = WebTools(allowed_origins=["https://docs.python.org", "https://*.wikipedia.org"],
                   search_url="http://127.0.0.1:8888", cors_proxy="https://proxy.example/?url={url}")
    specs = web.tools()                      # [fetch_url, web_search] as ToolSpecs (untrusted_output=True)
    page = await web.fetch_url("https://docs.python.org/3/", max_chars=20_000)

fetch_url refuses any origin outside the allowlist (deny by default: an empty list allows nothing), every redirect
hop included, and only http(s). It reads at most `max_bytes` (the rest is not downloaded), gives up after
`timeout_s` (ToolTimeout), and turns HTML into text (html_text.py). In a page, most sites do not allow other
origins to read them: that failure is a ToolCorsError whose fix names the `cors_proxy` setting, a URL template
with `{url}` (the target, percent-encoded) through which every fetch then goes; the allowlist is still checked
against the target. Results are third-party text: untrusted_output=True, the loop fences them (case 26).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from agent_py.errors import ConfigError, ToolArgumentError, ToolDenied, ToolError, ToolServerError

from .html_text import extract_text
from .http import deadline, make_client, read_limited, redact_url, transport_error
from .spec import Policy, RateLimit, ToolSpec

__all__ = ["Allowlist", "WebTools"]

MAX_REDIRECTS = 5
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TEXT_TYPES = ("application/json", "application/xml", "application/javascript", "application/x-yaml")


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


class Allowlist:
    """Origins ("https://example.org", "http://127.0.0.1:8000") and subdomain wildcards ("https://*.example.org",
    which also matches example.org itself). Paths in entries are ignored: the unit of trust is the origin."""

    def __init__(self, origins: list[str]) -> None:
        self.entries = list(origins)
        self._rules: list[tuple[str, str, int, bool]] = []
        for entry in origins:
            wildcard = "://*." in entry
            parsed = _origin(entry.replace("://*.", "://", 1))
            if parsed is None:
                raise ConfigError(f"allowed origin {entry!r} is not an http(s) origin like https://example.org")
            self._rules.append((*parsed, wildcard))

    def allows(self, url: str) -> bool:
        target = _origin(url)
        if target is None:
            return False
        scheme, host, port = target
        for rule_scheme, rule_host, rule_port, wildcard in self._rules:
            if scheme != rule_scheme or port != rule_port:
                continue
            if host == rule_host or (wildcard and host.endswith("." + rule_host)):
                return True
        return False

    def describe(self) -> str:
        return ", ".join(self.entries) if self.entries else "(empty: no site may be fetched)"


class WebTools:
    def __init__(
        self,
        *,
        allowed_origins: list[str] | None = None,
        search_url: str | None = None,
        cors_proxy: str | None = None,
        max_bytes: int = 2 * 1024 * 1024,
        max_chars: int = 20_000,
        timeout_s: float = 15.0,
        policy: Policy = "allow",
        policies: dict[str, Policy] | None = None,
        rate_limits: dict[str, RateLimit] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if cors_proxy is not None and "{url}" not in cors_proxy:
            raise ConfigError(f"the CORS proxy {cors_proxy!r} must be a URL template holding {{url}}")
        self.allowlist = Allowlist(allowed_origins or [])
        self.search_url = search_url.rstrip("/") if search_url else None
        self.cors_proxy = cors_proxy
        self.max_bytes = max_bytes
        self.max_chars = max_chars
        self.timeout_s = timeout_s
        self.policy: Policy = policy
        self.policies = dict(policies or {})
        self.rate_limits = dict(rate_limits or {})
        self._http = make_client(transport, {"Accept": "text/html, text/plain;q=0.9, */*;q=0.5"})

    async def __aenter__(self) -> WebTools:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- fetch_url ------------------------------------------------------------------------------------------

    async def fetch_url(self, url: str, max_chars: int | None = None) -> dict[str, Any]:
        """{url (after redirects), status, content_type, title, text, truncated (bytes or characters cut)}."""
        limit = self.max_chars if max_chars is None else max_chars
        if _origin(url) is None:
            raise ToolArgumentError(f"fetch_url: {url[:200]!r} is not an http(s) URL", tool="fetch_url",
                                    field="url")
        async with deadline(self.timeout_s, f"fetch_url: {redact_url(url)} did not answer within "
                                            f"{self.timeout_s:g} s", tool="fetch_url", url=redact_url(url)):
            final_url, response, body, cut = await self._get_following(url)
        status = response.status_code
        if status >= 400:
            raise ToolServerError(f"fetch_url: {redact_url(final_url)} answered HTTP {status}", tool="fetch_url",
                                  url=redact_url(final_url), status=status)
        content_type = response.headers.get("content-type", "")
        title, text = _readable(body, content_type, final_url)
        truncated = cut or len(text) > limit
        return {"url": final_url, "status": status, "content_type": content_type.split(";")[0].strip(),
                "title": title, "text": text[:limit], "truncated": truncated}

    def _check_allowed(self, url: str) -> None:
        if not self.allowlist.allows(url):
            origin = _origin(url)
            shown = f"{origin[0]}://{origin[1]}:{origin[2]}" if origin else redact_url(url)
            raise ToolDenied(f"fetch_url: {shown} is not on the list of sites the user allowed "
                             f"({self.allowlist.describe()}); ask the user to add it, or use another source",
                             tool="fetch_url", url=redact_url(url), reason="not_allowed",
                             allowed=self.allowlist.entries)

    async def _get_following(self, url: str) -> tuple[str, httpx.Response, bytes, bool]:
        """GET with redirects followed by hand, each hop checked against the allowlist."""
        for _ in range(MAX_REDIRECTS + 1):
            self._check_allowed(url)
            request_url = self.cors_proxy.replace("{url}", quote(url, safe="")) if self.cors_proxy else url
            try:
                async with self._http.stream("GET", request_url) as response:
                    if response.is_redirect and "location" in response.headers:
                        await response.aclose()
                        url = urljoin(url, response.headers["location"])
                        continue
                    body, cut = await read_limited(response, self.max_bytes)
                    return url, response, body, cut
            except ToolError:
                raise
            except Exception as err:  # noqa: BLE001 - transport failures become typed tool errors
                raise transport_error(err, request_url, tool="fetch_url", cors_fix=self._cors_fix(url)) from None
        raise ToolServerError(f"fetch_url: more than {MAX_REDIRECTS} redirects from {redact_url(url)}",
                              tool="fetch_url", url=redact_url(url))

    def _cors_fix(self, url: str) -> str:
        if self.cors_proxy:
            return f"the CORS proxy {self.cors_proxy} did not answer or does not allow this page's origin"
        return (f"{redact_url(url)} does not let other sites' pages read it (CORS); set a CORS proxy URL template "
                "(e.g. https://your-proxy.example/?url={url}) in the web tools settings, or fetch from a site that "
                "sends Access-Control-Allow-Origin")

    # --- web_search -----------------------------------------------------------------------------------------

    async def web_search(self, query: str, limit: int = 5) -> list[dict[str, str]]:
        """[{title, url, content}] from `GET {search_url}/search?q=...&format=json` (SearXNG's JSON API)."""
        if not self.search_url:
            raise ToolError("web_search: no search endpoint is configured (a SearXNG URL in the settings)",
                            tool="web_search")
        url = f"{self.search_url}/search"
        shown = redact_url(url)
        try:
            async with deadline(self.timeout_s, f"web_search: {shown} did not answer within {self.timeout_s:g} s",
                                tool="web_search", url=shown):
                async with self._http.stream("GET", url, params={"q": query, "format": "json"},
                                             headers={"Accept": "application/json"}) as response:
                    body, cut = await read_limited(response, self.max_bytes)
        except ToolError:
            raise
        except Exception as err:  # noqa: BLE001
            raise transport_error(err, url, tool="web_search", cors_fix=f"the search endpoint {shown} must allow "
                                  "this page's origin (Access-Control-Allow-Origin)") from None
        status = response.status_code
        if status == 403:
            raise ToolServerError(f"web_search: {shown} refused the JSON format (HTTP 403); in SearXNG, add json "
                                  "to search.formats in settings.yml", tool="web_search", url=shown, status=status)
        if status >= 400:
            raise ToolServerError(f"web_search: {shown} answered HTTP {status}", tool="web_search", url=shown,
                                  status=status)
        try:
            data = json.loads(body)
        except ValueError:
            raise ToolServerError(f"web_search: {shown} did not answer JSON" + (" (answer cut at the size limit)"
                                  if cut else ""), tool="web_search", url=shown) from None
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise ToolServerError(f"web_search: {shown} answered without a results list", tool="web_search",
                                  url=shown)
        out = []
        for item in results:
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                out.append({"title": str(item.get("title") or ""), "url": item["url"],
                            "content": str(item.get("content") or "")})
            if len(out) >= limit:
                break
        return out

    # --- as tools -------------------------------------------------------------------------------------------

    def tools(self) -> list[ToolSpec]:
        """fetch_url always; web_search when a search endpoint is configured."""

        async def fetch_call(args: dict[str, Any]) -> Any:
            return await self.fetch_url(args["url"], args.get("max_chars"))

        async def search_call(args: dict[str, Any]) -> Any:
            return await self.web_search(args["query"], args.get("limit", 5))

        specs = [ToolSpec(
            name="fetch_url",
            description=("Fetch a web page and return its readable text (HTML reduced to headings, paragraphs, "
                         f"lists and links). Only these sites may be fetched: {self.allowlist.describe()}."),
            parameters={"type": "object", "additionalProperties": False, "required": ["url"], "properties": {
                "url": {"type": "string", "description": "an http(s) URL on an allowed site"},
                "max_chars": {"type": "integer", "minimum": 100, "maximum": 200_000, "default": self.max_chars,
                              "description": "cut the text after this many characters"},
            }},
            returns={"type": "object", "properties": {
                "url": {"type": "string"}, "status": {"type": "integer"}, "content_type": {"type": "string"},
                "title": {"type": "string"}, "text": {"type": "string"}, "truncated": {"type": "boolean"}}},
            call=fetch_call, policy=self.policies.get("fetch_url", self.policy),
            rate_limit=self.rate_limits.get("fetch_url"), source="web", untrusted_output=True,
        )]
        if self.search_url:
            specs.append(ToolSpec(
                name="web_search",
                description="Search the web; returns the top results as title, url and a snippet.",
                parameters={"type": "object", "additionalProperties": False, "required": ["query"], "properties": {
                    "query": {"type": "string", "minLength": 1, "description": "what to search for"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5,
                              "description": "how many results"},
                }},
                returns={"type": "array", "items": {"type": "object", "properties": {
                    "title": {"type": "string"}, "url": {"type": "string"}, "content": {"type": "string"}}}},
                call=search_call, policy=self.policies.get("web_search", self.policy),
                rate_limit=self.rate_limits.get("web_search"), source="web", untrusted_output=True,
            ))
        return specs


def _readable(body: bytes, content_type: str, url: str) -> tuple[str, str]:
    """(title, text) for HTML and text types; ToolServerError for binary content the model cannot read."""
    kind = content_type.split(";")[0].strip().lower()
    charset = "utf-8"
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip("\"' ")
    try:
        text = body.decode(charset, "replace")
    except LookupError:
        text = body.decode("utf-8", "replace")
    if kind in ("text/html", "application/xhtml+xml") or (not kind and text.lstrip()[:1] == "<"):
        return extract_text(text, url)
    if kind.startswith("text/") or kind in _TEXT_TYPES or kind.endswith(("+json", "+xml")) or not kind:
        return "", text
    raise ToolServerError(f"fetch_url: {redact_url(url)} is {kind}, not text this tool can read",
                          tool="fetch_url", url=redact_url(url))
