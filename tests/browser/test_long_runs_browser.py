"""Long runs in one page (SECURITY-CASES 29): a 200-step run and 20 consecutive runs without a reload, against the
scripted model server and the real sandbox. Stated bounds, generous on purpose (they catch leaks and quadratic
work, not speed): page memory at the end < 2x the memory after warm-up + 50 MB, and the same for the agent
worker's wasm memory (Pyodide's heap); the mean latency of the last 10 steps < 3x the first 10 (+ 100 ms for
scheduling noise on a shared 2-core machine); sandbox workers alive and sessions do not grow from run to run (the
frame's own counts).

Page memory is `performance.measureUserAgentSpecificMemory()` where the browser offers it (the app page is
cross-origin isolated): the JS heaps of the page and of its same-origin workers, the agent worker's included. In
Chromium it leaves out wasm linear memory (measured: a 200 MB bytearray in Pyodide did not change it), hence the
separate wasm figure, and the opaque-origin sandbox frame's workers are not attributed (their count is checked
instead). Chromium answers it at a GC of its choosing, 10-20 s later: it is taken twice per test. Elsewhere the
page's own JS heap (`performance.memory`) stands in. The output says which was used."""

from __future__ import annotations

import json

import pytest

from tests.tally import tally

pytestmark = pytest.mark.browser
MB = 1024 * 1024

# Runs a task and times each step (StepStarted -> StepFinished) in the page; samples the page's JS heap.
RUN = """([task, settings]) => new Promise((resolve) => {
  const events = [], started = {}, latency = {};
  const runId = window.codeact.agent.startRun(task, settings);
  window.codeact.agent.onEvent((e) => {
    if (e.run_id !== runId || e.type === 'ModelDelta') return;
    if (e.type === 'StepStarted') started[e.step] = performance.now();
    if (e.type === 'StepFinished') latency[e.step] = performance.now() - started[e.step];
    events.push({type: e.type, step: e.step, status: e.status, final_answer: e.final_answer, error: e.error});
    if (e.type === 'RunFinished') resolve({events, latency, heap: performance.memory.usedJSHeapSize});
  });
})"""
# {bytes, how}: the page's memory and how it was measured (see the module's docstring).
PAGE_MEMORY = """async () => {
  const heap = (how) => ({bytes: performance.memory.usedJSHeapSize, how});
  if (!self.crossOriginIsolated || typeof performance.measureUserAgentSpecificMemory !== 'function') {
    return heap('performance.memory (JS heap of the page only)');
  }
  try {
    const {bytes} = await performance.measureUserAgentSpecificMemory();
    return {bytes, how: 'measureUserAgentSpecificMemory (JS heaps of the page and its workers)'};
  } catch (err) {
    return heap(`performance.memory (JS heap of the page only; measureUserAgentSpecificMemory: ${err.name})`);
  }
}"""
WASM_MEMORY = "import pyodide_js\npyodide_js._module.HEAPU8.length"
STATS = """
import js, json
from agent_py.sandbox import sandbox_client
json.loads(js.JSON.stringify(await sandbox_client().stats()))
"""


def _settings(model_server, max_steps: int) -> dict:  # noqa: ANN001
    return {"provider": "openai", "baseUrl": model_server.url + "/v1", "model": "scripted-model",
            "limits": {"maxSteps": max_steps, "maxWallClockS": 900}}


def _reply(step: int, last: bool) -> str:
    body = f"final_answer({step})" if last else f"x{step} = {step} * 2\nprint(x{step})"
    return f"Step {step}.\n```python\n{body}\n```"


def _stats(page) -> dict:  # noqa: ANN001
    value = page.evaluate("(c) => window.codeact.agent.execPython(c)", STATS)
    return value if isinstance(value, dict) else json.loads(value)


