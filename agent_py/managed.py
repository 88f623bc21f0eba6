"""Managed agents: a sub-agent given to another agent as a callable tool, `name(task: str) -> str`.

    helper = ManagedAgent("helper", "Solves a sub-task with its own sandbox.", make_helper, max_steps=5)
    manager = Agent(model, SandboxWith([helper.as_tool(), ...]))
    record = await run_managed(run_id, task, manager=manager, helpers=[helper], emit=emit)

A call from the manager's code runs a whole sub-Agent run and returns its final answer as text. The sub-agent gets
its own sandbox from `agent_factory` for each call (the manager's cell is blocked on the call, so sharing that
sandbox would deadlock) and its own step budget (Limits.max_steps = max_steps). A sub-run that ends without an
answer raises ManagedAgentStopped in the manager's code, with the stop reason and the sub-run's summary.

Events: `ManagedForwarder` merges the manager's and every sub-run's events into one run for the page. Steps are
numbered in the order they start across all agents (a helper's steps get the numbers after the manager step that
called it), every event carries `agent`, usage totals are the whole run's, and a sub-run's RunStarted,
FinalAnswer, RunError and RunFinished stay inside (the manager sees its answer or its error as the tool's result).

Cancellation: a tool call is served in a task of its own (the sandbox calls back into this worker), so cancelling
the manager's task does not reach it; run_managed cancels every running sub-run when the manager ends, however
it ends, and each sub-run closes its sandbox.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from agent_py.errors import ManagedAgentStopped
from agent_py.guardrails import Limits
from agent_py.sandbox_tools import SandboxTool

__all__ = ["ManagedAgent", "ManagedForwarder", "managed_agent_tool", "run_managed"]

Emit = Callable[[dict[str, Any]], None]
EventSink = Callable[[Any], None]
# (limits) -> a new Agent with a sandbox of its own; the ManagedAgent closes that sandbox after the run.
AgentFactory = Callable[[Limits], Awaitable[Any]]
_INNER_ONLY = ("RunStarted", "FinalAnswer", "RunError", "RunFinished")


class ManagedForwarder:
    """One run for the page out of a manager's and its helpers' runs: global step numbers, `agent` on every event,
    run-wide usage totals."""

    def __init__(self, emit: Emit, run_id: str, on_step: Callable[[int], None] | None = None) -> None:
        self.emit = emit
        self.run_id = run_id
        self.on_step = on_step
        self.steps = 0
        self.usage: dict[str, int] = {}

    def sink(self, agent: str, *, top: bool = False) -> EventSink:
        """The on_event of one agent run (a fresh one per sub-run: each numbers its steps from 1)."""
        numbers: dict[int, int] = {}

        def forward(event: Any) -> None:
            data = event.to_dict() if hasattr(event, "to_dict") else dict(event)
            kind = data.get("type")
            if not top and kind in _INNER_ONLY:
                return
            local = data.get("step")
            if isinstance(local, int) and local > 0:
                if kind == "StepStarted" and local not in numbers:
                    self.steps += 1
                    numbers[local] = self.steps
                data["step"] = numbers.get(local, self.steps)
                if self.on_step and kind == "StepStarted":
                    self.on_step(data["step"])
            data["run_id"] = self.run_id
            data["agent"] = agent
            if kind == "UsageUpdate":
                for key, value in (data.get("step_usage") or {}).items():
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        self.usage[key] = int(self.usage.get(key, 0)) + int(value)
                data["total"] = dict(self.usage)
            if kind == "StepFinished" and isinstance(data.get("record"), dict):
                data["record"] = {**data["record"], "step": data["step"], "agent": agent}
            if kind == "RunFinished":
                data["steps"] = self.steps
                data["usage"] = dict(self.usage)
            self.emit(data)

        return forward


@dataclasses.dataclass
class ManagedAgent:
    """A sub-agent as a tool. `forwarder` (set by run_managed) gets its events; `usage_total` sums its runs."""

    name: str
    description: str
    agent_factory: AgentFactory
    max_steps: int = 5
    limits: Limits | None = None  # the rest of the sub-run's limits (wall clock, tokens); max_steps wins
    forwarder: ManagedForwarder | None = None
    usage_total: dict[str, int] = dataclasses.field(default_factory=dict)
    _running: set[asyncio.Task[Any]] = dataclasses.field(default_factory=set)

    def as_tool(self) -> SandboxTool:
        async def call(args: dict[str, Any]) -> str:
            task = asyncio.ensure_future(self.run(args["task"]))
            self._running.add(task)
            try:
                return await task
            finally:
                self._running.discard(task)

        return SandboxTool(
            self.name,
            f"{self.description.strip()} Give it the whole task in words (it cannot see your variables); it works "
            f"in a sandbox of its own, for at most {self.max_steps} steps, and returns its answer as text.", call,
            {"type": "object", "properties": {"task": {"type": "string", "description": "what it should do"}},
             "required": ["task"]},
            returns={"type": "string"})

    async def run(self, task: str) -> str:
        limits = dataclasses.replace(self.limits or Limits(), max_steps=self.max_steps)
        agent = await self.agent_factory(limits)
        sink = self.forwarder.sink(self.name) if self.forwarder else None
        try:
            record = await agent.run(task, on_event=sink)
        finally:
            close = getattr(agent.sandbox, "close", None)
            if close is not None:
                await close()
        for key, value in record.usage_total.items():
            self.usage_total[key] = int(self.usage_total.get(key, 0)) + int(value or 0)
        if record.status != "finished":
            summary = (record.summary or "").strip()
            raise ManagedAgentStopped(
                f"{self.name} stopped without an answer ({record.stop_reason}, after {len(record.steps)} steps)"
                + (f": {summary[:1000]}" if summary else ""),
                tool=self.name, stop_reason=record.stop_reason)
        answer = record.final_answer
        return answer if isinstance(answer, str) else str(answer)

    async def cancel(self) -> None:
        """Cancel the sub-runs still going (the manager was stopped while its cell waited on one)."""
        running = list(self._running)
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)


def managed_agent_tool(name: str, description: str, agent_factory: AgentFactory, max_steps: int = 5) -> SandboxTool:
    """The tool alone, for a caller that neither forwards the sub-run's events nor needs to cancel it."""
    return ManagedAgent(name, description, agent_factory, max_steps).as_tool()


async def run_managed(run_id: str, task: str, *, manager: Any, helpers: list[ManagedAgent], emit: Emit,
                      on_step: Callable[[int], None] | None = None, manager_name: str = "manager") -> Any:
    """The manager's run with its helpers' events merged in; the returned record's usage is the whole run's."""
    forwarder = ManagedForwarder(emit, run_id, on_step)
    for helper in helpers:
        helper.forwarder = forwarder
    try:
        record = await manager.run(task, run_id=run_id, on_event=forwarder.sink(manager_name, top=True))
    finally:
        for helper in helpers:
            await helper.cancel()
    for helper in helpers:
        for key, value in helper.usage_total.items():
            record.usage_total[key] = int(record.usage_total.get(key, 0)) + value
    return record
