"""Hooks: code that watches a run's events and may veto a step's code or a tool call before it runs.

    agent = Agent(model, sandbox, hooks=[TokenTracker(), EventLogger(), DenyTools({"send_email"})])
    agent.register_hook(MyApprovalHook())

A hook implements any of (sync or async):
- `on_event(event)`: every event of the run. An error here is logged and the run goes on: watching never breaks it.
- `before_code(step, code) -> Veto | None`: before a step's code runs in the sandbox.
- `before_tool(name, arguments) -> Veto | None`: before a tool implementation runs (arguments already checked).

A veto becomes a typed observation for the model and a `Vetoed` event; the loop goes on. A hook that raises in
`before_code` / `before_tool` fails CLOSED: the code or the call is vetoed, the reason naming the hook, because a
broken approval hook must not wave side effects through.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent_py.log import get_logger

__all__ = ["Hook", "Veto", "TokenTracker", "EventLogger", "DenyTools", "hook_name", "first_veto", "notify"]

log = get_logger("hooks")


@dataclass(frozen=True, slots=True)
class Veto:
    """Why a hook refused: `reason` is shown to the model; `hook` names who refused (filled in by the loop)."""

    reason: str
    hook: str = ""


class Hook:
    """A base with do-nothing methods: subclass it and override what you need (or duck-type any of the three)."""

    def on_event(self, event: Any) -> Any:
        return None

    def before_code(self, step: int, code: str) -> Veto | None:
        return None

    def before_tool(self, name: str, arguments: dict[str, Any]) -> Veto | None:
        return None


def hook_name(hook: Any) -> str:
    return getattr(hook, "name", None) or type(hook).__name__


async def _call(method: Any, *args: Any) -> Any:
    result = method(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


async def first_veto(hooks: Sequence[Any], method: str, *args: Any) -> Veto | None:
    """Ask each hook's `method` in order; the first veto wins. A hook that raises (or answers something that is not
    a Veto or None) vetoes: fail closed."""
    for hook in hooks:
        check = getattr(hook, method, None)
        if check is None:
            continue
        name = hook_name(hook)
        try:
            answer = await _call(check, *args)
        except Exception as err:  # noqa: BLE001 - a broken approval hook must refuse, not allow
            log.warn("hook failed; vetoing", hook=name, method=method, error=type(err).__name__)
            return Veto(f"hook {name} failed ({type(err).__name__}: {err}), so the action was refused", name)
        if answer is None:
            continue
        if isinstance(answer, Veto):
            return Veto(answer.reason, answer.hook or name)
        return Veto(f"hook {name} answered {type(answer).__name__} instead of a Veto or None, so the action was "
                    "refused", name)
    return None


async def notify(hooks: Sequence[Any], event: Any) -> None:
    """Every hook's on_event; errors are logged, never raised: a watcher cannot crash the run."""
    for hook in hooks:
        on_event = getattr(hook, "on_event", None)
        if on_event is None:
            continue
        try:
            await _call(on_event, event)
        except Exception as err:  # noqa: BLE001 - the policy: observers never break the run
            log.warn("hook on_event failed", hook=hook_name(hook), event=type(event).__name__,
                     error=f"{type(err).__name__}: {err}"[:200])


# --- built-in hooks -------------------------------------------------------------------------------------------


_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


@dataclass
class TokenTracker(Hook):
    """Token usage per step and in total, from UsageUpdate events (a resumed step's usage replaces its old one)."""

    per_step: dict[int, dict[str, int]] = field(default_factory=dict)

    def on_event(self, event: Any) -> None:
        if type(event).__name__ != "UsageUpdate":
            return
        usage = event.step_usage or {}
        self.per_step[event.step] = {key: int(usage.get(key, 0) or 0) for key in _USAGE_KEYS}

    @property
    def total(self) -> dict[str, int]:
        return {key: sum(step[key] for step in self.per_step.values()) for key in _USAGE_KEYS}


# Fields that carry what the model wrote, what code printed or what tools got: sizes only in the log.
_BULKY = {"text", "code", "observation", "stdout", "arguments", "value", "record", "settings", "task", "summary",
          "thought", "notes", "final_answer"}


@dataclass
class EventLogger(Hook):
    """Logs every event through agent_py.log at `level`: names, steps and sizes, never contents (no keys, no file
    or tool data, no model text)."""

    level: str = "debug"
    logger: str = "events"

    def on_event(self, event: Any) -> None:
        target = get_logger(self.logger)
        if not target.enabled(self.level):
            return
        data = event.to_dict() if hasattr(event, "to_dict") else dict(event)
        fields: dict[str, Any] = {}
        for key, value in data.items():
            if key in ("type", "ts"):
                continue
            if key in _BULKY:
                fields[f"{key}_chars"] = len(value) if isinstance(value, str) else len(repr(value))
            elif isinstance(value, str | int | float | bool) or value is None:
                fields[key] = value
            elif key == "error" and isinstance(value, dict):
                fields["error"] = value.get("type")
        target.log(self.level, data.get("type", "event"), **fields)


class DenyTools(Hook):
    """Vetoes calls to the named tools (with a reason the model reads)."""

    def __init__(self, names: Iterable[str], reason: str = "this tool is not allowed in this run") -> None:
        self.names = frozenset(names)
        self.reason = reason

    def before_tool(self, name: str, arguments: dict[str, Any]) -> Veto | None:
        return Veto(f"{name}: {self.reason}") if name in self.names else None
