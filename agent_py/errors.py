"""The agent's error tree. Every failure that crosses a module boundary is one of these, with fields, not a string.

    AgentError
    ├── ModelError                      the model endpoint failed (agent_py.models)
    │   ├── ModelConnectError           unreachable host, refused connection, DNS, dropped before any byte
    │   ├── ModelTimeout                no first byte / no progress within the configured time
    │   ├── CorsError                   the browser refused the response (origin not allowed); .fix says how
    │   ├── AuthError                   401/403: missing or invalid key (never retried)
    │   ├── ModelNotFound               404: unknown model or wrong base URL (never retried)
    │   ├── BadRequest                  other 4xx (never retried)
    │   │   └── ContextOverflow         the prompt exceeds the model's context window
    │   ├── RateLimited                 429 after the retry budget ran out; .retry_after_s
    │   ├── ServerError                 5xx after the retry budget ran out
    │   └── StreamError                 malformed SSE/NDJSON/JSON, or the stream was cut; .partial_text kept
    ├── SandboxError                    the code sandbox failed (wasm_sandbox via agent_py.sandbox)
    │   ├── SandboxTimeout              a run passed its wall-clock deadline and was killed
    │   ├── SandboxMemoryError          a run passed its memory cap and was killed
    │   ├── SandboxCrashed              the worker died or answered nonsense
    │   └── SandboxIsolationError       the sandbox could not be set up isolated (refuse to run rather than run open)
    ├── ToolError                       a host tool failed (raised inside the sandbox as the same-named class)
    │   ├── UnknownTool
    │   ├── ToolArgumentError           arguments do not match the tool's JSON Schema
    │   ├── ToolResultError             the implementation returned something that is not JSON
    │   ├── ToolDenied                  the tool's policy, a hook's veto (or the user) refused the call
    │   ├── ToolCallLimitExceeded       the step made more tool calls than Limits.max_tool_calls_per_step
    │   ├── ToolTimeout                 a tool server (MCP, gateway, web page) did not answer in time
    │   ├── ToolConnectError            a tool server could not be reached
    │   │   └── ToolCorsError           the browser refused a tool server's answer (CORS); .fix says how
    │   ├── ToolAuthError               a tool server answered 401/403 (missing or wrong token)
    │   ├── ToolServerError             a tool server answered with an error (HTTP status, JSON-RPC error, garbage)
    │   └── ManagedAgentStopped         a managed agent (agent_py.managed) ended without an answer; .stop_reason
    ├── ParseError                      the model reply held no runnable code (becomes an observation)
    ├── RunStopped                      a guardrail or the user ended the run; .reason is a StopReason value
    ├── ConfigError                     settings that cannot work (bad URL, negative limits, ...)
    └── WorkspaceError                  a workspace file that cannot be put, read or restored (bad name, unknown path)
        └── FileTooLarge                over a size limit; .path, .size, .limit (bytes)

Policy (see agent_py.loop): ModelError after retries, SandboxIsolationError and our own bugs end a run;
SandboxTimeout/SandboxMemoryError/ToolError/ParseError become observations and the loop goes on.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AgentError",
    "ModelError",
    "ModelConnectError",
    "ModelTimeout",
    "CorsError",
    "AuthError",
    "ModelNotFound",
    "BadRequest",
    "ContextOverflow",
    "RateLimited",
    "ServerError",
    "StreamError",
    "SandboxError",
    "SandboxTimeout",
    "SandboxMemoryError",
    "SandboxCrashed",
    "SandboxIsolationError",
    "ToolError",
    "UnknownTool",
    "ToolArgumentError",
    "ToolResultError",
    "ToolDenied",
    "ToolCallLimitExceeded",
    "ToolTimeout",
    "ToolConnectError",
    "ToolCorsError",
    "ToolAuthError",
    "ToolServerError",
    "ManagedAgentStopped",
    "ParseError",
    "RunStopped",
    "ConfigError",
    "WorkspaceError",
    "FileTooLarge",
]


class AgentError(Exception):
    """Base of every error the agent raises on purpose. `to_dict()` is what events, traces and the UI carry."""

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        for name, value in fields.items():
            setattr(self, name, value)
        self._fields = tuple(fields)

    def add_fields(self, **fields: Any) -> AgentError:
        """Attach more fields after the fact (e.g. the partial text of a cut stream); returns self."""
        for name, value in fields.items():
            setattr(self, name, value)
        self._fields = self._fields + tuple(name for name in fields if name not in self._fields)
        return self

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": type(self).__name__, "message": self.message}
        for name in self._fields:
            value = getattr(self, name)
            if isinstance(value, str | int | float | bool | type(None) | list | dict):
                out[name] = value
        return out

    def __str__(self) -> str:
        return self.message


# --- model endpoint -------------------------------------------------------------------------------------------


class ModelError(AgentError):
    """The model endpoint failed. Fields: url (never with a key in it), status (HTTP status or None), fix (words)."""

    retryable = False

    def __init__(self, message: str, *, url: str = "", status: int | None = None, fix: str = "", **fields: Any):
        super().__init__(message, url=url, status=status, fix=fix, **fields)


class ModelConnectError(ModelError):
    retryable = True


class ModelTimeout(ModelError):
    retryable = True


class CorsError(ModelError):
    """The browser blocked the response. In a page, fetch() only says "Failed to fetch"; `fix` names the remedy."""


class AuthError(ModelError):
    pass


class ModelNotFound(ModelError):
    pass


class BadRequest(ModelError):
    pass


class ContextOverflow(BadRequest):
    pass


class RateLimited(ModelError):
    retryable = True


class ServerError(ModelError):
    retryable = True


class StreamError(ModelError):
    """Malformed or cut stream. Field partial_text holds what arrived before the fault."""

    retryable = True


# --- sandbox --------------------------------------------------------------------------------------------------


class SandboxError(AgentError):
    """The sandbox failed. Fields: session (sandbox name), limit (the limit that was hit, if any)."""


class SandboxTimeout(SandboxError):
    pass


class SandboxMemoryError(SandboxError):
    pass


class SandboxCrashed(SandboxError):
    pass


class SandboxIsolationError(SandboxError):
    pass


# --- tools ----------------------------------------------------------------------------------------------------


class ToolError(AgentError):
    """A host tool failed. Fields: tool (name), signature (the expected call, for argument errors)."""


class UnknownTool(ToolError):
    pass


class ToolArgumentError(ToolError):
    pass


class ToolResultError(ToolError):
    pass


class ToolDenied(ToolError):
    pass


class ToolCallLimitExceeded(ToolError):
    """Fields: tool, limit (the per-step cap that was passed)."""


# Tool servers (agent_py.toolkit): MCP servers, HTTP gateways, web pages. Fields: tool, url, status, code, fix.


class ToolTimeout(ToolError):
    pass


class ToolConnectError(ToolError):
    pass


class ToolCorsError(ToolConnectError):
    """In a page, fetch() only says "Failed to fetch"; `fix` names the remedy (server headers or a CORS proxy)."""


class ToolAuthError(ToolError):
    pass


class ToolServerError(ToolError):
    pass


class ManagedAgentStopped(ToolError):
    """A sub-agent called as a tool (agent_py.managed) ended without a final answer. Fields: tool (its name),
    stop_reason (a StopReason value: max_steps, stagnation, error, ...)."""


# --- loop -----------------------------------------------------------------------------------------------------


class ParseError(AgentError):
    pass


class RunStopped(AgentError):
    """Field reason: one of agent_py.loop.StopReason values (max_steps, wall_clock, tokens, stagnation, cancelled)."""


class ConfigError(AgentError):
    pass


# --- workspace files ------------------------------------------------------------------------------------------


class WorkspaceError(AgentError):
    pass


class FileTooLarge(WorkspaceError):
    """Fields path, size and limit (bytes)."""
