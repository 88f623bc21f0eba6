"""Teams: several sandboxes per run, and several agents per run, with every event saying which agent did it.

Two shapes, both used by the recorded demos and by settings:
- two_sandboxes: a "retrieval" sandbox holds the data tools (the built-in `dataset` and the run's network tools:
  fetch_url, web_search, MCP and gateway tools) and a "processing" sandbox holds the user's files and the display
  tools but no data/network tool. The agent's code runs in processing; it reaches retrieval only through the
  `retrieve(code)` tool, which runs a cell there and returns the value that cell gave to `final_answer(...)` as
  JSON. Nothing else crosses: no shared memory, no shared names, so `dataset(...)` called in processing is a
  NameError.
- planner: a planner agent and an implementer agent (each with its own model) share one sandbox. The planner
  writes the plan (its final answer), the implementer executes it, the planner judges the result and gives the
  run's answer. Phases run one after another, so the shared sandbox never runs two cells at once.

Each phase is a plain loop.Agent run; `TeamForwarder` merges the phases into one run for the page: steps are
numbered across the run, only the first RunStarted and the last RunFinished/FinalAnswer pass, and every event
carries `agent`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from agent_py.errors import ToolError
from agent_py.sandbox_tools import SandboxTool

__all__ = ["DATASETS", "dataset_tool", "retrieve_tool", "TeamForwarder", "run_two_sandboxes", "run_planner"]

Emit = Callable[[dict[str, Any]], None]

# A small built-in dataset so the retrieval demo works offline (monthly mean temperature, degrees C, 2023).
DATASETS: dict[str, list[dict[str, Any]]] = {
    "city_temperatures": [
        {"city": city, "month": month + 1, "temp_c": temp}
        for city, temps in {
            "Oslo": [-3.1, -2.9, 0.4, 5.6, 11.2, 15.4, 16.9, 15.6, 11.2, 5.9, 1.1, -2.0],
            "Madrid": [6.3, 7.9, 11.2, 13.1, 17.2, 22.8, 25.9, 25.3, 20.9, 15.1, 9.9, 6.9],
            "Nairobi": [19.6, 20.5, 20.9, 20.0, 18.9, 17.6, 16.8, 17.4, 18.8, 19.8, 19.1, 19.3],
        }.items()
        for month, temp in enumerate(temps)
    ],
}


def dataset_tool() -> SandboxTool:
    async def dataset(args: dict[str, Any]) -> Any:
        name = args["name"]
        if name not in DATASETS:
            raise ToolError(f"no dataset {name!r}; available: {', '.join(DATASETS)}", tool="dataset")
        return DATASETS[name]

    return SandboxTool("dataset", "Rows (records) of a built-in dataset: " + ", ".join(DATASETS) + ".", dataset, {
        "type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})


def retrieve_tool(retrieval: Any) -> SandboxTool:
    """Runs `code` in the retrieval sandbox; its final_answer(value) comes back as JSON (typed data only)."""

    async def retrieve(args: dict[str, Any]) -> Any:
        result = await retrieval.run(args["code"])
        if result.get("error"):
            raise ToolError(f"in the retrieval sandbox: {result['error']}", tool="retrieve")
        if not result.get("final"):
            raise ToolError("the retrieval code must end with final_answer(value)", tool="retrieve")
        value = result.get("final_value")
        json.dumps(value)  # only JSON values cross between sandboxes
        return value

    tools = ", ".join(tool.name for tool in getattr(retrieval, "_tools", []))
    return SandboxTool(
        "retrieve",
        f"Run Python code in the separate retrieval sandbox (its tools: {tools}; it cannot see this sandbox) and "
        "return the JSON value that code passes to final_answer(...).", retrieve,
        {"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]})


class TeamForwarder:
    """Merges several agent runs into one run for the page, tagging each event with its agent."""

    def __init__(self, emit: Emit, run_id: str, on_step: Callable[[int], None] | None = None) -> None:
        self.emit = emit
        self.run_id = run_id
        self.on_step = on_step
        self.offset = 0
        self.last_step = 0
        self.started = False

    def phase(self, agent: str, *, last: bool) -> Callable[[Any], None]:
        self.offset = self.last_step

        def forward(event: Any) -> None:
            data = event.to_dict() if hasattr(event, "to_dict") else dict(event)
            kind = data.get("type")
            if kind == "RunStarted":
                if self.started:
                    return
                self.started = True
            if kind in ("RunFinished", "FinalAnswer") and not last and data.get("status", "finished") == "finished":
                return
            data["run_id"] = self.run_id
            data["agent"] = agent
            if isinstance(data.get("step"), int) and data["step"] > 0:
                data["step"] += self.offset
                self.last_step = max(self.last_step, data["step"])
                if self.on_step:
                    self.on_step(data["step"])
            if kind == "RunFinished":
                data["steps"] = self.last_step  # the whole team run, not this phase
            if kind == "StepFinished" and isinstance(data.get("record"), dict):
                data["record"] = {**data["record"], "step": data["step"], "agent": agent}
            self.emit(data)

        return forward


def _merge(records: list[tuple[str, Any]], final: Any) -> Any:
    """The last phase's record carrying every phase's steps, renumbered and labelled by agent."""
    steps = []
    for _agent, record in records:
        for step in record.steps:
            step.step = len(steps) + 1
            steps.append(step)
    final.steps = steps
    return final


async def run_two_sandboxes(run_id: str, task: str, *, model: Any, make_agent: Callable[..., Any],
                            make_sandbox: Callable[..., Any], extra_tools: list[SandboxTool], emit: Emit,
                            on_step: Callable[[int], None] | None = None,
                            network_tools: Sequence[SandboxTool] = ()) -> Any:
    """`network_tools` (the run's web, MCP and gateway tools) go to the retrieval sandbox only."""
    held = [dataset_tool(), *network_tools]
    retrieval = await make_sandbox(f"run-{run_id}-retrieval", held)
    processing = await make_sandbox(f"run-{run_id}-processing", [retrieve_tool(retrieval), *extra_tools])
    try:
        agent = make_agent(model, processing, system_extra=(
            "Your code runs in the processing sandbox, which has no data or network tools. Fetch data with "
            f"retrieve(code): the code runs in the retrieval sandbox (tools: {_signatures(held)}) and must end "
            "with final_answer(value); you get that value back."))
        forward = TeamForwarder(emit, run_id, on_step).phase("processing", last=True)
        return await agent.run(task, run_id=run_id, on_event=forward)
    finally:
        await processing.close()
        await retrieval.close()


def _signatures(tools: Sequence[SandboxTool]) -> str:
    return ", ".join(f"{tool.name}({', '.join(tool.properties)})" for tool in tools)


async def run_planner(run_id: str, task: str, *, planner_model: Any, implementer_model: Any,
                      make_agent: Callable[..., Any], sandbox: Any, emit: Emit,
                      on_step: Callable[[int], None] | None = None) -> Any:
    forwarder = TeamForwarder(emit, run_id, on_step)
    planner = make_agent(planner_model, sandbox, system_extra=(
        "You are the planner. Write a short numbered plan for the implementer and give it with final_answer(plan)."))
    plan = await planner.run(task, run_id=run_id, on_event=forwarder.phase("planner", last=False))
    records = [("planner", plan)]
    if plan.status == "finished":
        implementer = make_agent(implementer_model, sandbox, system_extra=(
            "You are the implementer. Execute the planner's plan step by step in the shared sandbox; "
            "give your result with final_answer(result)."))
        done = await implementer.run(f"Task: {task}\n\nPlan from the planner:\n{plan.final_answer}", run_id=run_id,
                                     on_event=forwarder.phase("implementer", last=False))
        records.append(("implementer", done))
        if done.status == "finished":
            judge = make_agent(planner_model, sandbox, system_extra=(
                "You are the planner judging the implementer's work in the shared sandbox (its variables are "
                "still defined). Check it, then give the user's answer with final_answer(answer)."))
            verdict = await judge.run(
                f"Task: {task}\n\nYour plan:\n{plan.final_answer}\n\nImplementer's result:\n{done.final_answer}",
                run_id=run_id, on_event=forwarder.phase("planner", last=True))
            records.append(("planner", verdict))
            return _merge(records, verdict)
        return _merge(records, done)
    return plan
