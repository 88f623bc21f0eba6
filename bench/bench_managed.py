"""What a managed agent (agent_py.managed) costs beyond its model calls, in the real app page (cross-origin
isolated, so the manager's cell blocks on the call), medians in ms. The model is a ReplayModel with no delay, so
the figures are the machinery only.

    helper_tool_call_ms        ManagedAgent's tool called from the agent: a new sandbox, a one-step sub-run
                               (one reply, one cell giving final_answer), the sandbox closed
    one_step_run_ms            the same one-step run on a sandbox made once (the baseline)
    helper_from_cell_ms        a manager cell `r = helper(task=...)`: the blocking call out of the sandbox, the
                               sub-run, the answer back into the cell
    helper_over_one_step       helper_tool_call_ms / one_step_run_ms (mostly what a sandbox per call costs)

    python -m bench.run --only managed --out /tmp/managed.json
"""

from __future__ import annotations

from bench.page_python import python_in_page

REPS = 10

MEASURE = """
import asyncio, time, statistics
from agent_py.sandbox import BrowserSandbox
from agent_py.loop import Agent
from agent_py.managed import ManagedAgent
from agent_py.replay import ReplayModel

REPS = __REPS__
REPLY = "Done.\\n```python\\nfinal_answer('ok')\\n```"
out = {}

async def make(limits):
    box = await BrowserSandbox.create("bench-helper")
    return Agent(ReplayModel([REPLY], delay_s=0), box, limits=limits)

helper = ManagedAgent("helper", "A helper.", make, max_steps=2)
tool = helper.as_tool()

async def timed(coro_fn, settle=0.3):
    samples = []
    for _ in range(REPS + 2):
        started = time.perf_counter()
        await coro_fn()
        samples.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(settle)  # the iframe readies its next spare worker, as between runs
    return statistics.median(samples[2:])

async def call_tool():
    assert await tool.call({"task": "t"}) == "ok"

out["helper_tool_call_ms"] = await timed(call_tool)

base = await BrowserSandbox.create("bench-base")

async def one_step():
    record = await Agent(ReplayModel([REPLY], delay_s=0), base).run("t")
    assert record.final_answer == "ok"

out["one_step_run_ms"] = await timed(one_step, settle=0)
await base.close()

manager = await BrowserSandbox.create("bench-manager", tools=[tool])

async def from_cell():
    result = await manager.run("r = helper(task='t')\\nfinal_answer(r)")
    assert result.get("final_value") == "ok", result

out["helper_from_cell_ms"] = await timed(from_cell)
await manager.close()
out
""".replace("__REPS__", str(REPS))


def run(browser, base_url: str) -> dict[str, float]:  # noqa: ANN001 - a Playwright sync Browser
    figures = python_in_page(browser, base_url, MEASURE)
    figures = {name: float(value) for name, value in figures.items()}
    figures["helper_over_one_step"] = figures["helper_tool_call_ms"] / figures["one_step_run_ms"]
    return figures
