"""What workspace tracking costs a step, in the real page (agent worker + sandbox iframe).

    workspace_unchanged_step_overhead_ms   a cell that changes no file, in a workspace of 20 files of 10 KB:
                                           median(tracked cell) - median(plain cell), 15 of each
    checkpoint_1mb_ms                      the Checkpoint event's duration_ms (list, read, sha256, diff) for a cell
                                           that rewrites a 1 MB binary file, median of 5
"""

from __future__ import annotations

MEASURE = """
import statistics, time
from agent_py.sandbox import BrowserSandbox
from agent_py.workspace import CheckpointLog, TrackedSandbox, Workspace

workspace = Workspace()
for i in range(20):
    workspace.put(f"f{i}.txt", b"x" * 10_000)
box = await BrowserSandbox.create("bench-workspace")
events = []
tracked = TrackedSandbox(box, workspace, CheckpointLog(), emit=events.append, emit_blobs=None, run_id="bench",
                         step=lambda: 1)
await tracked.start()
plain, with_tracking = [], []
for _ in range(15):
    started = time.perf_counter()
    await box.run("x = 1")
    plain.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    await tracked.run("x = 1")
    with_tracking.append((time.perf_counter() - started) * 1000)
for i in range(5):
    await tracked.run(f"open('big.bin', 'wb').write(bytes([{i}]) * 1000000)")
await box.close()
durations = [e["duration_ms"] for e in events if e["type"] == "Checkpoint"]
{"workspace_unchanged_step_overhead_ms": statistics.median(with_tracking) - statistics.median(plain),
 "checkpoint_1mb_ms": statistics.median(durations)}
"""


def run(browser, base_url: str) -> dict[str, float]:  # noqa: ANN001 - a Playwright sync Browser
    page = browser.new_page()
    try:
        page.goto(base_url)
        page.wait_for_function("window.codeact && document.body.dataset.pythonReady === 'true'", timeout=60_000)
        return page.evaluate("(c) => window.codeact.agent.execPython(c)", MEASURE)
    finally:
        page.close()
