"""The session side of teams: builds the sandboxes, models and agents for a team run from settings or a demo.

Kept apart from session.py so that file only dispatches here (one line) and team.py stays free of browser
details (its sandboxes and agents are made by the callables given here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent_py.errors import ConfigError
from agent_py.sandbox_tools import SandboxTool
from agent_py.settings import RunSettings

__all__ = ["run_team_demo"]


async def run_team_demo(run_id: str, task: str, settings: RunSettings, *, limits: Any, tools: list[SandboxTool],
                        emit: Callable[[dict[str, Any]], None], on_step: Callable[[int], None]) -> Any:
    from agent_py.loop import Agent
    from agent_py.replay import ReplayModel
    from agent_py.sandbox import BrowserSandbox
    from agent_py.session import demo_trace, run_hooks
    from agent_py.team import run_planner, run_two_sandboxes

    trace = demo_trace(str(settings.demo))

    async def make_sandbox(name: str, box_tools: list[SandboxTool]) -> Any:
        return await BrowserSandbox.create(name, tools=box_tools, **settings.sandbox.create_options())

    def make_agent(model: Any, sandbox: Any, *, system_extra: str = "") -> Any:
        return Agent(model, sandbox, limits=limits, system_extra=system_extra,
                     output_limit=settings.sandbox.output_limit, hooks=run_hooks(settings))

    if settings.demo == "two_sandboxes":
        model = ReplayModel.from_trace(trace, delay_s=0.02)
        return await run_two_sandboxes(run_id, task, model=model, make_agent=make_agent, make_sandbox=make_sandbox,
                                       extra_tools=tools, emit=emit, on_step=on_step)
    agents = trace.get("agents") or {}
    if not isinstance(agents.get("planner"), list) or not isinstance(agents.get("implementer"), list):
        raise ConfigError("the planner demo needs agents.planner and agents.implementer replies", field="demo")
    sandbox = await make_sandbox(f"run-{run_id}-shared", tools)
    try:
        return await run_planner(
            run_id, task, planner_model=ReplayModel(agents["planner"], delay_s=0.02, name="recorded-planner"),
            implementer_model=ReplayModel(agents["implementer"], delay_s=0.02, name="recorded-implementer"),
            make_agent=make_agent, sandbox=sandbox, emit=emit, on_step=on_step)
    finally:
        await sandbox.close()
