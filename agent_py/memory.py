"""A run's memory: steps as dataclasses that round-trip through dicts, and the chat history built from them.

The history stays within a token budget however long the run: the task and the last few steps go in verbatim,
older steps as a compact digest (their code's first lines and the first line of what they printed or raised).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from agent_py.errors import ConfigError

__all__ = ["ActionStep", "RunRecord", "build_messages", "estimate_tokens"]

STEP_STATUSES = {"running", "done", "interrupted", "failed"}
RUN_STATUSES = {"running", "finished", "stopped", "failed", "cancelled"}


def estimate_tokens(text: str) -> int:
    return len(text) // 4 + 1


@dataclass(slots=True)
class ActionStep:
    step: int
    model_output: str = ""
    reasoning: str = ""
    code: str = ""
    observation: str = ""
    error: dict[str, Any] | None = None
    stdout: str = ""
    usage: dict[str, Any] = field(default_factory=dict)
    model_ms: float = 0.0
    exec_ms: float = 0.0
    started_at: float = field(default_factory=time.time)
    status: str = "running"
    is_final: bool = False
    final_value: Any = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActionStep:
        if not isinstance(data, dict) or not isinstance(data.get("step"), int):
            raise ConfigError("a step must be an object with an integer 'step'")
        known = {f.name for f in fields(cls)}
        step = cls(**{k: v for k, v in data.items() if k in known})
        if not isinstance(step.status, str) or step.status not in STEP_STATUSES:
            raise ConfigError(f"step {step.step} has an unknown status {step.status!r}")
        return step


@dataclass(slots=True)
class RunRecord:
    run_id: str
    task: str
    settings: dict[str, Any] = field(default_factory=dict)
    steps: list[ActionStep] = field(default_factory=list)
    status: str = "running"
    stop_reason: str = ""
    final_answer: Any = None
    summary: str = ""
    usage_total: dict[str, Any] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["steps"] = [s.to_dict() for s in self.steps]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        if not isinstance(data, dict):
            raise ConfigError("a run must be a JSON object")
        for name in ("run_id", "task"):
            if not isinstance(data.get(name), str):
                raise ConfigError(f"a run needs a string {name!r}")
        steps = data.get("steps") or []
        if not isinstance(steps, list):
            raise ConfigError("'steps' must be a list")
        known = {f.name for f in fields(cls)} - {"steps"}
        record = cls(**{k: v for k, v in data.items() if k in known})
        record.steps = [ActionStep.from_dict(s) for s in steps]
        if not isinstance(record.status, str) or record.status not in RUN_STATUSES:
            raise ConfigError(f"unknown run status {record.status!r}")
        if not isinstance(record.settings, dict) or not isinstance(record.usage_total, dict):
            raise ConfigError("'settings' and 'usage_total' must be objects")
        return record


def _digest(step: ActionStep) -> str:
    code = "\n".join(step.code.strip().splitlines()[:3])
    if step.error:
        outcome = f"{step.error.get('type')}: {str(step.error.get('message', ''))[:120]}"
    else:
        first = next((line for line in step.stdout.splitlines() if line.strip()), "(no output)")
        outcome = first[:160]
    return f"Step {step.step}: ran\n{code}\n-> {outcome}"


def _reply(step: ActionStep) -> str:
    return step.model_output or "(no reply: the step was interrupted before the model answered)"


def build_messages(system: str, record: RunRecord, *, budget_tokens: int = 24_000, keep_last: int = 4,
                   cache: dict[int, tuple[list[dict[str, str]], int]] | None = None) -> list[dict[str, str]]:
    """System, task, then each finished step as assistant + observation; old steps digested past the budget.

    `cache` (step number -> its two messages and their token estimate) lets the loop build each finished step's
    messages once, so a step's cost does not grow with the length of the run.
    """
    messages = [{"role": "system", "content": system}, {"role": "user", "content": f"Task: {record.task}"}]
    steps = [s for s in record.steps if s.status != "running"]
    verbatim: list[dict[str, str]] = []
    used = sum(estimate_tokens(m["content"]) for m in messages)
    for step in steps:
        entry = cache.get(step.step) if cache is not None else None
        if entry is None:
            # A step cut before the model's reply arrived still goes in (so the model knows), never as an empty turn.
            pair = [{"role": "assistant", "content": _reply(step)}, {"role": "user", "content": step.observation}]
            entry = (pair, estimate_tokens(step.model_output) + estimate_tokens(step.observation))
            if cache is not None:
                cache[step.step] = entry
        verbatim += entry[0]
        used += entry[1]
    if used <= budget_tokens or len(steps) <= keep_last:
        return messages + verbatim
    old, recent = steps[:-keep_last], steps[-keep_last:]
    digest = "Earlier steps, summarised (their variables still exist in the sandbox):\n" + "\n\n".join(
        _digest(s) for s in old)
    # The digest itself is bounded: the oldest lines go first if even the digest is too long.
    room = max(1000, (budget_tokens - sum(estimate_tokens(m["content"]) for m in messages)) * 4 // 2)
    if len(digest) > room:
        digest = "[... older steps omitted ...]\n" + digest[-room:]
    messages.append({"role": "user", "content": digest})
    for step in recent:
        messages.append({"role": "assistant", "content": _reply(step)})
        messages.append({"role": "user", "content": step.observation})
    return messages
