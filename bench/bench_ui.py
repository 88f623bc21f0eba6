"""UI load figures: how soon the page takes a task, and how fast Python is back on a second visit.

    ui_interactive_ms        navigation -> the task box wired and taking input (performance mark "ui-interactive",
                             checked by typing into it), cold loads in fresh browser contexts; Python boots
                             meanwhile, as it does for a real visitor
    python_ready_warm_ms     navigation -> Python ready on a second visit, after a first visit that left the runtime
                             in the service worker's cache (and the HTTP cache) and the Python snapshot stored;
                             each pair in a fresh context
Medians of `reps` (>= 5). Floors (issue 6): ui_interactive_ms <= 0.15 x raw_loadpyodide_cold_ms,
python_ready_warm_ms <= 0.5 x raw_loadpyodide_cold_ms (bench/bench_boot.py measures the baseline in the same run;
its own python_ready_warm_ms, without a service worker, is overwritten by this module's when both run).
"""

from __future__ import annotations

import statistics

from tests.browser.test_boot import wait_for_snapshot

UI_READY = "document.body.dataset.uiReady === 'true'"
PYTHON_READY = "document.body.dataset.pythonReady === 'true'"
OFFLINE_READY = "document.body.dataset.offlineReady !== undefined"


def _mark(page, name: str) -> float:  # noqa: ANN001
    return page.evaluate(f"performance.getEntriesByName({name!r})[0].startTime")


def _ui_interactive(browser, base_url: str) -> float:  # noqa: ANN001
    context = browser.new_context()
    page = context.new_page()
    page.goto(base_url, wait_until="commit")
    page.wait_for_function(UI_READY, polling=10)
    page.locator("#task").fill("2 + 2")
    if page.locator("#task").input_value() != "2 + 2":
        raise AssertionError("the task box did not take input")
    value = _mark(page, "ui-interactive")
    context.close()
    return value


def _python_ready_warm(browser, base_url: str) -> float:  # noqa: ANN001
    context = browser.new_context()
    page = context.new_page()
    page.goto(base_url)
    page.wait_for_function(PYTHON_READY, timeout=120_000)
    page.wait_for_function(OFFLINE_READY, timeout=120_000)
    wait_for_snapshot(page)
    if not page.evaluate("Boolean(navigator.serviceWorker.controller)"):
        raise AssertionError("the service worker did not take control after the first visit")
    page.goto(base_url)
    page.wait_for_function(PYTHON_READY, timeout=120_000)
    value = _mark(page, "python-ready")
    context.close()
    return value


def run(browser, base_url: str, reps: int = 5) -> dict[str, float]:  # noqa: ANN001
    interactive = [_ui_interactive(browser, base_url) for _ in range(reps)]
    warm = [_python_ready_warm(browser, base_url) for _ in range(reps)]
    return {"ui_interactive_ms": statistics.median(interactive), "python_ready_warm_ms": statistics.median(warm)}


if __name__ == "__main__":  # python -m bench.bench_ui: these figures alone, printed
    import json

    from playwright.sync_api import sync_playwright

    from codeact_host.build import build
    from codeact_host.chromium import CHROMIUM, CHROMIUM_ARGS
    from codeact_host.paths import REPO_ROOT
    from codeact_host.server import serving

    build()
    with serving(REPO_ROOT) as url, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            print(json.dumps(run(chromium, url), indent=2))
        finally:
            chromium.close()
