"""agent_py.managed on the host: a sub-agent called as a tool from the manager's code (a cell blocked on the call, as
in a cross-origin isolated page), its answer, its step budget, its labelled events and its cancellation (the browser
side is tests/browser/test_managed_agents.py)."""

from __future__ import annotations

import asyncio

import pytest

from agent_py.errors import ManagedAgentStopped
from agent_py.guardrails import Limits
from agent_py.loop import Agent
from agent_py.managed import ManagedAgent, run_managed
from tests.unit.fakes import FakeSandbox, ScriptedModel, code

pytestmark = pytest.mark.anyio


def _helper(model: ScriptedModel, *, max_steps: int = 3, boxes: list[FakeSandbox] | None = None) -> ManagedAgent:
    async def make(limits: Limits) -> Agent:
        box = FakeSandbox()
        if boxes is not None:
            boxes.append(box)
        return Agent(model, box, limits=limits)

    return ManagedAgent("helper", "Does sub-tasks.", make, max_steps=max_steps)


async def _run(manager_model: ScriptedModel, helper: ManagedAgent, events: list[dict]):  # noqa: ANN202
    manager = Agent(manager_model, FakeSandbox(tools=[helper.as_tool()]))
    return await run_managed("r1", "task", manager=manager, helpers=[helper], emit=events.append)


async def test_the_helpers_answer_comes_back_to_the_managers_code_and_every_step_names_its_agent() -> None:
    boxes: list[FakeSandbox] = []
    helper = _helper(ScriptedModel([code("x = 6 * 7\nprint(x)"), code("final_answer(f'the product is {x}')")]),
                     boxes=boxes)
    manager_model = ScriptedModel([code("r = helper(task='multiply 6 by 7')\nprint(r)"), code("final_answer(r)")])
    events: list[dict] = []
    record = await _run(manager_model, helper, events)

    assert record.status == "finished" and record.final_answer == "the product is 42"
    assert "the product is 42" in record.steps[0].stdout
    assert boxes[0].closed  # the helper's own sandbox, closed after its run
    started = [(e["step"], e["agent"]) for e in events if e["type"] == "StepStarted"]
    assert started == [(1, "manager"), (2, "helper"), (3, "helper"), (4, "manager")]
    assert all(e["run_id"] == "r1" and e["agent"] in ("manager", "helper") for e in events)
    assert [e["type"] for e in events].count("RunStarted") == 1
    assert [e["value"] for e in events if e["type"] == "FinalAnswer"] == ["the product is 42"]
    [finished] = [e for e in events if e["type"] == "RunFinished"]
    assert finished["steps"] == 4 and events[-1] is finished
    # Tokens: 4 model calls of 20 tokens each, the helper's two included in the run's totals.
    assert finished["usage"]["total_tokens"] == 80 and record.usage_total["total_tokens"] == 80
    assert [e["total"]["total_tokens"] for e in events if e["type"] == "UsageUpdate"] == [20, 40, 60, 80]
    helper_records = [e["record"] for e in events if e["type"] == "StepFinished" and e["agent"] == "helper"]
    assert [(r["step"], r["agent"]) for r in helper_records] == [(2, "helper"), (3, "helper")]


async def test_a_helper_out_of_steps_is_a_typed_error_in_the_managers_observation() -> None:
    helper = _helper(ScriptedModel([code("print(1)"), code("print(2)"), "I could not finish."]), max_steps=2)
    manager_model = ScriptedModel([
        code("try:\n    helper(task='t')\nexcept Exception as e:\n    print(type(e).__name__, e)"),
        code("final_answer('gave up')"),
    ])
    events: list[dict] = []
    record = await _run(manager_model, helper, events)

    first = record.steps[0]
    assert "ManagedAgentStopped helper stopped without an answer (max_steps, after 2 steps)" in first.stdout
    assert "I could not finish." in first.stdout  # the helper's summary travels with the error
    assert first.tool_calls[0]["ok"] is False and "ManagedAgentStopped" in first.tool_calls[0]["error"]
    assert [e["agent"] for e in events if e["type"] == "StepStarted"] == ["manager", "helper", "helper", "manager"]
    # The helper's own ending stays inside: the page sees one run, finished by the manager.
    assert [e["agent"] for e in events if e["type"] == "RunFinished"] == ["manager"]
    assert record.final_answer == "gave up"


async def test_the_uncaught_error_names_the_stop_reason() -> None:
    helper = _helper(ScriptedModel([code("print(1)")]), max_steps=1)
    record = await _run(ScriptedModel([code("helper(task='t')"), code("final_answer(0)")]), helper, [])
    assert record.steps[0].error["type"] == "ManagedAgentStopped"
    assert "(max_steps, after 1 steps)" in record.steps[0].error["message"]


async def test_the_tool_raises_managed_agent_stopped_with_its_fields() -> None:
    helper = _helper(ScriptedModel([code("print(1)")]), max_steps=1)
    with pytest.raises(ManagedAgentStopped) as caught:
        await helper.as_tool().call({"task": "t"})
    assert caught.value.stop_reason == "max_steps" and caught.value.tool == "helper"
    assert helper.as_tool().signature() == "helper(task: str) -> str"


async def test_stop_cancels_the_helpers_run_too_and_closes_its_sandbox() -> None:
    boxes: list[FakeSandbox] = []
    helper_model = ScriptedModel([code("print('working')")] * 50, delay_s=0.05)
    helper = _helper(helper_model, max_steps=50, boxes=boxes)
    events: list[dict] = []
    run = asyncio.ensure_future(_run(ScriptedModel([code("helper(task='long')")]), helper, events))
    while not any(e["type"] == "StepFinished" and e["agent"] == "helper" for e in events):
        await asyncio.sleep(0.01)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    calls = len(helper_model.requests)
    await asyncio.sleep(0.2)
    assert len(helper_model.requests) == calls  # the helper asks its model nothing more
    assert boxes[0].closed and not helper._running
    [finished] = [e for e in events if e["type"] == "RunFinished"]
    assert finished["status"] == "cancelled" and finished["agent"] == "manager"
