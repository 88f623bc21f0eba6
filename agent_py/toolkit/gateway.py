"""A plain HTTP tool gateway (issue 10): tools defined in OpenAI's function format, invoked by name.

    gateway = Gateway("http://127.0.0.1:9000", token="...", name="office")
    specs = await gateway.tools()      # GET {base}/tools
    value = await specs[0].call({...}) # POST {base}/invoke {"name": ..., "arguments": {...}}

`GET /tools` answers `[{"type": "function", "function": {"name", "description", "parameters"}}]` or
`{"tools": [...]}`. A malformed definition is skipped with a ToolDefinitionWarning listing what was wrong (also in
`gateway.warnings`); one bad tool does not cost the others. `POST /invoke` answers `{text?, data?, error?}`:
error -> ToolError with the gateway's words; data and text -> {"text", "data"}; one of them -> that value.
HTTP 401/403 -> ToolAuthError, 404 on /invoke -> UnknownTool, other failures -> ToolServerError; no answer within
`timeout_s` -> ToolTimeout. Results are untrusted (untrusted_output=True) unless `trusted=True`.
"""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import httpx

from agent_py.errors import ToolAuthError, ToolError, ToolServerError, UnknownTool

from .http import deadline, make_client, read_limited, redact_url, transport_error
from .spec import Policy, RateLimit, ToolDefinitionWarning, ToolSpec

__all__ = ["Gateway"]

