"""Host tools as the sandbox sees them: Python stubs with real signatures, and the checks on every call.

A tool is a name, a description, a JSON Schema of its arguments and an async implementation on the host. Inside
the sandbox it becomes a plain Python function (or, on a page that is not cross-origin isolated, an async one
whose calls the agent rewrites to awaits), with the signature and docstring the model reads in its prompt.
"""

from __future__ import annotations

import json
import keyword
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agent_py.errors import (
    AgentError,
    ToolArgumentError,
    ToolCallLimitExceeded,
    ToolDenied,
    ToolError,
    ToolResultError,
    UnknownTool,
)
from agent_py.hooks import first_veto

__all__ = ["SandboxTool", "ToolGate", "tool_stubs", "tools_listing", "check_arguments", "encode_result",
           "error_reply", "dispatch_tool_call"]

_PY_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "array": "list",
             "object": "dict", "null": "None"}
_JSON_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


@dataclass(slots=True)
class SandboxTool:
    """`call` takes the checked arguments and returns a JSON value (or raises; the model sees `Type: message`)."""

    name: str
    description: str
    call: Callable[[dict[str, Any]], Awaitable[Any]]
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    returns: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or keyword.iskeyword(self.name) or self.name.startswith("_"):
            raise ToolError(f"tool name {self.name!r} must be a public Python identifier", tool=self.name)

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self.parameters.get("properties") or {})

    @property
    def required(self) -> list[str]:
        return [name for name in self.parameters.get("required") or [] if name in self.properties]

    def signature(self) -> str:
        parts = []
        required = self.required
        ordered = required + [name for name in self.properties if name not in required]
        for name in ordered:
            annotation = _annotation(self.properties[name])
            if name in required:
                parts.append(f"{name}: {annotation}")
            else:
                default = self.properties[name].get("default")
                parts.append(f"{name}: {annotation} = {default!r}")
        returns = _annotation(self.returns) if self.returns else "Any"
        return f"{self.name}({', '.join(parts)}) -> {returns}"

    def docstring(self) -> str:
        lines = [self.description.strip() or "(no description)"]
        for name, schema in self.properties.items():
            if schema.get("description"):
                lines.append(f"{name}: {schema['description']}")
        return "\n".join(lines)


def _annotation(schema: dict[str, Any] | None) -> str:
    if not schema:
        return "Any"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(_PY_TYPES.get(k, "Any") for k in kind)
    if kind == "array" and isinstance(schema.get("items"), dict):
        return f"list[{_annotation(schema['items'])}]"
    if "enum" in schema:
        return "Literal[" + ", ".join(repr(v) for v in schema["enum"]) + "]"
    return _PY_TYPES.get(kind, "Any")


def _stub(tool: SandboxTool, *, is_async: bool) -> str:
    required = tool.required
    ordered = required + [name for name in tool.properties if name not in required]
    params = [name if name in required else f"{name}={tool.properties[name].get('default')!r}" for name in ordered]
    args = "{" + ", ".join(f"{name!r}: {name}" for name in ordered) + "}"
    doc = json.dumps(tool.docstring())  # a JSON string literal is a valid Python string literal
    if is_async:
        return (f"async def {tool.name}({', '.join(params)}):\n    {doc}\n"
                f"    return await _call_tool_async({tool.name!r}, {args})\n")
    return f"def {tool.name}({', '.join(params)}):\n    {doc}\n    return _call_tool({tool.name!r}, {args})\n"


def tool_stubs(tools: list[SandboxTool], *, is_async: bool) -> str:
    """The MicroPython source that defines every tool function inside the sandbox."""
    return "\n".join(_stub(tool, is_async=is_async) for tool in tools)


def tools_listing(tools: list[SandboxTool]) -> str:
    """What the model reads: each tool's signature and docstring, as Python."""
    if not tools:
        return "(no tools: plain Python only)"
    blocks = []
    for tool in tools:
        doc = "\n".join("    " + line for line in tool.docstring().splitlines())
        blocks.append(f"def {tool.signature()}:\n    \"\"\"\n{doc}\n    \"\"\"")
    return "\n\n".join(blocks)


