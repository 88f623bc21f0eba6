"""Sandbox figures, measured in the real app page (cross-origin isolated), medians in milliseconds.

    bare_worker_spawn_ms          a classic blob worker that only echoes, in the sandbox iframe: new Worker -> echo
    sandbox_cold_spawn_ms         a MicroPython sandbox worker in the iframe: new Worker -> booted (no warm spare)
    pyodide_worker_spawn_ms       the peers' approach: a module worker running loadPyodide -> first result (5 reps)
    bare_echo_roundtrip_ms        agent worker Python -> iframe -> echo worker -> back to Python (same hops as a cell)
    exec_roundtrip_ms             agent worker Python -> iframe -> MicroPython `pass` cell -> back to Python
    tool_call_sync_roundtrip_ms   one tool call timed inside the cell: blocking (Atomics), Python tool in the agent
    tool_call_async_roundtrip_ms  the same with the await fallback (the cell rewritten), as on a page without isolation
    kill_to_ready_ms              a cell past its deadline: from the kill -> a fresh worker configured for the
                                  session in place (its spare, configured ahead of time), ready for the replay
    kill_overshoot_ms             the same kills: kill time minus the deadline, as the frame measured it (median;
                                  kill_overshoot_max_ms the largest of them; the issue's bound is 50 ms)
    replay_restore_ms             kill -> the session's 20 earlier cells replayed (with recorded tool results)

The spawn figures are taken by the iframe itself (frame.js probes), the others from the agent's Python. The
floors the issue sets are checked by the caller against these; `sandbox_*_over_*` ratios are reported too.
The echo baseline is sampled alternately with the cells and the tool calls it is compared with (same machine
state for both). Round trips are timed once a new session has settled (0.5 s): right after it is created, the
iframe boots and configures that session's spare worker, which on two cores competes with the cells; between model
steps (seconds apart) it has long finished.
"""

from __future__ import annotations

import statistics

REPS = 30
PYODIDE_REPS = 5

MEASURE = """
import time, statistics
from agent_py.sandbox import BrowserSandbox, probe
from agent_py.sandbox_tools import SandboxTool

REPS = __REPS__

async def noop(args):
    return args.get("x", 0)

tools = [SandboxTool("noop", "Return x.", noop, {"type": "object", "properties": {"x": {"type": "integer"}}})]
out = {}

async def ms(fn):
    t = time.perf_counter()
    await fn()
    return (time.perf_counter() - t) * 1000

echo = lambda: probe("probe-echo", "x")  # noqa: E731

out["bare_worker_spawn_ms"] = statistics.median([(await probe("probe-spawn", "bare"))["ms"] for _ in range(REPS)])
out["sandbox_cold_spawn_ms"] = statistics.median(
    [(await probe("probe-spawn", "sandbox"))["ms"] for _ in range(REPS)])

box = await BrowserSandbox.create("bench", tools=tools, timeout_ms=10_000)
await asyncio.sleep(0.5)
# The baseline and the cell alternate, sample by sample: both see the same machine (load, clocks, caches), so
# their ratio does not drift with what else the two cores do during the run.
for _ in range(5):
    await echo()
    await box.run("pass")
echoes, cells = [], []
for _ in range(REPS):
    echoes.append(await ms(echo))
    cells.append(await ms(lambda: box.run("pass")))
out["exec_roundtrip_ms"] = statistics.median(cells)

# time.ticks_us has 1 ms steps in this build; the worker's performance.now() has 5 us ones when isolated.
CALLS = '''
import js
_samples = []
for _i in range(%d):
    _t = js.performance.now()
    noop(x=_i)
    _samples.append(js.performance.now() - _t)
print(",".join(str(s) for s in _samples[5:]))
'''
async def tool_samples(sandbox):
    # Cells of 10 calls (after 5 warm-up calls), each followed by 10 echoes for the baseline alongside.
    samples = []
    for _ in range(REPS // 10 + 1):
        samples += [float(v) for v in (await sandbox.run(CALLS % 15))["stdout"].split(",")]
        for _ in range(10):
            echoes.append(await ms(echo))
    return statistics.median(samples)

out["tool_call_sync_roundtrip_ms"] = await tool_samples(box)
await box.close()
abox = await BrowserSandbox.create("bench-async", tools=tools, timeout_ms=10_000, blocking_tools=False)
await asyncio.sleep(0.5)
out["tool_call_async_roundtrip_ms"] = await tool_samples(abox)
await abox.close()
out["bare_echo_roundtrip_ms"] = statistics.median(echoes)

# Kills: a short deadline, and a pause after each so the next warm spare has booted (as between model steps).
kbox = await BrowserSandbox.create("bench-kill", tools=tools, timeout_ms=150)
await kbox.run("import time")
ready, restore, overshoot = [], [], []
for _ in range(REPS):
    r = await kbox.run("while True:\\n    pass")
    ready.append(r["restart_ms"])
    overshoot.append(r["kill_overshoot_ms"])
    await asyncio.sleep(0.15)
out["kill_to_ready_ms"] = statistics.median(ready)
out["kill_overshoot_ms"] = statistics.median(overshoot)
out["kill_overshoot_max_ms"] = max(overshoot)
await kbox.close()

rbox = await BrowserSandbox.create("bench-replay", tools=tools, timeout_ms=1000)
for i in range(20):
    cell = f"v{i} = noop(x={i}) * 2" if i % 4 == 0 else f"v{i} = {i} * 2\\ndef f{i}(a):\\n    return a + {i}"
    assert not (await rbox.run(cell)).get("error")
for _ in range(REPS):
    r = await rbox.run("while True:\\n    pass")
    assert r["restored"] and "all 20 earlier cells" in r["restore_note"], r["restore_note"]
    restore.append(r["restore_ms"])
    await asyncio.sleep(0.15)
assert (await rbox.run("print(v16 + f19(1))"))["stdout"] == "52\\n"
out["replay_restore_ms"] = statistics.median(restore)
await rbox.close()
out
""".replace("__REPS__", str(REPS))

