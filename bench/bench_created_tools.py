"""What tools the agent creates cost, measured in the real app page (cross-origin isolated), medians in ms.

    created_tools_define_10_ms     BrowserSandbox.create with 10 stored tools (each defined by a cell of its own)
                                   minus the same create with none: what a run pays at its start for 10 tools
    register_tool_cell_ms          a cell that defines a function and registers it (sandbox checks + the agent
                                   taking its source with ast) ...
    plain_def_cell_ms              ... and the same cell without register_tool: the difference is registration
    register_over_plain            register_tool_cell_ms / plain_def_cell_ms

    python -m bench.run --only created_tools --out /tmp/created_tools.json
"""

from __future__ import annotations

from bench.page_python import python_in_page

REPS = 15

MEASURE = """
import asyncio, time, statistics
from agent_py.sandbox import BrowserSandbox
from agent_py.created_tools import CreatedTool

REPS = __REPS__
STORED = [CreatedTool.from_source(f'def tool_{i}(x, y=1):\\n    \\"\\"\\"Tool {i}: x times y plus {i}.\\"\\"\\"\\n'
                                  f'    return x * y + {i}\\n') for i in range(10)]
out = {}

async def create_ms(created):
    started = time.perf_counter()
    box = await BrowserSandbox.create("bench-created", created=created, on_tool_created=lambda t: None)
    ms = (time.perf_counter() - started) * 1000
    await box.close()
    await asyncio.sleep(0.3)  # the iframe configures the next spare between creates, as between runs
    return ms

for _ in range(2):
    await create_ms([])
    await create_ms(STORED)
empty = [await create_ms([]) for _ in range(REPS)]
full = [await create_ms(STORED) for _ in range(REPS)]
out["created_tools_define_10_ms"] = statistics.median(full) - statistics.median(empty)

box = await BrowserSandbox.create("bench-register", on_tool_created=lambda t: None)
await asyncio.sleep(0.5)
CELL = 'def area(r):\\n    \\"\\"\\"Area of a circle of radius r.\\"\\"\\"\\n    return 3.14159 * r * r\\n'

async def timed(code):
    samples = []
    for _ in range(REPS + 3):
        started = time.perf_counter()
        result = await box.run(code)
        samples.append((time.perf_counter() - started) * 1000)
        assert not result.get("error"), result["error"]
    return statistics.median(samples[3:])

out["plain_def_cell_ms"] = await timed(CELL)
out["register_tool_cell_ms"] = await timed(CELL + "register_tool(area)\\n")
assert "area" in box.created
await box.close()
out
""".replace("__REPS__", str(REPS))


def run(browser, base_url: str) -> dict[str, float]:  # noqa: ANN001 - a Playwright sync Browser
    figures = python_in_page(browser, base_url, MEASURE)
    figures = {name: float(value) for name, value in figures.items()}
    figures["register_over_plain"] = figures["register_tool_cell_ms"] / figures["plain_def_cell_ms"]
    return figures
