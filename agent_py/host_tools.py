"""Tools of the page that embeds the widget ("host tools"), as typed sandbox tools of one run.

In embed mode (index.html?embed=1 inside <codeact-agent>) the host page registers tools through the widget's JS
API. The widget page passes their specs to the agent worker with the run (static/embed/worker_host_tools.mjs), and
the worker exposes them to Python as the JS module `codeact_host_tools`:

    codeact_host_tools.spec_json(run_id)  -> '{"tools": [ToolSpec...], "builtins": ["show_table", ...] | null}'
    codeact_host_tools.call(run_id, name, arguments_json)  -> Promise of '{"ok": true, "value": ...}'
                                                              or '{"ok": false, "error": {"type", "message"}}'

A call goes worker -> widget page (policy: deny / ask its user / allow, rate cap) -> host page (the implementation)
and back. Arguments are checked against the schema before anything leaves the worker (agent_py.sandbox), so a
malformed call never reaches the host. Errors come back typed: ToolDenied, ToolTimeout, UnknownTool or ToolError,
raised in the sandbox as the same-named class.

Outside embed mode (the full page, the CLI, tests in CPython) the module does not exist and nothing changes.
"""

from __future__ import annotations

import json
from typing import Any

from agent_py.errors import ToolDenied, ToolError, ToolTimeout, UnknownTool
from agent_py.log import get_logger
from agent_py.sandbox_tools import SandboxTool

__all__ = ["with_host_tools", "host_tool", "ERRORS"]

log = get_logger("agent")
# Error types the widget page may report; anything else is a plain ToolError (the host is not trusted to pick).
ERRORS: dict[str, type[ToolError]] = {"ToolDenied": ToolDenied, "ToolTimeout": ToolTimeout,
                                      "UnknownTool": UnknownTool, "ToolError": ToolError}


def _bridge() -> Any:
    try:
        import codeact_host_tools  # type: ignore[import-not-found]  # registered by the agent worker
    except ImportError:
        return None
    return codeact_host_tools


def host_tool(run_id: str, spec: dict[str, Any], call_js: Any) -> SandboxTool:
    """One host tool spec -> a SandboxTool whose implementation asks the widget page, which asks the host."""
    name = str(spec["name"])

    async def call(arguments: dict[str, Any]) -> Any:
        reply = json.loads(str(await call_js(run_id, name, json.dumps(arguments))))
        if reply.get("ok"):
            return reply.get("value")
        error = reply.get("error") or {}
        kind = ERRORS.get(str(error.get("type")), ToolError)
        raise kind(str(error.get("message") or "the host tool failed"), tool=name)

    return SandboxTool(name, str(spec.get("description") or ""), call,
                       spec.get("parameters") or {"type": "object", "properties": {}}, spec.get("returns"))


def with_host_tools(run_id: str, builtins: list[SandboxTool], bridge: Any = None) -> list[SandboxTool]:
    """The run's tools: the built-in ones the embedding page left on, then the host page's own tools."""
    bridge = bridge if bridge is not None else _bridge()
    if bridge is None:
        return builtins
    spec = json.loads(str(bridge.spec_json(run_id)))
    enabled = spec.get("builtins")
    tools = builtins if enabled is None else [tool for tool in builtins if tool.name in set(enabled)]
    taken = {tool.name for tool in builtins}
    for host_spec in spec.get("tools") or []:
        if host_spec.get("name") in taken:
            continue  # a host tool never takes a built-in name, on or off: the page refuses it too
        try:
            tools.append(host_tool(run_id, host_spec, bridge.call))
        except (ToolError, KeyError, TypeError) as err:  # the page checks names; one bad spec must not end the run
            log.warn("host tool skipped", tool=str(host_spec.get("name")), error=str(err))
    return tools
