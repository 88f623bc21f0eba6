"""Load experience: the UI works while Python boots and a run started then is queued and runs; the recorded demos;
offline after one visit through the service worker, with COOP/COEP kept on cached responses."""

from __future__ import annotations

import pytest

from tests.browser.ui_support import PYTHON_READY, SHOTS, UI_READY, posted, render, spy_on_worker

pytestmark = pytest.mark.browser


def test_ui_is_usable_before_python_and_a_queued_demo_runs_once_it_is_ready(page, app_url) -> None:
    # Without IndexedDB too: the run must still work, and the page must say history is not saved.
    page.add_init_script("Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true })")
    held = []
    page.route("**/pyodide.asm.wasm", lambda route: held.append(route))  # Python cannot finish booting
    page.goto(app_url)
    page.wait_for_function(UI_READY)
    interactive_ms = page.evaluate("performance.getEntriesByName('ui-interactive')[0].startTime")
    page.locator("#task").fill("typed while Python boots")
    assert page.locator("#task").input_value() == "typed while Python boots"
    page.get_by_role("button", name="Settings").click()
    assert page.locator("dialog#settings").is_visible()
    page.keyboard.press("Escape")
    assert page.evaluate("document.body.dataset.pythonReady") is None and held, "Python must still be booting"
    assert 0 < interactive_ms < 5000
    spy_on_worker(page)
    page.get_by_role("button", name="Recorded · calendar arithmetic").click()
    [start] = posted(page, "start-run")
    assert start["settings"] == {"demo": "compute"}
    assert page.locator(".run-status").inner_text().startswith("Queued")
    assert "recorded" in page.locator(".run .badge").all_inner_texts()
    assert "not saved" in page.locator("#storage-note").inner_text()

    held[0].continue_()
    page.wait_for_function(PYTHON_READY, timeout=120_000)
    page.wait_for_selector(".run[data-status]", timeout=120_000)
    assert page.locator(".run").get_attribute("data-status") == "finished"
    assert "15 years between 2000 and 2100" in page.locator(".final").inner_text()
    assert page.locator(".display-chart canvas").count() >= 1
    assert page.locator(".step").count() == 2
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "ui-demo-finished.png"), full_page=True)


def test_every_recorded_demo_button_starts_its_demo(page, app_url) -> None:
    page.route("**/pyodide.asm.wasm", lambda route: None)
    page.goto(app_url)
    page.wait_for_function(UI_READY)
    spy_on_worker(page)
    names = []
    for index in range(3):
        button = page.locator("#demos button").nth(index)
        assert button.inner_text().startswith("Recorded")
        button.click()
        [start] = posted(page, "start-run")[-1:]
        names.append(start["settings"]["demo"])
        # End the (queued) run as the worker would, so the next button is enabled again.
        render(page, {"type": "RunStarted", "run_id": start["runId"], "task": "t", "settings": {}},
               {"type": "RunFinished", "run_id": start["runId"], "status": "finished", "stop_reason": "final_answer",
                "steps": 0})
        page.evaluate("document.getElementById('welcome').hidden = false")
    assert names == ["compute", "two_sandboxes", "planner"]


def _first_visit(page, app_url) -> None:  # noqa: ANN001
    page.goto(app_url)
    page.wait_for_function(PYTHON_READY, timeout=120_000)
    page.wait_for_function("document.body.dataset.offlineReady !== undefined", timeout=120_000)
    assert page.evaluate("document.body.dataset.offlineReady") == "true", page.console_messages


def test_the_page_and_python_work_offline_after_one_visit(page, app_url) -> None:
    _first_visit(page, app_url)
    headers = page.evaluate("""async () => {
      const cache = await caches.open('codeact-shell-v1');
      const read = async (path) => {
        const response = await cache.match(new URL(path, location.href).href);
        return response && Object.fromEntries(response.headers);
      };
      return { page: await read('./'), frame: await read('static/vendor/sandbox/frame.html'),
               wasm: await read('static/vendor/pyodide/pyodide.asm.wasm') };
    }""")
    assert headers["page"]["cross-origin-opener-policy"] == "same-origin"
    assert headers["page"]["cross-origin-embedder-policy"] == "require-corp"
    assert headers["frame"]["cross-origin-embedder-policy"] == "require-corp"
    assert headers["wasm"]["content-type"] == "application/wasm"

    page.context.set_offline(True)
    page.reload()
    page.wait_for_function(UI_READY, timeout=30_000)
    page.wait_for_function(PYTHON_READY, timeout=120_000)
    assert page.evaluate("navigator.onLine") is False
    assert page.evaluate("crossOriginIsolated") is True  # COOP/COEP came back from the cache
    assert page.evaluate("window.codeact.agent.execPython('6 * 7')") == 42
    page.get_by_role("button", name="Settings").click()
    assert page.locator("dialog#settings").is_visible()


def test_a_recorded_demo_runs_offline_after_one_visit(page, app_url) -> None:
    _first_visit(page, app_url)
    page.context.set_offline(True)
    page.reload()
    page.wait_for_function(PYTHON_READY, timeout=120_000)
    page.get_by_role("button", name="Recorded · calendar arithmetic").click()
    page.wait_for_selector(".run[data-status]", timeout=30_000)
    assert page.locator(".run").get_attribute("data-status") == "finished"
