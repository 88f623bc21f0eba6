"""Boot figures: how fast the shell paints and Python becomes ready, against bare loadPyodide in the same run.

    raw_loadpyodide_cold_ms   bench/pages/raw_pyodide.html: a module worker that only calls loadPyodide
    shell_visible_ms          first contentful paint of index.html
    python_ready_cold_ms      index.html navigation -> agent_py imported in the agent worker (empty cache)
    python_ready_warm_ms      the same, second visit in the same browser context (HTTP cache and the Python
                              memory snapshot the first visit stored)
    shipped_bytes_gzip        every response body of a cold load, gzip-compressed (level 6), summed
"""

from __future__ import annotations

import gzip
import statistics

from tests.browser.test_boot import wait_for_snapshot

READY = "document.body.dataset.pythonReady === 'true'"
READY_MARK = "performance.getEntriesByName('python-ready')[0].startTime"
PAINT = "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1"


def _raw_cold(browser, base_url: str) -> float:
    context = browser.new_context()
    page = context.new_page()
    page.goto(base_url + "bench/pages/raw_pyodide.html")
    page.wait_for_function("window.rawResult === 2", timeout=60_000)
    value = page.evaluate("window.rawReadyMs")
    context.close()
    return value


def _app_load(browser, base_url: str) -> dict[str, float]:
    context = browser.new_context()
    page = context.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(base_url)
    page.wait_for_function(READY, timeout=60_000)
    page.wait_for_load_state("networkidle")
    shipped = 0
    for response in responses:
        if response.ok:
            shipped += len(gzip.compress(response.body(), 6))
    cold = {"python_ready_cold_ms": page.evaluate(READY_MARK), "shell_visible_ms": page.evaluate(PAINT),
            "shipped_bytes_gzip": float(shipped)}
    wait_for_snapshot(page)
    page.goto(base_url)
    page.wait_for_function(READY, timeout=60_000)
    cold["python_ready_warm_ms"] = page.evaluate(READY_MARK)
    context.close()
    return cold


def run(browser, base_url: str, reps: int = 5) -> dict[str, float]:
    raw = [_raw_cold(browser, base_url) for _ in range(reps)]
    loads = [_app_load(browser, base_url) for _ in range(reps)]
    figures = {"raw_loadpyodide_cold_ms": statistics.median(raw)}
    for key in loads[0]:
        figures[key] = statistics.median(load[key] for load in loads)
    figures["python_ready_cold_over_raw"] = figures["python_ready_cold_ms"] / figures["raw_loadpyodide_cold_ms"]
    return figures