def _memory(page) -> tuple[int, int, str]:  # noqa: ANN001
    """(page memory, agent worker's wasm memory, how the page memory was measured), in bytes."""
    page_memory = page.evaluate(PAGE_MEMORY)
    wasm = int(page.evaluate("(c) => window.codeact.agent.execPython(c)", WASM_MEMORY))
    return int(page_memory["bytes"]), wasm, page_memory["how"]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def test_a_200_step_run_keeps_heap_and_step_latency_bounded(ready_page, model_server) -> None:  # noqa: ANN001
    page = ready_page
    model_server.configure(chunk_chars=4000)
    model_server.enqueue(*[_reply(i, i == 200) for i in range(1, 201)])
    memory_start, wasm_start, how = _memory(page)
    result = page.evaluate(RUN, ["count to 200", _settings(model_server, 220)])
    finished = result["events"][-1]
    assert finished["type"] == "RunFinished" and finished["status"] == "finished", result["events"][-5:]
    assert finished["final_answer"] == 200
    latency = [result["latency"][str(i)] for i in range(1, 201)]
    first, last = _mean(latency[:10]), _mean(latency[-10:])
    memory_end, wasm_end, how_end = _memory(page)
    print(f"\n200-step run: step latency first 10 {first:.0f} ms, last 10 {last:.0f} ms; "
          f"page memory {memory_start / MB:.1f} -> {memory_end / MB:.1f} MB by {how}; agent worker wasm "
          f"{wasm_start / MB:.1f} -> {wasm_end / MB:.1f} MB")
    assert how_end == how  # both figures measured the same way
    assert last < 3 * first + 100, (first, last)
    stats = _stats(page)
    assert stats["sessions"] <= 2 and stats["alive"] <= 2 * stats["sessions"] + 2, stats
    assert memory_end < 2 * memory_start + 50 * MB, (memory_start, memory_end, how)
    assert wasm_end < 2 * wasm_start + 50 * MB, (wasm_start, wasm_end)
    tally("long-run steps (200-step run)", len(latency))
    tally(f"long-run page memory samples by {how}", 2)  # says in the summary which measure was used


def test_twenty_runs_in_one_page_release_their_workers(ready_page, model_server) -> None:  # noqa: ANN001
    page = ready_page
    model_server.configure(chunk_chars=4000)
    heaps, alive, sessions, latencies, memory = [], [], [], [], {}
    for run in range(20):
        model_server.enqueue(_reply(1, False), _reply(2, True))
        result = page.evaluate(RUN, [f"run {run}", _settings(model_server, 5)])
        assert result["events"][-1]["status"] == "finished" and result["events"][-1]["final_answer"] == 2
        stats = _stats(page)
        if run in (1, 19):  # after the warm-up run, and at the end (each measurement takes Chromium 10-20 s)
            memory[run] = _memory(page)
        heaps.append(result["heap"])
        alive.append(stats["alive"])
        sessions.append(stats["sessions"])
        latencies += [result["latency"]["1"], result["latency"]["2"]]
    print(f"\n20 runs: workers alive per run {alive}, sessions {sessions}, spawned {stats['spawned']}, "
          f"killed {stats['killed']}; heap {heaps[0] / MB:.1f} -> {heaps[-1] / MB:.1f} MB; step latency first 10 "
          f"{_mean(latencies[:10]):.0f} ms, last 10 {_mean(latencies[-10:]):.0f} ms; page memory "
          f"{memory[1][0] / MB:.1f} -> {memory[19][0] / MB:.1f} MB by {memory[1][2]}; agent worker wasm "
          f"{memory[1][1] / MB:.1f} -> {memory[19][1] / MB:.1f} MB")
    # Between runs: no session left, and at most a warm spare (0 while it is being replaced) and one straggler.
    assert max(alive) <= 2 and max(sessions) == 0, (alive, sessions)
    assert sessions[-1] == 0 and stats["spawned"] - stats["killed"] == stats["alive"], stats  # all released
    assert memory[19][2] == memory[1][2]  # both figures measured the same way
    assert memory[19][0] < 2 * memory[1][0] + 50 * MB, memory
    assert memory[19][1] < 2 * memory[1][1] + 50 * MB, memory
    assert heaps[-1] < 2 * heaps[1] + 50 * MB, heaps  # the page's own JS heap, sampled after every run
    assert _mean(latencies[-10:]) < 3 * _mean(latencies[:10]) + 100
    tally("long-run runs in one page", 20)
    tally(f"long-run page memory samples by {memory[1][2]}", 2)