def check_arguments(tool: SandboxTool, arguments: Any) -> dict[str, Any]:
    """Arguments against the schema: required present, no unknown names, JSON types and enums right."""
    expected = f"expected {tool.signature()}"
    if not isinstance(arguments, dict):
        raise ToolArgumentError(f"{tool.name}: arguments must be keyword arguments; {expected}", tool=tool.name)
    missing = [name for name in tool.required if arguments.get(name) is None]
    if missing:
        raise ToolArgumentError(f"{tool.name}: missing {', '.join(missing)}; {expected}", tool=tool.name)
    unknown = [name for name in arguments if name not in tool.properties]
    if unknown and tool.parameters.get("additionalProperties", False) is False and tool.properties:
        raise ToolArgumentError(f"{tool.name}: unknown argument {', '.join(unknown)}; {expected}", tool=tool.name)
    checked = {}
    for name, value in arguments.items():
        schema = tool.properties.get(name, {})
        if value is None and name not in tool.required:
            if "default" in schema:
                checked[name] = schema["default"]
            continue
        kinds = schema.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds] if kinds else []
        if kinds and not any(_JSON_CHECKS.get(k, lambda v: True)(value) for k in kinds):
            raise ToolArgumentError(f"{tool.name}: {name} must be {' or '.join(kinds)}, got {type(value).__name__} "
                                    f"{value!r:.60}; {expected}", tool=tool.name)
        if "enum" in schema and value not in schema["enum"]:
            raise ToolArgumentError(f"{tool.name}: {name} must be one of {schema['enum']}; {expected}", tool=tool.name)
        checked[name] = value
    return checked


def _json_safe(value: Any, path: str = "result") -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolResultError(f"{path} is {value}, which JSON cannot carry")
    if isinstance(value, dict):
        return {str(k): _json_safe(v, f"{path}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ToolResultError(f"{path} is a {type(value).__name__}, which is not JSON (use str, numbers, lists, dicts)")


def encode_result(tool: SandboxTool, value: Any) -> str:
    """The reply the sandbox decodes: {ok, value} when the value is JSON (no NaN, no bytes, no cycles)."""
    try:
        return json.dumps({"ok": True, "value": _json_safe(value)}, allow_nan=False)
    except RecursionError:
        raise ToolResultError(f"{tool.name} returned a structure with a cycle", tool=tool.name) from None
    except ToolResultError as err:
        raise ToolResultError(f"{tool.name}: {err.message}", tool=tool.name) from None


def error_reply(err: BaseException) -> str:
    """The reply that makes the sandbox raise `err`'s class (any non-agent error arrives as ToolError)."""
    kind = type(err).__name__ if isinstance(err, AgentError) else "ToolError"
    message = err.message if isinstance(err, AgentError) else f"{type(err).__name__}: {err}"
    return json.dumps({"ok": False, "error": {"type": kind, "message": message}})


@dataclass
class ToolGate:
    """What every tool call passes before its implementation: the hooks that may veto it and the per-step cap.
    The agent owns one (Agent.tool_gate) and hands it to its sandbox; `new_step()` restarts the count."""

    hooks: list[Any] = field(default_factory=list)
    max_calls_per_step: int | None = 50
    calls: int = 0

    def new_step(self) -> None:
        self.calls = 0


async def dispatch_tool_call(tools: dict[str, SandboxTool], name: str, args_json: str,
                             gate: ToolGate) -> tuple[str, dict[str, Any] | None]:
    """The one path from sandboxed code to a tool, whether the cell blocked on the call (Atomics) or awaited it:
    arguments checked -> before_tool hooks -> per-step cap -> implementation -> JSON-checked result.

    Returns the reply the sandbox decodes ({ok, value} or {ok: false, error: {type, message}}, raised there as the
    same-named ToolError class) and the record of the call for the step (None for calls past the cap after the
    first one, so a runaway loop cannot grow the step without bound)."""
    record: dict[str, Any] = {"tool": name}
    try:
        tool = tools.get(name)
        if tool is None:
            raise UnknownTool(f"no tool named {name}; tools: {', '.join(sorted(tools)) or '(none)'}", tool=name)
        arguments = check_arguments(tool, json.loads(args_json))
        record["arguments"] = arguments
        veto = await first_veto(gate.hooks, "before_tool", name, arguments)
        if veto is not None:
            record["vetoed"] = {"hook": veto.hook, "reason": veto.reason}
            raise ToolDenied(f"{name} was vetoed by hook {veto.hook}: {veto.reason}", tool=name, hook=veto.hook)
        gate.calls += 1
        cap = gate.max_calls_per_step
        if cap is not None and gate.calls > cap:
            err = ToolCallLimitExceeded(f"{name}: more than {cap} tool calls in one step; the call was not made. "
                                        "Do fewer calls per step (batch the work, or go on in the next step)",
                                        tool=name, limit=cap)
            if gate.calls > cap + 1:
                return error_reply(err), None
            raise err
        reply = encode_result(tool, await tool.call(arguments))
        record["ok"] = True
    except json.JSONDecodeError as err:
        bad = ToolArgumentError(f"{name}: the arguments were not JSON ({err.msg})", tool=name)
        record.update(ok=False, error=f"ToolArgumentError: {bad.message}")
        return error_reply(bad), record
    except Exception as err:  # noqa: BLE001 - every failure becomes the model's observation, typed
        record.update(ok=False, error=f"{type(err).__name__}: {err}")
        return error_reply(err), record
    return reply, record
