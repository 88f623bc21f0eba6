"""The page boots Python offline: shell first, then Pyodide in a worker with agent_py imported."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_page_boots_python_with_no_external_request(ready_page) -> None:
    info = ready_page.evaluate("window.codeact.ready")
    assert info["version"]
    assert info["crossOriginIsolated"] is True
    # The progress bar reached its end and the label says so.
    assert ready_page.locator("#boot").inner_text().startswith("Python ready")


def test_python_runs_in_the_agent_worker_not_the_page(ready_page) -> None:
    result = ready_page.evaluate(
        "window.codeact.agent.execPython('import sys, js\\n[sys.platform, js.WorkerGlobalScope is not None, 6 * 7]')"
    )
    assert result == ["emscripten", True, 42]
    # The main thread has no Pyodide of its own.
    assert ready_page.evaluate("typeof window.loadPyodide") == "undefined"


def test_shipped_wheels_import_without_network(ready_page) -> None:
    value = ready_page.evaluate(
        "window.codeact.agent.execPython('import httpx, anyio, idna, certifi, h11, httpcore\\nhttpx.__version__')"
    )
    assert value == "0.28.1"


def test_boot_fails_loudly_when_a_package_is_missing(page, app_url) -> None:
    """A wheel that 404s must fail the boot with its name, not log and continue."""
    page.route("**/agent_py-*.whl", lambda route: route.fulfill(status=404, body="gone"))
    page.goto(app_url)
    page.wait_for_function("document.getElementById('boot').dataset.state === 'error'", timeout=60_000)
    assert "failed" in page.locator("#boot").inner_text().lower()


def test_plain_static_host_boots_without_isolation(page, app_url_plain) -> None:
    page.goto(app_url_plain)
    page.wait_for_function("document.body.dataset.pythonReady === 'true'", timeout=60_000)
    assert page.evaluate("window.codeact.ready")["crossOriginIsolated"] is False


def test_static_dist_boots_on_a_host_without_headers(page, dist_url) -> None:
    page.goto(dist_url)
    page.wait_for_function("document.body.dataset.pythonReady === 'true'", timeout=60_000)
    assert page.evaluate("window.codeact.agent.execPython('2 ** 10')") == 1024


SNAPSHOT_COUNT = """async () => (await (await caches.open('codeact-pyodide-snapshot')).keys()).length"""


def wait_for_snapshot(page, timeout_s: float = 60) -> None:
    """The snapshot is saved in the background after boot; poll Cache Storage (an async predicate can't be
    given to wait_for_function: its promise is truthy at once)."""
    for _ in range(int(timeout_s * 5)):
        if page.evaluate(SNAPSHOT_COUNT) == 1:
            return
        page.wait_for_timeout(200)
    raise AssertionError("no Python snapshot was stored")


def test_second_visit_restores_a_memory_snapshot_with_the_model_layer_imported(ready_page, app_url) -> None:
    wait_for_snapshot(ready_page)
    first = ready_page.evaluate("window.codeact.ready")
    assert "snapshot" not in first["timings"] or first["timings"]["snapshot"] != "restored"
    ready_page.reload()
    ready_page.wait_for_function("document.body.dataset.pythonReady === 'true'", timeout=60_000)
    second = ready_page.evaluate("window.codeact.ready")
    assert second["timings"].get("snapshot") == "restored", ready_page.console_messages
    # The restored interpreter is whole: httpx is already imported and fresh code runs.
    assert ready_page.evaluate(
        "window.codeact.agent.execPython('import sys\\n[\"httpx\" in sys.modules, sum(range(10))]')"
    ) == [True, 45]
    # A snapshot holds the heap, not the file system: modules first imported after the restore still import.
    assert ready_page.evaluate(
        "window.codeact.agent.execPython('import agent_py.settings, agent_py.models.client\\n\"ok\"')"
    ) == "ok"


def test_a_corrupt_snapshot_falls_back_to_a_normal_boot(ready_page) -> None:
    wait_for_snapshot(ready_page)
    ready_page.evaluate("""async () => {
      const cache = await caches.open('codeact-pyodide-snapshot');
      const [key] = await cache.keys();
      await cache.put(key, new Response(new Uint8Array(1024).fill(7)));
    }""")
    ready_page.reload()
    ready_page.wait_for_function("document.body.dataset.pythonReady === 'true'", timeout=60_000)
    assert ready_page.evaluate("window.codeact.ready")["timings"].get("snapshot") != "restored"
    assert ready_page.evaluate("window.codeact.agent.execPython('6 * 7')") == 42


JS_GETTERS = """
import js
[str(js.location.origin) == str(js.self.origin), js.performance.now() > 0, bool(js.crossOriginIsolated)]
"""


def test_python_sees_the_real_worker_globals_after_cold_and_warm_boots(ready_page) -> None:
    """A snapshot-capable boot gives Python a recording proxy whose getters throw; the worker swaps it out."""
    assert ready_page.evaluate("(code) => window.codeact.agent.execPython(code)", JS_GETTERS) == [True, True, True]
    wait_for_snapshot(ready_page)
    ready_page.reload()
    ready_page.wait_for_function("document.body.dataset.pythonReady === 'true'", timeout=60_000)
    assert ready_page.evaluate("window.codeact.ready")["timings"].get("snapshot") == "restored"
    assert ready_page.evaluate("(code) => window.codeact.agent.execPython(code)", JS_GETTERS) == [True, True, True]
