"""The loop's own cost per step, without the model's or the sandbox's time: in CPython and in Pyodide in the page.

    agent_step_overhead_ms           a 50-step run against an instant scripted model and trivial cells, CPython:
                                     (total - model time - sandbox time) / steps, median of 5 runs (floor <= 3)
    step_overhead_growth             median overhead of steps 40-50 over steps 1-10 (floor <= 1.2)
    agent_step_overhead_ms_pyodide   the same run, the same code (bench/loop_overhead.py), in the agent worker of
    step_overhead_growth_pyodide     the real page (Pyodide, Chromium headless)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from pathlib import Path
from typing import Any

from bench.loop_overhead import measure

CORE = Path(__file__).with_name("loop_overhead.py")
PYTHON_READY = "window.codeact && document.body.dataset.pythonReady === 'true'"


def run_cpython() -> dict[str, float]:
    figures = asyncio.run(measure())
    return {"agent_step_overhead_ms": figures["overhead_ms"], "step_overhead_growth": figures["growth"]}


def run_pyodide(browser: Any, base_url: str) -> dict[str, float]:
    page = browser.new_page()
    try:
        page.goto(base_url)
        page.wait_for_function(PYTHON_READY, timeout=120_000)
        # The module's text runs as a module of its own in the worker's Pyodide, then its measure() is awaited.
        source = CORE.read_text()
        program = ("import json, sys, types\n_bench = types.ModuleType('bench_loop_overhead')\n"
                   "sys.modules['bench_loop_overhead'] = _bench\n"
                   f"exec(compile({source!r}, 'loop_overhead.py', 'exec'), _bench.__dict__)\n"
                   "json.dumps(await _bench.measure())")
        figures = json.loads(page.evaluate("(code) => window.codeact.agent.execPython(code)", program))
    finally:
        page.close()
    return {"agent_step_overhead_ms_pyodide": figures["overhead_ms"], "step_overhead_growth_pyodide": figures["growth"]}


def run(browser: Any, base_url: str) -> dict[str, float]:
    # CPython in a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        figures = pool.submit(run_cpython).result()
    figures.update(run_pyodide(browser, base_url))
    return figures


if __name__ == "__main__":
    print(run_cpython())
