"""The loop's own cost per step, measured the same way in CPython and in Pyodide (this file's text is run in the
page's agent worker by bench/bench_loop.py, so it imports nothing but agent_py and the standard library).

A 50-step run against an instant scripted model (its reply streamed in 20-character deltas, as the test double
does) and an instant sandbox (a trivial cell's result), with the hooks a page run has (EventLogger) and every event
turned into the dict the worker posts. Per step: time between StepStarted and StepFinished minus the time spent
inside the model and the sandbox.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

from agent_py.guardrails import Limits
from agent_py.hooks import EventLogger
from agent_py.loop import Agent
from agent_py.models.types import ModelResponse, TextDelta, Usage

STEPS = 50


class InstantModel:
    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.spent = 0.0

    async def complete(self, messages: Any, options: Any = None, on_event: Any = None) -> ModelResponse:
        started = time.perf_counter()
        reply = self.replies.pop(0) if self.replies else "Nothing more."
        spent_outside = 0.0
        if on_event:
            for i in range(0, len(reply), 20):
                # The loop's handling of each delta is its overhead, not the model's time.
                mark = time.perf_counter()
                result = on_event(TextDelta(reply[i:i + 20]))
                if asyncio.iscoroutine(result):
                    await result
                spent_outside += time.perf_counter() - mark
        self.spent += time.perf_counter() - started - spent_outside
        return ModelResponse(text=reply, usage=Usage(10, 10, 20))


class InstantSandbox:
    name = "instant"

    def __init__(self) -> None:
        self.spent = 0.0

    async def run(self, code: str) -> dict[str, Any]:
        started = time.perf_counter()
        result = {"stdout": f"{len(code)}\n", "stderr": "", "error": None, "final": False, "final_value": None,
                  "duration_ms": 0.0, "tool_calls": []}
        self.spent += time.perf_counter() - started
        return result

    async def tools_listing(self) -> str:
        return "def lookup(q: str) -> str"


def _cell(i: int) -> str:
    return f"Let me compute.\n```python\nv{i} = {i}\nprint(v{i})\n```"


async def one_run(steps: int = STEPS) -> tuple[float, list[float]]:
    model, sandbox = InstantModel([_cell(i) for i in range(steps)]), InstantSandbox()
    per_step: list[float] = []
    marks = {"start": 0.0, "inner": 0.0}

    def on_event(event: Any) -> None:
        json.dumps(event.to_dict(), default=str)  # what the worker does before posting it to the page
        kind = type(event).__name__
        now = time.perf_counter()
        inner = model.spent + sandbox.spent
        if kind == "StepStarted":
            marks["start"], marks["inner"] = now, inner
        elif kind == "StepFinished":
            per_step.append((now - marks["start"] - (inner - marks["inner"])) * 1000)

    agent = Agent(model, sandbox, limits=Limits(max_steps=steps, stagnation_repeats=0), hooks=[EventLogger()])
    started = time.perf_counter()
    await agent.run("bench", on_event=on_event)
    total = time.perf_counter() - started
    return (total - model.spent - sandbox.spent) * 1000 / steps, per_step


async def measure(runs: int = 5) -> dict[str, float]:
    """{"overhead_ms": median per-step overhead, "growth": median of (steps 40-50 / steps 1-10)}."""
    results = [await one_run() for _ in range(runs)]
    # Medians per window: one garbage-collector pause must not read as growth.
    growth = [statistics.median(steps[39:50]) / statistics.median(steps[0:10]) for _, steps in results]
    return {"overhead_ms": statistics.median(o for o, _ in results), "growth": statistics.median(growth)}
