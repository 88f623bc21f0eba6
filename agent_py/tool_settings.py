"""The Tools part of the run settings: remote tool sources, web research and per-tool policy, as the page sends it.

    "tools": {
      "mcp":      [{"url": "https://…/mcp", "token": "…", "name": "docs", "policy": "ask"}],
      "gateways": [{"url": "https://…", "headers": {"Authorization": "Bearer …"}, "name": "office", "policy": "ask"}],
      "web":      {"fetchUrl": true, "allowedOrigins": "https://docs.python.org, https://*.wikipedia.org",
                   "corsProxy": "https://proxy.example/?url={url}", "searchUrl": "http://127.0.0.1:8888",
                   "policy": "allow"},
      "policies": {"add": "allow", "send_mail": {"policy": "ask", "ratePerMinute": 2}},
      "timeoutS": 8
    }

Default policies (documented in README "Tools"): MCP and gateway tools "ask" (they can act on the world: a remote
tool's name says nothing about its side effects), web tools "allow" (read-only, and fetch_url is held to the
origin allowlist). `policies` overrides them per tool, by the tool's own name or its Python name, with an optional
rate cap in calls per minute. `timeoutS` bounds each remote call; keep it under the sandbox's cell time limit so a
slow server ends as a ToolTimeout the code can handle, not as a killed cell.

Secrets (bearer tokens, header values) live only in these objects: `secrets()` lists them so the log redacts them;
they never reach the sandbox (tools run in the agent worker) or the run record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent_py.errors import ConfigError
from agent_py.toolkit.spec import POLICIES, Policy

__all__ = ["ToolSettings", "McpSource", "GatewaySource", "WebSettings", "ToolRule", "REMOTE_DEFAULT", "WEB_DEFAULT"]

REMOTE_DEFAULT: Policy = "ask"
WEB_DEFAULT: Policy = "allow"


def _where(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _policy(value: Any, path: str, default: Policy) -> Policy:
    if value is None or value == "":
        return default
    if value not in POLICIES:
        raise ConfigError(f"setting {path!r} must be one of {', '.join(POLICIES)}, got {value!r:.40}", field=path)
    return value


def _url(value: Any, path: str) -> str:
    url = str(value or "").strip()
    if not url.startswith(("http://", "https://")) or len(url) < 10:
        raise ConfigError(f"setting {path!r} must be an http(s) URL, got {url[:80]!r}", field=path)
    return url


def _text(value: Any, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"setting {path!r} must be text, got {type(value).__name__}", field=path)
    return value.strip()


def _list(data: dict[str, Any], key: str, path: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"setting {path!r} must be a list, got {type(value).__name__}", field=path)
    return value


def _entry(item: Any, path: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ConfigError(f"setting {path!r} must be an object, got {type(item).__name__}", field=path)
    return item


@dataclass(slots=True)
class McpSource:
    url: str
    token: str = field(default="", repr=False)
    name: str = ""
    policy: Policy = REMOTE_DEFAULT

    @classmethod
    def from_page(cls, item: Any, path: str) -> McpSource:
        data = _entry(item, path)
        return cls(url=_url(data.get("url"), _where(path, "url")),
                   token=_text(data.get("token"), _where(path, "token")),
                   name=_text(data.get("name"), _where(path, "name")),
                   policy=_policy(data.get("policy"), _where(path, "policy"), REMOTE_DEFAULT))


@dataclass(slots=True)
class GatewaySource:
    url: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    name: str = ""
    policy: Policy = REMOTE_DEFAULT

    @classmethod
    def from_page(cls, item: Any, path: str) -> GatewaySource:
        data = _entry(item, path)
        headers = data.get("headers") or {}
        where = _where(path, "headers")
        if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) and k.strip()
                                                    for k, v in headers.items()):
            raise ConfigError(f"setting {where!r} must map header names to text values", field=where)
        return cls(url=_url(data.get("url"), _where(path, "url")),
                   headers={k.strip(): v for k, v in headers.items()},
                   name=_text(data.get("name"), _where(path, "name")),
                   policy=_policy(data.get("policy"), _where(path, "policy"), REMOTE_DEFAULT))


@dataclass(slots=True)
class WebSettings:
    fetch_url: bool = False
    allowed_origins: list[str] = field(default_factory=list)
    cors_proxy: str = ""
    search_url: str = ""
    policy: Policy = WEB_DEFAULT

    @property
    def enabled(self) -> bool:
        return self.fetch_url or bool(self.search_url)

    @classmethod
    def from_page(cls, data: dict[str, Any], path: str) -> WebSettings:
        origins = data.get("allowedOrigins") or []
        where = _where(path, "allowedOrigins")
        if isinstance(origins, str):
            origins = origins.replace(",", " ").split()
        if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
            raise ConfigError(f"setting {where!r} must be origins (text or a list)", field=where)
        origins = [o.strip().rstrip("/") for o in origins if o.strip()]
        from agent_py.toolkit.web import Allowlist  # here: it imports httpx, which the page loads after boot

        try:
            Allowlist(origins)
        except ConfigError as err:
            raise ConfigError(f"setting {where!r}: {err.message}", field=where) from None
        proxy = _text(data.get("corsProxy"), _where(path, "corsProxy"))
        if proxy and "{url}" not in proxy:
            raise ConfigError(f"setting {_where(path, 'corsProxy')!r} must be a URL template holding {{url}}, e.g. "
                              "https://proxy.example/?url={url}", field=_where(path, "corsProxy"))
        search = _text(data.get("searchUrl"), _where(path, "searchUrl"))
        if search:
            _url(search, _where(path, "searchUrl"))
        fetch = data.get("fetchUrl", False)
        if not isinstance(fetch, bool):
            raise ConfigError(f"setting {_where(path, 'fetchUrl')!r} must be true or false", field="fetchUrl")
        return cls(fetch_url=fetch, allowed_origins=origins, cors_proxy=proxy, search_url=search,
                   policy=_policy(data.get("policy"), _where(path, "policy"), WEB_DEFAULT))


@dataclass(frozen=True, slots=True)
class ToolRule:
    """A per-tool override: its policy (None keeps the source's) and a rate cap in calls per minute."""

    policy: Policy | None = None
    rate_per_minute: int | None = None

    @classmethod
    def from_page(cls, value: Any, path: str) -> ToolRule:
        if isinstance(value, str):
            return cls(policy=_policy(value, path, "allow"))
        data = _entry(value, path)
        policy = data.get("policy")
        rate = data.get("ratePerMinute")
        where = _where(path, "ratePerMinute")
        if rate in (None, "", 0):
            rate = None
        elif isinstance(rate, bool) or not isinstance(rate, int | float) or int(rate) != rate or rate < 1:
            raise ConfigError(f"setting {where!r} must be a whole number of calls per minute (>= 1), got {rate!r}",
                              field=where)
        return cls(policy=None if policy in (None, "") else _policy(policy, _where(path, "policy"), "allow"),
                   rate_per_minute=None if rate is None else int(rate))


@dataclass(slots=True)
class ToolSettings:
    mcp: list[McpSource] = field(default_factory=list)
    gateways: list[GatewaySource] = field(default_factory=list)
    web: WebSettings = field(default_factory=WebSettings)
    rules: dict[str, ToolRule] = field(default_factory=dict)
    timeout_s: float = 8.0

    @property
    def empty(self) -> bool:
        return not (self.mcp or self.gateways or self.web.enabled)

    def secrets(self) -> list[str]:
        """Every bearer token and header value: registered with the log at run start so it is never written."""
        out = [source.token for source in self.mcp if source.token]
        for gateway in self.gateways:
            out += [value for value in gateway.headers.values() if value]
            out += [value.split(" ", 1)[1] for value in gateway.headers.values() if " " in value.strip()]
        return out

    @classmethod
    def from_page(cls, data: Any) -> ToolSettings:
        if data is None:
            return cls()
        data = _entry(data, "tools")
        web = data.get("web") or {}
        policies = data.get("policies") or {}
        if not isinstance(policies, dict):
            raise ConfigError("setting 'tools.policies' must map tool names to a policy", field="tools.policies")
        timeout = data.get("timeoutS", 8.0)
        if timeout in (None, ""):
            timeout = 8.0
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0.1 <= timeout <= 600:
            raise ConfigError(f"setting 'tools.timeoutS' must be seconds between 0.1 and 600, got {timeout!r}",
                              field="tools.timeoutS")
        return cls(
            mcp=[McpSource.from_page(item, f"tools.mcp[{i}]")
                 for i, item in enumerate(_list(data, "mcp", "tools.mcp"))],
            gateways=[GatewaySource.from_page(item, f"tools.gateways[{i}]")
                      for i, item in enumerate(_list(data, "gateways", "tools.gateways"))],
            web=WebSettings.from_page(_entry(web, "tools.web"), "tools.web"),
            rules={str(name): ToolRule.from_page(rule, f"tools.policies.{name}") for name, rule in policies.items()},
            timeout_s=float(timeout),
        )
