"""agent_py.team on the host: planner + implementer phases on one shared sandbox, merged into one agent-labelled run,
and the retrieve() tool passing only JSON values (the browser side is tests/browser/test_teams.py)."""

from __future__ import annotations

import pytest

from agent_py.errors import ToolError
from agent_py.loop import Agent
from agent_py.team import retrieve_tool, run_planner
from tests.unit.fakes import FakeSandbox, ScriptedModel, code

pytestmark = pytest.mark.anyio


async def test_planner_implementer_judge_share_one_sandbox_and_every_event_names_its_agent() -> None:
    sandbox = FakeSandbox()
    planner = ScriptedModel([code("final_answer('1. x = 6 * 7')"), code("final_answer('checked: ' + str(x))")])
    implementer = ScriptedModel([code("x = 6 * 7\nprint(x)"), code("final_answer(x)")])
    events: list[dict] = []
    record = await run_planner("r1", "compute 6*7", planner_model=planner, implementer_model=implementer,
                               make_agent=lambda m, s, system_extra="": Agent(m, s, system_extra=system_extra),
                               sandbox=sandbox, emit=events.append)
    assert record.final_answer == "checked: 42"  # the judge read the implementer's variable
    assert [s.step for s in record.steps] == [1, 2, 3, 4]
    steps = [(e["step"], e["agent"]) for e in events if e["type"] == "StepStarted"]
    assert steps == [(1, "planner"), (2, "implementer"), (3, "implementer"), (4, "planner")]
    assert [e["type"] for e in events].count("RunStarted") == 1
    [finished] = [e for e in events if e["type"] == "RunFinished"]
    assert finished["status"] == "finished" and finished["steps"] == 4 and events[-1] is finished
    assert [e["value"] for e in events if e["type"] == "FinalAnswer"] == ["checked: 42"]


async def test_a_failed_phase_ends_the_team_run() -> None:
    events: list[dict] = []
    from agent_py.guardrails import Limits

    record = await run_planner("r2", "t", planner_model=ScriptedModel([code("print(1)")]),
                               implementer_model=ScriptedModel([]), sandbox=FakeSandbox(), emit=events.append,
                               make_agent=lambda m, s, system_extra="": Agent(m, s, limits=Limits(max_steps=1)))
    assert record.status != "finished"
    assert [e for e in events if e["type"] == "RunFinished"][-1]["status"] == record.status
    assert {e["agent"] for e in events} == {"planner"}


async def test_retrieve_returns_the_other_sandboxs_final_value_or_a_typed_error() -> None:
    retrieval = FakeSandbox()
    tool = retrieve_tool(retrieval)
    assert await tool.call({"code": "final_answer([{'a': 1}])"}) == [{"a": 1}]
    with pytest.raises(ToolError, match="final_answer"):
        await tool.call({"code": "y = 1"})
    with pytest.raises(ToolError, match="NameError"):
        await tool.call({"code": "final_answer(secret)"})
