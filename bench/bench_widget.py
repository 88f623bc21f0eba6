"""Widget figures: the embedded agent on a host page of another loopback origin (tests/servers/host_server.py).

    widget_ready_ms                 host page navigation -> the widget's `ready` (Python booted in its iframe),
                                    fresh browser context (cold caches) each time
    widget_host_tool_call_ms        one host tool call from sandboxed code and back (sandbox -> agent worker ->
                                    widget page -> host page handler -> back), host page not cross-origin isolated
                                    (tools are awaited); mean of CALLS calls in one cell, timed in the sandbox
    widget_host_tool_call_isolated_ms   the same with a cross-origin isolated host (blocking calls over SAB)
Medians of `reps` runs. Run alone: `python -m bench.run --only widget --out /tmp/widget.json`.
"""

from __future__ import annotations

import statistics
import time

from tests.browser.test_widget import host_page
from tests.servers.host_server import HostServer
from tests.servers.model_server import ModelServer

CALLS = 50
CELL = (f"```python\nimport time\nt = time.ticks_ms()\nfor _ in range({CALLS}):\n    read_prices()\n"
        f"final_answer(time.ticks_diff(time.ticks_ms(), t) / {CALLS})\n```")


def _one(browser, base_url: str, host: HostServer, model: ModelServer) -> tuple[float, float]:  # noqa: ANN001
    context = browser.new_context()
    page = context.new_page()
    host.pages["/bench.html"] = host_page(base_url, model.url, policy="allow")
    started = time.monotonic()
    page.goto(host.url + "/bench.html")
    page.wait_for_function("window.hostReady === true")
    page.wait_for_function("document.getElementById('a').ready.then(() => true)", timeout=180_000)
    ready_ms = (time.monotonic() - started) * 1000
    model.enqueue(CELL)
    page.evaluate("document.getElementById('a').start('bench')")
    answer = page.wait_for_function(
        "window.events.find((e) => e.type === 'FinalAnswer' || e.type === 'RunError')", timeout=180_000).json_value()
    context.close()
    if answer["type"] != "FinalAnswer":
        raise AssertionError(f"the bench run failed: {answer}")
    return ready_ms, float(answer["value"])


def run(browser, base_url: str, reps: int = 3) -> dict[str, float]:  # noqa: ANN001
    figures: dict[str, float] = {}
    with ModelServer() as model, HostServer() as plain, HostServer(isolation=True) as isolated:
        ready, plain_calls = zip(*(_one(browser, base_url, plain, model) for _ in range(reps)), strict=True)
        isolated_calls = [_one(browser, base_url, isolated, model)[1] for _ in range(reps)]
    figures["widget_ready_ms"] = statistics.median(ready)
    figures["widget_host_tool_call_ms"] = statistics.median(plain_calls)
    figures["widget_host_tool_call_isolated_ms"] = statistics.median(isolated_calls)
    return figures