PYODIDE_SPAWN = """async (reps) => {
  const samples = [];
  for (let i = 0; i < reps; i++) {
    const started = performance.now();
    const worker = new Worker("/bench/pages/raw_pyodide_worker.mjs", { type: "module" });
    await new Promise((resolve, reject) => { worker.onmessage = resolve; worker.onerror = reject; });
    samples.push(performance.now() - started);
    worker.terminate();
  }
  return samples;
}"""


def run(browser, base_url: str) -> dict[str, float]:  # noqa: ANN001 - a Playwright sync Browser
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(base_url)
        page.wait_for_function("document.body.dataset.pythonReady === 'true'", timeout=120_000)
        figures = page.evaluate("(c) => window.codeact.agent.execPython(c)", "import asyncio\n" + MEASURE)
        figures["pyodide_worker_spawn_ms"] = statistics.median(page.evaluate(PYODIDE_SPAWN, PYODIDE_REPS))
    finally:
        context.close()
    figures = {name: float(value) for name, value in figures.items()}
    bare_spawn, echo = figures["bare_worker_spawn_ms"], figures["bare_echo_roundtrip_ms"]
    figures["sandbox_spawn_over_bare"] = figures["sandbox_cold_spawn_ms"] / bare_spawn
    figures["pyodide_spawn_over_sandbox"] = figures["pyodide_worker_spawn_ms"] / figures["sandbox_cold_spawn_ms"]
    figures["exec_over_echo"] = figures["exec_roundtrip_ms"] / echo
    figures["tool_sync_over_echo"] = figures["tool_call_sync_roundtrip_ms"] / echo
    figures["kill_to_ready_over_bare_spawn"] = figures["kill_to_ready_ms"] / bare_spawn
    return figures


if __name__ == "__main__":
    import json

    from playwright.sync_api import sync_playwright

    from codeact_host.build import build
    from codeact_host.chromium import CHROMIUM, CHROMIUM_ARGS
    from codeact_host.paths import REPO_ROOT
    from codeact_host.server import serving

    build()
    with serving(REPO_ROOT) as url, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        print(json.dumps(run(chromium, url), indent=2))
        chromium.close()
