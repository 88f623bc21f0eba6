"""The session side of teams: builds the sandboxes, models and agents for a team run from settings or a demo.

Kept apart from session.py so that file only dispatches here (one line) and team.py stays free of browser
details (its sandboxes and agents are made by the callables given here). The shape comes from a recorded demo's
name (`demo`) or from Settings (`mode`); the models are the demo's recorded replies or the user's endpoints: in
planner mode the planner has its own model config (`settings.planner`) and the implementer uses the main one, so
the two can be different providers. In managed mode (agent_py.managed) the manager and its helper use the main
model; the helper is the manager's tool `helper(task)`, with a sandbox of its own for each call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent_py.errors import ConfigError
from agent_py.sandbox_tools import SandboxTool
from agent_py.settings import RunSettings

__all__ = ["run_team", "team_models"]

MANAGER_EXTRA = ("You are the manager. You can hand a self-contained sub-task to your helper agent: "
                 "`helper(task=\"...\")` runs it in a sandbox of its own and returns its answer as text (it cannot "
                 "see your variables, so put everything it needs in the task). It raises ManagedAgentStopped when it "
                 "runs out of steps without an answer.")
HELPER_EXTRA = ("You are a helper agent: a manager agent gave you this task. Work it out and give your answer with "
                "final_answer(text); the manager reads only that text.")


def team_models(settings: RunSettings, shape: str) -> dict[str, Any]:
    """The models of a team run by role: {"processing"} for two sandboxes, {"manager"} (the helper uses it too)
    for managed, {"planner", "implementer"} else."""
    if settings.demo and shape == "managed":
        raise ConfigError("there is no recorded demo of manager + helpers: choose a model in Settings", field="demo")
    if settings.demo:
        from agent_py.replay import ReplayModel
        from agent_py.session import demo_trace

        trace = demo_trace(settings.demo)
        if shape == "two_sandboxes":
            return {"processing": ReplayModel.from_trace(trace, delay_s=0.02)}
        agents = trace.get("agents") or {}
        if not isinstance(agents.get("planner"), list) or not isinstance(agents.get("implementer"), list):
            raise ConfigError("the planner demo needs agents.planner and agents.implementer replies", field="demo")
        return {"planner": ReplayModel(agents["planner"], delay_s=0.02, name="recorded-planner"),
                "implementer": ReplayModel(agents["implementer"], delay_s=0.02, name="recorded-implementer")}
    live = settings.model_client
    if shape == "two_sandboxes":
        return {"processing": live(settings.model)}
    if shape == "managed":
        return {"manager": live(settings.model)}
    if settings.planner is None:
        raise ConfigError("planner + implementer needs a planner model: set it in Settings", field="planner.model")
    return {"planner": live(settings.planner), "implementer": live(settings.model)}


async def run_team(run_id: str, task: str, settings: RunSettings, *, limits: Any, tools: list[SandboxTool],
                   emit: Callable[[dict[str, Any]], None], on_step: Callable[[int], None], remote: Any = None,
                   boxes: list[Any] | None = None) -> Any:
    """`remote` (agent_py.run_tools.RunTools): the run's web, MCP and gateway tools. They go to the retrieval sandbox
    only in two_sandboxes, to the shared sandbox of planner + implementer, to the manager's and helpers' sandboxes.
    Every sandbox made is appended to `boxes` (an approval dialog holds all their deadlines)."""
    from agent_py.loop import Agent
    from agent_py.sandbox import BrowserSandbox
    from agent_py.session import run_hooks
    from agent_py.team import run_planner, run_two_sandboxes

    shape = settings.demo if settings.demo in ("two_sandboxes", "planner") else settings.mode

    step = {"n": 0}

    def track(n: int) -> None:
        step["n"] = n
        on_step(n)

    def tool_created(tool: Any) -> None:  # as in session.py: the page stores it
        emit({"type": "ToolCreated", "run_id": run_id, "step": step["n"], "tool": tool.to_dict()})

    async def make_sandbox(name: str, box_tools: list[SandboxTool]) -> Any:
        # Created tools live where the agents' code runs (the shared or the processing sandbox); the retrieval
        # sandbox runs only the cells retrieve() sends it.
        created = {} if name.endswith("-retrieval") else {"created": settings.created_tools,
                                                            "on_tool_created": tool_created}
        box = await BrowserSandbox.create(name, tools=box_tools, **settings.sandbox.create_options(), **created)
        if boxes is not None:
            boxes.append(box)
        return box

    network = list(remote.sandbox_tools) if remote is not None else []
    # Results of remote tools are third-party text, fenced as data (SECURITY-CASES 26); in two_sandboxes they reach
    # the agent through retrieve().
    if shape == "two_sandboxes":
        untrusted = ["retrieve"] if network else []
    else:
        untrusted = list(remote.untrusted) if remote is not None else []
        tools = [*tools, *network]

    def make_agent(model: Any, sandbox: Any, *, system_extra: str = "", agent_limits: Any = None) -> Any:
        return Agent(model, sandbox, limits=agent_limits or limits, system_extra=system_extra,
                     output_limit=settings.sandbox.output_limit, hooks=run_hooks(settings), untrusted_tools=untrusted)

    models = team_models(settings, shape)
    try:
        if shape == "two_sandboxes":
            return await run_two_sandboxes(run_id, task, model=models["processing"], make_agent=make_agent,
                                           make_sandbox=make_sandbox, extra_tools=tools, emit=emit, on_step=track,
                                           network_tools=network)
        if shape == "managed":
            return await _run_managed(run_id, task, settings, model=models["manager"], limits=limits, tools=tools,
                                      make_agent=make_agent, make_sandbox=make_sandbox, emit=emit, on_step=track)
        sandbox = await make_sandbox(f"run-{run_id}-shared", tools)
        try:
            return await run_planner(run_id, task, planner_model=models["planner"],
                                     implementer_model=models["implementer"], make_agent=make_agent,
                                     sandbox=sandbox, emit=emit, on_step=track)
        finally:
            await sandbox.close()
    finally:
        for model in models.values():
            aclose = getattr(model, "aclose", None)
            if aclose:
                await aclose()


async def _run_managed(run_id: str, task: str, settings: RunSettings, *, model: Any, limits: Any,
                       tools: list[SandboxTool], make_agent: Callable[..., Any], make_sandbox: Callable[..., Any],
                       emit: Callable[[dict[str, Any]], None], on_step: Callable[[int], None]) -> Any:
    from agent_py.managed import ManagedAgent, run_managed

    calls = {"n": 0}

    async def make_helper(helper_limits: Any) -> Any:
        # A sandbox per call: the manager's cell is blocked on this call, and each task starts clean.
        calls["n"] += 1
        box = await make_sandbox(f"run-{run_id}-helper-{calls['n']}", tools)
        return make_agent(model, box, system_extra=HELPER_EXTRA, agent_limits=helper_limits)

    helper = ManagedAgent("helper", "A helper agent that solves a sub-task you describe in words.", make_helper,
                          max_steps=settings.helper_max_steps, limits=limits)
    sandbox = await make_sandbox(f"run-{run_id}-manager", [helper.as_tool(), *tools])
    try:
        manager = make_agent(model, sandbox, system_extra=MANAGER_EXTRA)
        return await run_managed(run_id, task, manager=manager, helpers=[helper], emit=emit, on_step=on_step)
    finally:
        await sandbox.close()
