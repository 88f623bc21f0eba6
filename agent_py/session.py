"""One run in the page: settings -> model, sandbox and tools -> the agent loop, with every event sent to the page.

Used by agent_py.web_runtime (the agent worker). The model is the user's endpoint, or for a recorded demo a
ReplayModel whose replies were recorded once; either way the code really runs in the sandbox.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from importlib import resources
from typing import Any

from agent_py.errors import ConfigError
from agent_py.host_tools import with_host_tools
from agent_py.log import get_logger
from agent_py.run_tools import RunTools, page_approver
from agent_py.sandbox_tools import SandboxTool
from agent_py.settings import RunSettings

__all__ = ["run_session", "run_hooks", "demo_trace", "DEMOS", "display_tools"]

log = get_logger("agent")
Emit = Callable[[dict[str, Any]], None]
DEMOS = ("compute", "two_sandboxes", "planner")


def demo_trace(name: str) -> dict[str, Any]:
    """A recorded demo: {title, task, replies} shipped in agent_py/demos/."""
    if name not in DEMOS:
        raise ConfigError(f"unknown demo {name!r}; recorded demos: {', '.join(DEMOS)}", field="demo")
    return json.loads(resources.files("agent_py.demos").joinpath(f"{name}.json").read_text())


def display_tools(emit: Emit, run_id: str, step: Callable[[], int]) -> list[SandboxTool]:
    """show_table / show_chart: the model puts a table or a chart in the step's card (rendered by the page)."""

    async def show_table(args: dict[str, Any]) -> str:
        rows = args["rows"]
        columns = args.get("columns") or (list(rows[0]) if rows and isinstance(rows[0], dict) else [])
        if rows and isinstance(rows[0], dict):
            rows = [[row.get(column) for column in columns] for row in rows]
        emit({"type": "Display", "run_id": run_id, "step": step(), "kind": "table", "title": args.get("title", ""),
              "columns": columns, "rows": rows[:1000]})
        return f"table shown ({len(rows)} rows)"

    async def show_chart(args: dict[str, Any]) -> str:
        series = args["series"]
        if not isinstance(series, dict) or not series:
            raise ValueError("series must map a label to a list of numbers")
        emit({"type": "Display", "run_id": run_id, "step": step(), "kind": "chart", "title": args.get("title", ""),
              "chart": args.get("kind", "line"), "x": args.get("x"), "series": series})
        return "chart shown"

    return [
        SandboxTool("show_table", "Show a table to the user in this step's card.", show_table, {
            "type": "object",
            "properties": {
                "rows": {"type": "array", "description": "a list of rows (lists) or records (dicts)"},
                "columns": {"type": "array", "description": "column names (taken from the records if omitted)"},
                "title": {"type": "string"},
            },
            "required": ["rows"],
        }),
        SandboxTool("show_chart", "Show a chart to the user in this step's card.", show_chart, {
            "type": "object",
            "properties": {
                "series": {"type": "object", "description": "label -> list of numbers (one line or bar set each)"},
                "x": {"type": "array", "description": "x values or labels shared by the series"},
                "kind": {"type": "string", "enum": ["line", "bar", "scatter"]},
                "title": {"type": "string"},
            },
            "required": ["series"],
        }),
    ]


def run_hooks(settings: RunSettings) -> list[Any]:
    """The hooks of a page run: the event log (at debug level, off by default) and the user's denied tools."""
    from agent_py.hooks import DenyTools, EventLogger

    hooks: list[Any] = [EventLogger()]
    if settings.deny_tools:
        hooks.append(DenyTools(settings.deny_tools, "the user turned this tool off for this run"))
    return hooks


def _model_for(settings: RunSettings) -> Any:
    if settings.demo:
        from agent_py.replay import ReplayModel

        return ReplayModel.from_trace(demo_trace(settings.demo), delay_s=0.02)
    return settings.model_client(settings.model)


# Names a team run gives its own tools (agent_py.team, agent_py.managed): remote tools never take them.
TEAM_TOOL_NAMES = frozenset({"retrieve", "dataset", "helper"})


@contextlib.asynccontextmanager
async def deadlines_held(boxes: list[Any]) -> AsyncIterator[None]:
    """Every sandbox's running cell has its deadline held (BrowserSandbox.deadline_held) until the block ends."""
    async with contextlib.AsyncExitStack() as stack:
        for box in list(boxes):
            await stack.enter_async_context(box.deadline_held())
        yield


