"""Everything a run does, as one stream of events: the page, the CLI, hooks and storage all consume it.

Each event is a dataclass; `to_dict()` gives `{"type": <class name>, "run_id", "step", "ts", ...fields}`, the
JSON the agent worker posts to the page (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = [
    "Event", "RunStarted", "StepStarted", "ModelDelta", "ReasoningDelta", "CodeReady", "ExecutionStarted",
    "Observation", "ToolCall", "Vetoed", "FinalAnswer", "UsageUpdate", "StepFinished", "RunError", "RunFinished",
    "FilesChanged", "Checkpoint", "CheckpointsDropped",
]


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


@dataclass(kw_only=True)
class Event:
    run_id: str
    step: int = 0
    ts: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        kind = type(self)
        names = _FIELD_NAMES.get(kind)
        if names is None:  # dataclasses.fields() per call is a visible share of a step's cost in Pyodide
            names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(self))
        data: dict[str, Any] = {"type": kind.__name__}
        for name in names:
            data[name] = getattr(self, name)
        return data


@dataclass(kw_only=True)
class RunStarted(Event):
    task: str
    settings: dict[str, Any] = field(default_factory=dict)
    resumed: bool = False


@dataclass(kw_only=True)
class StepStarted(Event):
    pass


@dataclass(kw_only=True)
class ModelDelta(Event):
    text: str


@dataclass(kw_only=True)
class ReasoningDelta(Event):
    text: str


@dataclass(kw_only=True)
class CodeReady(Event):
    code: str
    thought: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class ExecutionStarted(Event):
    sandbox: str


@dataclass(kw_only=True)
class Observation(Event):
    observation: str
    stdout: str = ""
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    restored: bool = False


@dataclass(kw_only=True)
class ToolCall(Event):
    tool: str
    arguments: dict[str, Any] | None = None
    ok: bool = True
    error: str = ""


@dataclass(kw_only=True)
class Vetoed(Event):
    """A hook refused a step's code (`target` "code") or a tool call (`target` "tool", `tool` its name)."""

    target: str
    hook: str
    reason: str
    tool: str = ""


@dataclass(kw_only=True)
class FinalAnswer(Event):
    value: Any


@dataclass(kw_only=True)
class UsageUpdate(Event):
    step_usage: dict[str, Any]
    total: dict[str, Any]
    cached: bool = False


@dataclass(kw_only=True)
class StepFinished(Event):
    record: dict[str, Any]


@dataclass(kw_only=True)
class RunError(Event):
    error: dict[str, Any]


@dataclass(kw_only=True)
class RunFinished(Event):
    status: str
    stop_reason: str
    final_answer: Any = None
    summary: str = ""
    steps: int = 0
    usage: dict[str, Any] = field(default_factory=dict)


# --- workspace files (agent_py/workspace.py) -------------------------------------------------------------------


@dataclass(kw_only=True)
class FilesChanged(Event):
    """The sandbox's files after a step that changed them: [{path, size}] under /workspace."""

    files: list[dict[str, Any]]


@dataclass(kw_only=True)
class Checkpoint(Event):
    """The workspace after `step`: files [{path, size, sha256}], changes [{path, change: added|modified|deleted,
    size, binary, diff}]; stored_bytes / cap_bytes: distinct contents the run's checkpoints keep, and their cap;
    duration_ms: listing, reading, hashing and diffing after the cell."""

    files: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    stored_bytes: int = 0
    cap_bytes: int = 0
    duration_ms: float = 0.0


@dataclass(kw_only=True)
class CheckpointsDropped(Event):
    """Checkpoints of `steps` are gone (reason "cap": the oldest, to stay under cap_bytes; "too_large": this
    step's files alone are over the cap, so it got none); `message` says so in words."""

    steps: list[int]
    reason: str
    message: str
    cap_bytes: int = 0
