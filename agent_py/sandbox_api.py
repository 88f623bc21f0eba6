"""What the loop needs from a sandbox, and the shape of one cell's result.

The browser sandbox (agent_py.sandbox) answers with a dict that crossed from JavaScript; `ExecResult.from_dict`
turns it into this typed value, and a result that does not have the shape is a SandboxCrashed, never a guess.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from agent_py.errors import SandboxCrashed

__all__ = ["ExecError", "ExecResult", "Sandbox"]


@dataclass(slots=True)
class ExecError:
    type: str
    message: str
    traceback: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ExecResult:
    stdout: str = ""
    stderr: str = ""
    error: ExecError | None = None
    duration_ms: float = 0.0
    final: bool = False
    final_value: Any = None
    restored: bool = False
    restore_note: str = ""
    truncated: bool = False
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> ExecResult:
        if not isinstance(data, dict):
            raise SandboxCrashed(f"the sandbox answered with {type(data).__name__}, not a result")
        error = data.get("error")
        if error is not None:
            if not isinstance(error, dict) or not isinstance(error.get("type"), str):
                raise SandboxCrashed("the sandbox answered with a malformed error")
            error = ExecError(error["type"], str(error.get("message", "")),
                              [str(line) for line in error.get("traceback") or []])
        texts = {name: data.get(name) or "" for name in ("stdout", "stderr", "restore_note")}
        if not all(isinstance(value, str) for value in texts.values()):
            raise SandboxCrashed("the sandbox answered with non-text output")
        calls = data.get("tool_calls") or []
        return cls(
            stdout=texts["stdout"], stderr=texts["stderr"], error=error,
            duration_ms=float(data.get("duration_ms") or 0.0), final=data.get("final") is True,
            final_value=data.get("final_value"), restored=data.get("restored") is True,
            restore_note=texts["restore_note"], truncated=data.get("truncated") is True,
            tool_calls=[c if isinstance(c, dict) else {"tool": str(c)} for c in calls if c],
        )


class Sandbox(Protocol):
    name: str

    async def run(self, code: str) -> ExecResult | dict[str, Any]: ...

    async def tools_listing(self) -> str: ...

    async def reset(self) -> None: ...

    async def close(self) -> None: ...