async def run_session(run_id: str, task: str, settings: RunSettings, *, resume: dict[str, Any] | None,
                      emit: Emit, workspace: Any = None, emit_blobs: Any = None,
                      checkpoint_cap: int | None = None) -> Any:
    """One run. With a `workspace` (agent_py.workspace.Workspace) the sandbox starts with its files and every step
    that changes them is checkpointed (contents go out once through `emit_blobs(run_id, {sha256: bytes})`)."""
    from agent_py.guardrails import Limits
    from agent_py.loop import Agent
    from agent_py.memory import RunRecord
    from agent_py.sandbox import BrowserSandbox

    if settings.demo and not task:
        task = demo_trace(settings.demo)["task"]
    if not task.strip():
        raise ConfigError("the task is empty", field="task")
    current_step = {"n": 0}
    pending: list[dict[str, Any]] = []  # events that must follow RunStarted (the page shows a run from there)

    def forward(event: Any) -> None:
        data = event.to_dict() if hasattr(event, "to_dict") else dict(event)
        if isinstance(data.get("step"), int):
            current_step["n"] = data["step"]
        emit(data)
        if data.get("type") == "RunStarted":
            for queued in pending:
                emit({**queued, "ts": data.get("ts")})
            pending.clear()

    tools = with_host_tools(run_id, display_tools(emit, run_id, lambda: current_step["n"]))  # embed mode
    limits = Limits.from_settings(settings.limits)

    def tool_created(tool: Any) -> None:  # the page stores it (static/app/ui/created_tools.mjs)
        emit({"type": "ToolCreated", "run_id": run_id, "step": current_step["n"], "tool": tool.to_dict()})

    # MCP servers, gateways and web research (agent_py/run_tools.py): connected once, every call through one gate.
    taken = ({tool.name for tool in tools} | {str(getattr(tool, "name", "")) for tool in settings.created_tools}
             | TEAM_TOOL_NAMES)
    # While the user decides about a call, every sandbox of the run has its deadline held: the cell that asked, and
    # in a team the cell waiting on it (processing's retrieve(), a manager's helper()). Filled as they are made.
    boxes: list[Any] = []
    remote = await RunTools.open(settings.tools, taken=taken,
                                 approve=page_approver(run_id, hold=lambda: deadlines_held(boxes)))
    if not settings.tools.empty:
        pending.append(remote.event(run_id))
    if settings.demo in ("two_sandboxes", "planner") or settings.mode != "single":  # agent_py/team.py
        from agent_py.team_session import run_team

        try:
            return await run_team(run_id, task, settings, limits=limits, tools=tools, emit=forward,
                                  on_step=lambda n: current_step.__setitem__("n", n), remote=remote, boxes=boxes)
        finally:
            await remote.aclose()
    try:
        sandbox: Any = await BrowserSandbox.create(f"run-{run_id}", tools=[*tools, *remote.sandbox_tools],
                                                   **settings.sandbox.create_options(),
                                                   created=settings.created_tools, on_tool_created=tool_created)
        boxes.append(sandbox)
    except BaseException:
        await remote.aclose()
        raise
    if workspace is not None:
        from agent_py.workspace import DEFAULT_CHECKPOINT_CAP, CheckpointLog, TrackedSandbox

        checkpoints = CheckpointLog(cap_bytes=checkpoint_cap or DEFAULT_CHECKPOINT_CAP)
        sandbox = TrackedSandbox(sandbox, workspace, checkpoints, emit=emit, emit_blobs=emit_blobs, run_id=run_id,
                                 step=lambda: current_step["n"])
        try:
            await sandbox.start()
        except BaseException:
            await sandbox.close()
            await remote.aclose()
            raise
    model = _model_for(settings)
    agent = Agent(model, sandbox, limits=limits, output_limit=settings.sandbox.output_limit,
                  hooks=run_hooks(settings), untrusted_tools=remote.untrusted)
    try:
        record = RunRecord.from_dict(resume) if resume else None
        return await agent.run(task, run_id=run_id, resume=record, on_event=forward)
    finally:
        await sandbox.close()
        await remote.aclose()
        aclose = getattr(model, "aclose", None)
        if aclose:
            await aclose()
