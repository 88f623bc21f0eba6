"""PyScript (a requested package) against our own boot, on the same vendored Pyodide, in the same run.

    pyscript_ready_cold_ms       bench/pages/pyscript.html: PyScript 0.7 boots Pyodide in a worker and runs one line
    pyscript_over_raw            the same over bare loadPyodide (bench/pages/raw_pyodide.html), measured alongside

PyScript boots the same loadPyodide, so its cold boot is close to the bare one (it runs offline when its config
points at the vendored files). The page does not boot through it: it would add its own module graph (+1.2 MB raw,
0.4 MB gzip per ../shared/NOTES-browser-stack.md) and it offers no hook for what makes our repeat visits fast
(restoring a memory snapshot) or for the wheel prefetch and integrity check of our cold boot.
"""

from __future__ import annotations

import statistics

from bench.bench_boot import _raw_cold


def _pyscript_cold(browser, base_url: str) -> float:
    context = browser.new_context()
    page = context.new_page()
    page.goto(base_url + "bench/pages/pyscript.html")
    page.wait_for_function("window.pyscriptReadyMs", timeout=120_000)
    value = page.evaluate("window.pyscriptReadyMs")
    context.close()
    return value


def run(browser, base_url: str, reps: int = 3) -> dict[str, float]:
    pyscript, raw = [], []
    for _ in range(reps):  # interleaved, so both see the same machine load
        pyscript.append(_pyscript_cold(browser, base_url))
        raw.append(_raw_cold(browser, base_url))
    return {"pyscript_ready_cold_ms": statistics.median(pyscript),
            "pyscript_over_raw": statistics.median(pyscript) / statistics.median(raw)}
