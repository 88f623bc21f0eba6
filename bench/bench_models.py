"""Model-layer figures, in the real page's agent worker against the scripted model server on loopback.

- stream_first_delta_overhead_ms: from the server's write of the first delta to the first TextDelta in Python
  (fetch -> ReadableStream -> FetchTransport -> httpx -> SSE parser -> event), minus the same span for a bare JS
  fetch reader in the same worker and run (its first reader.read()). Trials alternate Python / JS; medians of 25.
  The server stamps time.time() just before the write; the worker stamps performance.timeOrigin + now(): the clock
  offset cancels in the difference.
- stream_throughput_deltas_per_s: a 5,000-delta SSE reply written as fast as the server can, counted from the first
  delta to the last in Python (median of 5).
- stream_first_delta_python_ms / stream_first_delta_js_ms: the two medians behind the overhead, for context.

    python -m bench.run --only models
"""

from __future__ import annotations

import json
import statistics
from typing import Any

from tests.servers.model_server import ModelServer

TRIALS = 25
THROUGHPUT_RUNS = 5
THROUGHPUT_DELTAS = 5000

_WORKER_CODE = """
import json, time
from pyodide.code import run_js
from agent_py.models import ModelClient, ModelConfig, TextDelta, FinishEvent

ORIGIN_MS = float(run_js("performance.timeOrigin"))  # perf_counter() is performance.now() in Pyodide
def epoch_ms():
    return ORIGIN_MS + time.perf_counter() * 1000

bare_reader = run_js('''(async (url, body) => {
  const response = await fetch(url, {method: "POST", headers: {"content-type": "application/json",
                                      "authorization": "Bearer bench"}, body});
  const reader = response.body.getReader();
  await reader.read();
  const first = performance.timeOrigin + performance.now();
  while (!(await reader.read()).done) {}
  return first;
})''')

client = ModelClient(ModelConfig(base_url=BASE + "/v1", model="bench", api_key="bench", max_retries=0))
messages = [{"role": "user", "content": "bench"}]
body = json.dumps({"model": "bench", "messages": messages, "stream": True})

async def python_first_delta():
    first = None
    async for event in client.stream(messages):
        if first is None and isinstance(event, TextDelta):
            first = epoch_ms()
    return first

async def throughput():
    first = last = None
    count = 0
    async for event in client.stream(messages):
        if isinstance(event, TextDelta):
            last = time.perf_counter()
            first = first or last
            count += 1
    return count, last - first
"""


def _run_py(page: Any, code: str) -> Any:
    return json.loads(page.evaluate("code => window.codeact.agent.execPython(code)", code))


def run(browser: Any, base_url: str) -> dict[str, float]:
    page = browser.new_page()
    with ModelServer() as server:
        try:
            page.goto(base_url)
            page.wait_for_function("window.codeact && document.body.dataset.pythonReady === 'true'", timeout=120_000)
            _run_py(page, f"BASE = {server.url!r}\n{_WORKER_CODE}\njson.dumps(None)")

            # Warm-up: first-call costs (imports, preflight, connection) are not what the figure is about.
            reply = {"deltas": ["a", "b", "c"], "first_delta_delay_s": 0.02}
            server.enqueue(reply, reply)
            _run_py(page, "await python_first_delta()\nawait bare_reader(BASE + '/v1/chat/completions', body)\n"
                          "json.dumps(None)")
            server.reset()
            server.enqueue(*[reply] * (2 * TRIALS))
            stamps = _run_py(page, f"""
out = []
for _ in range({TRIALS}):
    out.append(await python_first_delta())
    out.append(await bare_reader(BASE + '/v1/chat/completions', body))
json.dumps(out)""")
            sent = [r.first_body_at * 1000 for r in server.chat_requests()]
            spans = [stamp - at for stamp, at in zip(stamps, sent, strict=True)]
            python_ms = statistics.median(spans[0::2])
            js_ms = statistics.median(spans[1::2])

            big = {"deltas": ["tok "] * THROUGHPUT_DELTAS, "deltas_per_write": 50}
            server.reset()
            server.enqueue(*[big] * THROUGHPUT_RUNS)
            runs = _run_py(page, f"json.dumps([await throughput() for _ in range({THROUGHPUT_RUNS})])")
            assert all(count == THROUGHPUT_DELTAS for count, _ in runs), runs
            rate = statistics.median(count / seconds for count, seconds in runs)
        finally:
            page.close()
    return {
        "stream_first_delta_overhead_ms": python_ms - js_ms,
        "stream_first_delta_python_ms": python_ms,
        "stream_first_delta_js_ms": js_ms,
        "stream_throughput_deltas_per_s": rate,
    }


if __name__ == "__main__":
    from playwright.sync_api import sync_playwright

    from codeact_host.build import build
    from codeact_host.paths import REPO_ROOT
    from codeact_host.server import serving
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    build()
    with serving(REPO_ROOT) as url, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        print(json.dumps(run(chromium, url), indent=2))
        chromium.close()