# OpenAI's rule for function names, widened by "." as MCP allows; anything else is a sign of a broken definition.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class Gateway:
    def __init__(
        self,
        base_url: str,
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
        trusted: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name or (httpx.URL(self.base_url).host or "gateway")
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.max_response_bytes = max_response_bytes
        self.policy: Policy = policy
        self.policies = dict(policies or {})
        self.rate_limits = dict(rate_limits or {})
        self.trusted = trusted
        self.warnings: list[ToolDefinitionWarning] = []
        base_headers = dict(headers or {})
        if token:
            base_headers["Authorization"] = f"Bearer {token}"
        self._http = make_client(transport, base_headers)

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def source(self) -> str:
        return f"gateway:{self.name}"

    async def tools(self) -> list[ToolSpec]:
        body = await self._exchange("GET", "/tools", None, tool="")
        items = body.get("tools") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise ToolServerError(f"gateway {self.name}: GET /tools must answer a list of tools or {{\"tools\": "
                                  f"[...]}}, got {type(body).__name__}", url=self._url("/tools"))
        self.warnings = []
        specs: list[ToolSpec] = []
        seen: set[str] = set()
        for index, item in enumerate(items):
            name, problems = _definition(item)
            if name is not None and name in seen:
                problems.append("a second tool with this name")
            if problems:
                warning = ToolDefinitionWarning(self.source, name or f"#{index}", problems)
                self.warnings.append(warning)
                warnings.warn(warning, stacklevel=2)
                continue
            assert name is not None
            seen.add(name)
            specs.append(self._spec(item["function"], name))
        return specs

    def _spec(self, function: dict[str, Any], name: str) -> ToolSpec:
        async def call(arguments: dict[str, Any]) -> Any:
            return await self.invoke(name, arguments)

        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        return ToolSpec(
            name=f"{self.prefix}_{name}" if self.prefix else name,
            description=str(function.get("description") or ""),
            parameters=parameters,
            returns=None,
            call=call,
            policy=self.policies.get(name, self.policy),
            rate_limit=self.rate_limits.get(name),
            source=self.source,
            untrusted_output=not self.trusted,
        )

    async def invoke(self, name: str, arguments: dict[str, Any]) -> Any:
        body = await self._exchange("POST", "/invoke", {"name": name, "arguments": arguments}, tool=name)
        if not isinstance(body, dict):
            raise ToolServerError(f"{name} (gateway {self.name}): /invoke must answer an object, got "
                                  f"{type(body).__name__}", tool=name, url=self._url("/invoke"))
        error = body.get("error")
        if error:
            text = error.get("message") if isinstance(error, dict) else error
            raise ToolError(f"{name} (gateway {self.name}) failed: {text}", tool=name, gateway=self.name)
        has_text, has_data = body.get("text") is not None, body.get("data") is not None
        if has_text and has_data:
            return {"text": body["text"], "data": body["data"]}
        if has_data:
            return body["data"]
        return body.get("text")

    def _url(self, path: str) -> str:
        return self.base_url + path

    async def _exchange(self, method: str, path: str, payload: Any, *, tool: str) -> Any:
        url = self._url(path)
        shown = redact_url(url)
        what = f"{tool} (gateway {self.name})" if tool else f"gateway {self.name} ({method} {path})"
        try:
            async with deadline(self.timeout_s, f"{what} did not answer within {self.timeout_s:g} s", tool=tool,
                                url=shown):
                async with self._http.stream(method, url, json=payload) as response:
                    body, truncated = await read_limited(response, self.max_response_bytes)
        except ToolError:
            raise
        except Exception as err:  # noqa: BLE001 - transport failures become typed tool errors
            raise transport_error(err, url, tool=tool, cors_fix=f"the gateway at {self.base_url} must allow this "
                                  "page's origin (Access-Control-Allow-Origin, -Allow-Headers: Content-Type, "
                                  "Authorization)") from None
        if truncated:
            raise ToolServerError(f"{what}: the answer is larger than {self.max_response_bytes} bytes", tool=tool,
                                  url=shown)
        status = response.status_code
        detail = _error_text(body)
        if status in (401, 403):
            raise ToolAuthError(f"{what}: the gateway refused the request ({status}): {detail}", tool=tool,
                                url=shown, status=status, fix="check the gateway's token")
        if status == 404 and tool:
            raise UnknownTool(f"{what}: the gateway does not know this tool: {detail}", tool=tool, url=shown,
                              status=status)
        if status >= 400 or status < 200:
            raise ToolServerError(f"{what} answered HTTP {status}: {detail}", tool=tool, url=shown, status=status)
        try:
            return json.loads(body)
        except ValueError:
            raise ToolServerError(f"{what}: the answer is not JSON: {body[:120]!r}", tool=tool, url=shown,
                                  status=status) from None


def _error_text(body: bytes) -> str:
    text = body[:2000].decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        return text[:300] or "(empty body)"
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        error = error.get("message")
    return str(error)[:300] if error else text[:300]


def _definition(item: Any) -> tuple[str | None, list[str]]:
    """The tool's name (when it has a usable one) and everything wrong with the definition."""
    if not isinstance(item, dict):
        return None, [f"a definition must be an object, got {type(item).__name__}"]
    problems: list[str] = []
    if item.get("type", "function") != "function":
        problems.append(f"type must be \"function\", got {item.get('type')!r}")
    function = item.get("function")
    if not isinstance(function, dict):
        return None, problems + ["no \"function\" object"]
    name = function.get("name")
    if not isinstance(name, str) or not name:
        problems.append("function.name is missing")
        name = None
    elif not NAME_PATTERN.match(name):
        problems.append(f"function.name {name!r} has characters outside A-Z a-z 0-9 _ . - (or is too long)")
    if not isinstance(function.get("description", ""), str | type(None)):
        problems.append("function.description must be a string")
    parameters = function.get("parameters")
    if parameters is not None:
        if not isinstance(parameters, dict):
            problems.append(f"function.parameters must be a JSON Schema object, got {type(parameters).__name__}")
        elif parameters.get("type", "object") != "object":
            problems.append(f"function.parameters must describe an object, not {parameters.get('type')!r}")
        elif "properties" in parameters and not isinstance(parameters["properties"], dict):
            problems.append("function.parameters.properties must be an object")
        elif "required" in parameters and not (isinstance(parameters["required"], list) and
                                               all(isinstance(r, str) for r in parameters["required"])):
            problems.append("function.parameters.required must be a list of names")
    return name, problems
