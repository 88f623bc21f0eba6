"""The loop's own cost per step, without the model's or the sandbox's time (CPython, in-process).

    agent_step_overhead_ms   a 50-step run against an instant scripted model and an instant fake sandbox:
                             (total - model time - sandbox time) / steps, median of 5 runs
    step_overhead_growth     median overhead of steps 40-50 over steps 1-10 (history handling must not grow)
"""

from __future__ import annotations

import asyncio
import statistics
import time

from agent_py.guardrails import Limits
from agent_py.loop import Agent
from tests.unit.fakes import FakeSandbox, ScriptedModel, code

STEPS = 50


class _Timed:
    """Wraps a model or sandbox call and adds up the time spent inside it."""

    def __init__(self) -> None:
        self.spent = 0.0


async def _one_run() -> tuple[float, list[float]]:
    model = ScriptedModel([code(f"v{i} = {i}\nprint(v{i})") for i in range(STEPS)])
    sandbox = FakeSandbox()
    inner = _Timed()
    per_step: list[float] = []
    marks = {"start": 0.0, "inner": 0.0}

    original_complete, original_run = model.complete, sandbox.run

    async def complete(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        started = time.perf_counter()
        try:
            return await original_complete(*args, **kwargs)
        finally:
            inner.spent += time.perf_counter() - started

    async def run(code_text: str):  # noqa: ANN202
        started = time.perf_counter()
        try:
            return await original_run(code_text)
        finally:
            inner.spent += time.perf_counter() - started

    model.complete, sandbox.run = complete, run

    def on_event(event) -> None:  # noqa: ANN001
        kind = type(event).__name__
        now = time.perf_counter()
        if kind == "StepStarted":
            marks["start"], marks["inner"] = now, inner.spent
        elif kind == "StepFinished":
            per_step.append((now - marks["start"] - (inner.spent - marks["inner"])) * 1000)

    agent = Agent(model, sandbox, limits=Limits(max_steps=STEPS, stagnation_repeats=0))
    started = time.perf_counter()
    await agent.run("bench", on_event=on_event)
    total = time.perf_counter() - started
    return (total - inner.spent) * 1000 / STEPS, per_step


def run_cpython() -> dict[str, float]:
    runs = [asyncio.run(_one_run()) for _ in range(5)]
    overheads = [overhead for overhead, _ in runs]
    # Medians per window: one garbage-collector pause must not read as growth.
    growth = [statistics.median(steps[39:50]) / statistics.median(steps[0:10]) for _, steps in runs]
    return {"agent_step_overhead_ms": statistics.median(overheads), "step_overhead_growth": statistics.median(growth)}


if __name__ == "__main__":
    print(run_cpython())
