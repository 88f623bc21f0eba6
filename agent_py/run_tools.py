"""A run's remote tools: MCP servers, HTTP gateways and web research from the settings, as typed sandbox tools.

    tools = await RunTools.open(settings.tools, approve=page_approver(run_id), taken={"show_table"})
    tools.sandbox_tools   # SandboxTool per remote tool: Python signature + docstring from its JSON Schema
    tools.untrusted       # names whose results the loop fences as third-party data (SECURITY-CASES 26)
    tools.event(run_id)   # {"type": "ToolsReady", tools: [{name, source, policy, rate_per_minute}], warnings: [...]}
    await tools.aclose()  # ends MCP sessions, closes HTTP clients

Connecting happens once, at run start: MCP initialize + tools/list, gateway GET /tools. A source that is down, slow
or refuses us, and every malformed definition, becomes a warning in the ToolsReady event (shown in the run), never
a failed run: the other sources' tools still work.

Every call goes through one PolicyGate (agent_py/toolkit/policy.py): arguments checked against the schema, deny,
rate cap, ask the user, call, result checked to be JSON. `gate_call` is the one place a remote tool call passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from agent_py.created_tools import RUNNER_NAMES
from agent_py.errors import AgentError, ToolError
from agent_py.log import get_logger
from agent_py.sandbox_tools import SandboxTool
from agent_py.tool_settings import ToolSettings
from agent_py.toolkit.policy import Approve, PolicyGate
from agent_py.toolkit.schema import annotation
from agent_py.toolkit.spec import (
    RateLimit,
    ToolDefinitionWarning,
    ToolSpec,
    arguments_from_python,
    docstring,
    python_name,
    python_parameters,
)

__all__ = ["RunTools", "RemoteTool", "page_approver", "remote_tool"]

log = get_logger("agent")
# Names the sandbox defines itself (wasm_sandbox/prelude.py): a remote tool never shadows one.
SANDBOX_NAMES = RUNNER_NAMES | {"print"}


@dataclass(slots=True)
class RemoteTool(SandboxTool):
    """A SandboxTool made from a ToolSpec: its parameters are the Python names (the stub's keywords), and the
    listing shows the toolkit's signature (unions, renamed arguments, Returns) rather than SandboxTool's plain one."""

    spec: ToolSpec | None = None

    def signature(self) -> str:
        assert self.spec is not None
        params = ", ".join(p.render() for p in python_parameters(self.spec))
        returns = annotation(self.spec.returns, self.spec.returns) if self.spec.returns else "Any"
        return f"{self.name}({params}) -> {returns}"

    def docstring(self) -> str:
        assert self.spec is not None
        return docstring(self.spec)


def remote_tool(spec: ToolSpec, name: str, gate: PolicyGate) -> RemoteTool:
    """`spec` as the sandbox tool `name`, every call going through `gate`."""
    params = python_parameters(spec)
    props = spec.parameters.get("properties") if isinstance(spec.parameters.get("properties"), dict) else {}
    properties: dict[str, Any] = {}
    for p in params:
        schema = dict(props.get(p.json_name) or {})
        if not p.required:
            # The stub passes None for an optional argument the code left out; the gate fills the real default.
            schema.pop("default", None)
            kinds = schema.get("type")
            if isinstance(kinds, str):
                schema["type"] = [kinds, "null"]
        properties[p.name] = schema
    parameters = {"type": "object", "properties": properties, "required": [p.name for p in params if p.required]}

    async def call(kwargs: dict[str, Any]) -> Any:
        return await gate_call(gate, spec, arguments_from_python(spec, kwargs))

    return RemoteTool(name, spec.description, call, parameters, spec.returns, spec)


async def gate_call(gate: PolicyGate, spec: ToolSpec, arguments: dict[str, Any]) -> Any:
    """The one place a remote tool call passes: validate -> deny -> rate cap -> ask -> call -> JSON check."""
    return await gate.call(spec, arguments)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _warning(source: str, err: BaseException) -> dict[str, Any]:
    if isinstance(err, ToolDefinitionWarning):
        return {"source": err.source, "type": "ToolDefinitionWarning", "tool": err.name,
                "message": str(err), "problems": list(err.problems)}
    if isinstance(err, AgentError):
        return {"source": source, "type": type(err).__name__, "message": err.message,
                "fix": str(getattr(err, "fix", "") or "")}
    return {"source": source, "type": "ToolError", "message": f"{type(err).__name__}: {err}"}


class RunTools:
    def __init__(self, gate: PolicyGate) -> None:
        self.gate = gate
        self.sandbox_tools: list[RemoteTool] = []
        self.untrusted: list[str] = []
        self.warnings: list[dict[str, Any]] = []
        self._closers: list[Any] = []

    @classmethod
    async def open(cls, settings: ToolSettings, *, approve: Approve | None, taken: Iterable[str] = (),
                   transport: Any = None) -> RunTools:
        """Connect every configured source (concurrently) and make their tools. Never raises for a source."""
        tools = cls(PolicyGate(approve))
        if settings.empty:
            return tools
        from agent_py.toolkit import Gateway, McpServer, WebTools

        timeout = settings.timeout_s
        sources: list[tuple[str, Any]] = []
        for source in settings.mcp:
            server = McpServer(source.url, source.token or None, name=source.name or None, timeout_s=timeout,
                               policy=source.policy, transport=transport)
            sources.append((f"mcp:{source.name or server._shown_url}", server))
        for entry in settings.gateways:
            gateway = Gateway(entry.url, name=entry.name or None, headers=entry.headers, timeout_s=timeout,
                              policy=entry.policy, transport=transport)
            sources.append((gateway.source, gateway))
        tools._closers = [client for _, client in sources]
        listed = await asyncio.gather(*(tools._list(label, client) for label, client in sources))
        specs = [spec for group in listed for spec in group]
        web = settings.web
        if web.enabled:
            web_tools = WebTools(allowed_origins=web.allowed_origins, search_url=web.search_url or None,
                                 cors_proxy=web.cors_proxy or None, timeout_s=timeout, policy=web.policy,
                                 transport=transport)
            tools._closers.append(web_tools)
            specs += [s for s in web_tools.tools() if s.name != "fetch_url" or web.fetch_url]
        taken_names = set(taken) | SANDBOX_NAMES
        for spec in specs:
            rule = settings.rules.get(spec.name) or settings.rules.get(python_name(spec))
            if rule is not None:
                if rule.policy is not None:
                    spec.policy = rule.policy
                if rule.rate_per_minute is not None:
                    spec.rate_limit = RateLimit(rule.rate_per_minute, 60.0)
            name = _unique(python_name(spec), taken_names)
            try:
                tool = remote_tool(spec, name, tools.gate)
            except (ToolError, ValueError, TypeError) as err:  # one tool the sandbox cannot take costs only itself
                tools.warnings.append(_warning(spec.source, err))
                continue
            tools.sandbox_tools.append(tool)
            if spec.untrusted_output:
                tools.untrusted.append(name)
        for warning in tools.warnings:
            log.warn("tool source problem", source=warning["source"], error=warning["type"])
        return tools

    async def _list(self, label: str, client: Any) -> list[ToolSpec]:
        try:
            with warnings.catch_warnings():  # kept as warnings of the run (ToolsReady), not printed
                warnings.simplefilter("ignore", ToolDefinitionWarning)
                specs = await client.tools()
        except Exception as err:  # noqa: BLE001 - a source that fails costs its own tools, never the run
            self.warnings.append(_warning(label, err))
            return []
        self.warnings += [_warning(label, w) for w in client.warnings]
        return specs

    def listing(self) -> list[dict[str, Any]]:
        out = []
        for tool in self.sandbox_tools:
            spec = tool.spec
            assert spec is not None
            limit = spec.rate_limit
            out.append({"name": tool.name, "source": spec.source, "policy": spec.policy,
                        "rate_per_minute": round(limit.calls * 60 / limit.per_s) if limit else None})
        return out

    def event(self, run_id: str) -> dict[str, Any]:
        return {"type": "ToolsReady", "run_id": run_id, "step": 0, "tools": self.listing(),
                "warnings": self.warnings}

    async def aclose(self) -> None:
        for client in self._closers:
            try:
                await client.aclose()
            except Exception as err:  # noqa: BLE001 - closing must not hide how the run ended
                log.debug("closing a tool source failed", error=type(err).__name__)
        self._closers = []


# --- asking the user ----------------------------------------------------------------------------------------

_ids = itertools.count(1)


def _approval_bridge() -> Any:
    try:
        import codeact_tool_approval  # type: ignore[import-not-found]  # registered by static/app/agent_worker.mjs
    except ImportError:
        return None
    return codeact_tool_approval


# How long a dialog waits for the user. The cell's own deadline is held meanwhile (BrowserSandbox.deadline_held).
APPROVAL_TIMEOUT_S = 300.0


def page_approver(run_id: str, timeout_s: float = APPROVAL_TIMEOUT_S, bridge: Any = None,
                  hold: Callable[[], contextlib.AbstractAsyncContextManager[Any]] | None = None) -> Approve:
    """Ask the page's user about one call (a dialog with the tool, its source and its arguments). No answer within
    `timeout_s` or a stopped run closes the dialog unanswered, and the gate refuses the call. `hold()` is entered
    while the dialog is open: the run passes its sandbox's deadline hold, so the user's think time does not count
    against the cell's time limit. Without a page (CLI, CPython) nobody can be asked: refused."""

    async def approve(spec: ToolSpec, arguments: dict[str, Any]) -> bool:
        js = bridge if bridge is not None else _approval_bridge()
        if js is None:
            return False
        call_id = next(_ids)
        request = json.dumps({"tool": spec.name, "source": spec.source, "arguments": arguments,
                              "description": spec.description[:300]})
        answered = False
        try:
            async with hold() if hold else contextlib.nullcontext(), asyncio.timeout(timeout_s):
                answer = str(await js.ask(run_id, call_id, request))
            answered = True
        except TimeoutError:
            raise TimeoutError(f"no answer within {timeout_s:g} s") from None
        finally:
            if not answered:
                js.cancel(run_id, call_id)  # the dialog goes away: a late Allow must not count
        return answer == "allow"

    return approve
