"""The widget's channel and isolation under attack: forged messages from the host side and from the sandbox frame,
two widgets on one page, and a host page trying to read the widget's storage (SECURITY-CASES 24).

The host page is on http://localhost:<port> (HostServer), the widget on http://127.0.0.1:<port> (app_url).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.test_widget import host_page, open_host, wait_for_event, widget_frame
from tests.servers.host_server import HostServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def host_server() -> Iterator[HostServer]:
    with HostServer() as server:
        yield server


def raw_host_page(app_url: str, host_param: str) -> str:
    """A host that speaks the protocol by hand (no widget.js), to send what widget.js never would."""
    src = f"{app_url}index.html?embed=1&host={host_param}&instance=raw"
    return f"""<!doctype html><html><body>
<iframe id="w" src="{src}" style="width:600px;height:400px"></iframe>
<script>
  window.received = [];
  window.hellos = 0;
  const frame = document.getElementById("w");
  window.connect = () => {{
    const channel = new MessageChannel();
    window.port = channel.port1;
    channel.port1.onmessage = (e) => window.received.push(e.data);
    frame.contentWindow.postMessage({{ type: "codeact:connect" }}, "*", [channel.port2]);
  }};
  window.addEventListener("message", (e) => {{
    if (e.data?.type === "codeact:hello") {{ window.hellos += 1; window.connect(); }}
  }});
  window.send = (m) => window.port.postMessage(m);
  window.errors = () => window.received.filter((m) => m.type === "error").map((m) => m.message);
</script></body></html>"""


def _raw_widget(page, host_server, app_url, host_param):  # noqa: ANN001, ANN202
    host_server.pages["/raw.html"] = raw_host_page(app_url, host_param)
    page.goto(host_server.url + "/raw.html")
    page.wait_for_function("[...document.querySelectorAll('iframe')].length === 1")
    frame = widget_frame(page)
    frame.wait_for_function("window.codeact?.embed !== undefined", timeout=60_000)
    return frame


def test_forged_host_messages_are_refused(page, app_url, host_server) -> None:
    frame = _raw_widget(page, host_server, app_url, host_server.url)
    page.wait_for_function("window.received.some((m) => m.type === 'ready')", timeout=120_000)
    forged = [
        ({"type": "nope"}, "unknown host message type"),
        ("just a string", "must be an object with a type"),
        ({"type": "start", "requestId": "r1"}, "start needs a non-empty task"),
        ({"type": "start", "task": "hi"}, "start needs a requestId"),
        ({"type": "stop", "runId": "not-a-run-of-mine"}, "unknown run id not-a-run-of-mine"),
        ({"type": "tool-result", "callId": "forged-call", "ok": True, "value": 1}, "unknown call id forged-call"),
        ({"type": "tool-result", "callId": "c", "ok": False}, "a failed tool-result needs an error string"),
        ({"type": "register-tools", "tools": [{"name": "drop table"}]}, "must be a Python identifier"),
        ({"type": "register-tools", "tools": [{"name": "t", "policy": "sometimes"}]}, "policy must be allow, ask"),
        ({"type": "register-tools", "tools": [{"name": "show_table"}]}, "show_table is a built-in tool's name"),
        ({"type": "register-tools", "tools": [{"name": "final_answer"}]}, "final_answer is reserved"),
        ({"type": "register-tools", "tools": [{"name": "_hidden"}]}, "must be a Python identifier"),
        ({"type": "register-tools", "tools": [{"name": "big", "description": "x" * 3000,
                                                "parameters": {"type": "object", "padding": "y" * 1_100_000}}]},
         "over the 1000000-byte limit"),
    ]
    for message, _ in forged:
        page.evaluate("(m) => window.send(m)", message)
    page.wait_for_function("(n) => window.errors().length >= n", arg=len(forged))
    errors = page.evaluate("window.errors()")
    for (_, expected), error in zip(forged, errors, strict=True):
        assert expected in error, (expected, error)
    # None of it took: no tools, no run.
    assert frame.evaluate("window.codeact.embed.bridge.tools") == []
    assert frame.evaluate("document.body.dataset.running") != "true"
    # A second connect (a hijack attempt with a fresh port) from the right parent and origin is refused too.
    page.evaluate("window.connect()")
    frame.wait_for_function("window.codeact.embed.bridge.rejected.includes('a second connect')")


def test_a_host_of_another_origin_gets_no_hello_and_cannot_connect(page, app_url, host_server) -> None:
    # The widget is told its host is http://127.0.0.1:<host port>; the page framing it is http://localhost:<port>.
    configured = host_server.url.replace("localhost", "127.0.0.1")
    frame = _raw_widget(page, host_server, app_url, configured)
    page.evaluate("window.connect()")  # without a hello: a guess
    frame.wait_for_function("window.codeact.embed.bridge.rejected.length > 0")
    assert frame.evaluate("window.codeact.embed.bridge.rejected") == [
        f"connect from {host_server.url}, not {configured}"]
    assert page.evaluate("window.hellos") == 0  # the hello was addressed to the configured origin only
    assert frame.evaluate("window.codeact.embed.bridge.connected") is False


def test_a_widget_without_a_valid_host_opens_no_channel(page, app_url, host_server) -> None:
    frame = _raw_widget(page, host_server, app_url, "javascript:alert(1)")
    assert frame.evaluate("window.codeact.embed") is None
    assert frame.evaluate("document.body.classList.contains('embed')") is True


def test_forged_messages_from_the_sandbox_frame_are_ignored(page, app_url, model_server, host_server) -> None:
    open_host(page, host_server, app_url, model_server)
    widget = widget_frame(page)
    widget.wait_for_function("window.codeact.embed.bridge.connected")
    sandbox = next(f for f in page.frames if f.parent_frame == widget and f.name == "codeact-sandbox")
    # As if model code had escaped into the sandbox frame's JS: it can reach its parent (the widget) and the top
    # window (the host), and tries the handshake and the protocol on both.
    sandbox.evaluate("""() => {
      const fake = new MessageChannel();
      fake.port1.onmessage = (e) => { window.__leaked = e.data; };
      parent.postMessage({ type: "codeact:connect" }, "*", [fake.port2]);
      top.postMessage({ type: "codeact:hello" }, "*");
      top.postMessage({ type: "tool-call", callId: "x", runId: "r", name: "read_prices", arguments: {} }, "*");
      top.postMessage({ type: "ready", version: "forged" }, "*");
    }""")
    widget.wait_for_function(
        "window.codeact.embed.bridge.rejected.includes('connect from a window that is not the parent')")
    assert "a second connect" not in widget.evaluate("window.codeact.embed.bridge.rejected")
    assert page.evaluate("window.calls") == []
    assert sandbox.evaluate("window.__leaked ?? null") is None
    # The real channel still works: a run with a host tool goes through.
    model_server.enqueue("```python\nfinal_answer(len(read_prices()))\n```")
    page.evaluate("document.getElementById('a').start('How many teas?')")
    assert wait_for_event(page, "FinalAnswer")["value"] == 2


def test_two_widgets_share_no_tools_sandboxes_memories_or_keys(storage_page, app_url, model_server,
                                                              host_server) -> None:
    """Both widgets are one origin in one storage partition: only the scoped names keep them apart."""
    page = storage_page
    open_host(page, host_server, app_url, model_server, widgets=2)
    page.wait_for_function("document.getElementById('b').ready.then(() => true)", timeout=120_000)
    a, b = widget_frame(page, 0), widget_frame(page, 1)
    assert a.url.endswith("instance=1") and b.url.endswith("instance=2")
    # Keys: saved (remembered) in widget a, absent from widget b, also after b reloads from storage.
    a.evaluate(SAVE_KEY, "sk-only-in-a")
    assert a.evaluate("window.codeact.settings.current().apiKey") == "sk-only-in-a"
    assert a.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('codeact.apiKey'))") == [
        f"codeact.apiKey@embed:{host_server.url}#1"]
    assert b.evaluate("window.codeact.settings.current().apiKey") == ""
    # Sandboxes: each widget has its own opaque sandbox frame.
    assert len([f for f in page.frames if f.parent_frame == a and f.name == "codeact-sandbox"]) == 1
    assert len([f for f in page.frames if f.parent_frame == b and f.name == "codeact-sandbox"]) == 1
    # Memories: a name defined by widget a's run does not exist in widget b's; b has none of a's host tools.
    model_server.enqueue("```python\nsecret_total = 41 + 1\nfinal_answer(secret_total)\n```")
    page.evaluate("document.getElementById('a').start('Remember 42')")
    assert wait_for_event(page, "FinalAnswer", "a")["value"] == 42
    model_server.enqueue("```python\nfound = []\nfor name in ['secret_total', 'read_prices']:\n    try:\n"
                         "        eval(name)\n        found.append(name)\n    except NameError:\n        pass\n"
                         "final_answer(found)\n```")
    page.evaluate("document.getElementById('b').start('What do you know?')")
    assert wait_for_event(page, "FinalAnswer", "b")["value"] == []
    # Each widget's history holds only its own run.
    a_tasks = a.evaluate("window.codeact.ui.store.then((s) => s.listRuns()).then((runs) => runs.map((r) => r.task))")
    b_tasks = b.evaluate("window.codeact.ui.store.then((s) => s.listRuns()).then((runs) => runs.map((r) => r.task))")
    assert a_tasks == ["Remember 42"] and b_tasks == ["What do you know?"]
    # And the host heard each run from its own widget only.
    runs = page.evaluate("window.events.filter((e) => e.type === 'RunStarted').map((e) => [e.widget, e.task])")
    assert sorted(runs) == [["a", "Remember 42"], ["b", "What do you know?"]]


# What a hostile host page tries: the shadow root is closed, but the host owns its page and took the root anyway
# (test_widget.host_page patches attachShadow before widget.js loads); the origin is the boundary that holds.
HOST_PROBE = """async () => {
  const attempt = (fn) => { try { return String(fn()); } catch (err) { return err.name; } };
  const agent = document.getElementById('a');
  const frame = window.shadowRoots[0].querySelector('iframe').contentWindow;
  return {
    shadow: String(agent.shadowRoot),
    frameStorage: attempt(() => frame.localStorage.length),
    frameDocument: attempt(() => frame.document.body.innerHTML),
    frameIndexedDb: attempt(() => frame.indexedDB),
    ownStorage: JSON.stringify(Object.keys(localStorage)) + JSON.stringify(Object.keys(sessionStorage)),
    ownDatabases: JSON.stringify((await indexedDB.databases()).map((d) => d.name)),
  };
}"""
HOST_SEES = {"shadow": "null", "frameStorage": "SecurityError", "frameDocument": "SecurityError",
             "frameIndexedDb": "SecurityError", "ownStorage": "[][]", "ownDatabases": "[]"}
# Chromium 156 blocks third-party storage by default (third-party cookie deprecation); these turn it back on, as a
# browser that allows it (or a user who allows it for the site) does.
ALLOW_THIRD_PARTY_STORAGE = ("--disable-features=TrackingProtection3pcd,ThirdPartyCookieDeprecationTrial,"
                             "BlockThirdPartyCookies")
SAVE_KEY = """(key) => {
  const form = document.querySelector('#settings form');
  form.elements.apiKey.value = key;
  form.elements.remember.checked = true;
  form.requestSubmit(form.querySelector('button[value=save]'));
}"""


def _run_one(page, model_server) -> None:  # noqa: ANN001
    model_server.enqueue("```python\nfinal_answer(1)\n```")
    page.evaluate("document.getElementById('a').start('One')")
    wait_for_event(page, "RunFinished")


@pytest.fixture
def storage_page(browser_type, tmp_path):  # noqa: ANN001, ANN201
    """A page in a browser profile that gives third-party iframes storage, behind the same offline guard."""
    from codeact_host.chromium import CHROMIUM, CHROMIUM_ARGS
    from tests.conftest import OfflineGuard

    context = browser_type.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                     args=[*CHROMIUM_ARGS, ALLOW_THIRD_PARTY_STORAGE], headless=True)
    guard = OfflineGuard()
    context.route("**/*", guard)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert not guard.violations, f"requests left 127.0.0.1: {guard.violations}"


def test_the_host_cannot_read_the_widgets_storage(storage_page, app_url, model_server, host_server) -> None:
    """Where the browser gives the widget's iframe storage, it holds the key and the history under names scoped to
    the host origin and instance, and the host page reaches none of it."""
    page = storage_page
    open_host(page, host_server, app_url, model_server)
    widget = widget_frame(page)
    widget.evaluate(SAVE_KEY, "sk-widget-secret")
    scope = f"@embed:{host_server.url}#1"
    widget.wait_for_function("(name) => localStorage.getItem(name) === 'sk-widget-secret'",
                             arg=f"codeact.apiKey{scope}")
    _run_one(page, model_server)
    widget.wait_for_function("(name) => indexedDB.databases().then((dbs) => dbs.some((d) => d.name === name))",
                             arg=f"codeact-history{scope}")
    assert page.evaluate(HOST_PROBE) == HOST_SEES
    assert "sk-widget-secret" not in json.dumps(page.evaluate("window.events"))


def test_with_third_party_storage_blocked_the_widget_keeps_state_in_memory(page, app_url, model_server,
                                                                             host_server) -> None:
    """Playwright's default context is incognito-like: Chromium blocks the iframe's storage. The widget still works
    (settings, key and history live in the frame's memory) and the host still reads nothing."""
    open_host(page, host_server, app_url, model_server)
    widget = widget_frame(page)
    assert widget.evaluate("(() => { try { localStorage; return 'open'; } catch (e) { return e.name; } })()") == \
        "SecurityError"
    widget.evaluate(SAVE_KEY, "sk-widget-secret")
    assert widget.evaluate("window.codeact.settings.current().apiKey") == "sk-widget-secret"
    _run_one(page, model_server)
    assert page.evaluate(HOST_PROBE) == HOST_SEES
    assert "sk-widget-secret" not in json.dumps(page.evaluate("window.events"))


def test_the_example_host_page_embeds_the_widget_with_two_tools(page, app_url, model_server, host_server) -> None:
    """examples/widget-host.html as shipped, its widget.js and model pointed at the loopback servers: the agent reads
    the table, the user approves the highlight in the widget, the page's log shows the run."""
    from codeact_host.paths import REPO_ROOT

    html = (REPO_ROOT / "examples" / "widget-host.html").read_text()
    assert html.count("../static/widget.js") == 1 and html.count('model="qwen2.5-coder:7b"') == 1
    host_server.pages["/example.html"] = html.replace("../static/widget.js", f"{app_url}static/widget.js").replace(
        'model="qwen2.5-coder:7b"', f'model="scripted-model" base-url="{model_server.url}"')
    page.goto(host_server.url + "/example.html")
    widget = widget_frame(page)
    widget.wait_for_function("window.codeact?.embed?.bridge.connected === true", timeout=60_000)
    assert sorted(t["name"] for t in widget.evaluate("window.codeact.embed.bridge.tools")) == [
        "highlight_row", "read_prices"]
    page.wait_for_function("document.getElementById('agent').ready.then(() => true)", timeout=120_000)
    model_server.enqueue("```python\nrows = read_prices()\nbest = min(rows, key=lambda r: r['price_eur'] / r['grams'])"
                         "\nhighlight_row(tea=best['tea'])\nfinal_answer(best['tea'])\n```")
    page.get_by_role("button", name="Which tea is cheapest per gram?").click()
    widget.locator("dialog.approval").get_by_role("button", name="Allow").click()
    expect(page.locator("#log")).to_contain_text('answer: "Rooibos"', timeout=60_000)
    expect(page.locator("tr.highlight")).to_contain_text("Rooibos")
    expect(page.locator("#log")).to_contain_text('highlight_row({"tea":"Rooibos"}) ok')


def test_options_reach_the_widget_settings_tools_and_task(page, app_url, model_server, host_server) -> None:
    html = host_page(app_url, model_server.url).replace(
        'model="scripted-model"', 'model="scripted-coder" theme="dark" tools="show_table" task="Count the teas"', 1)
    host_server.pages["/opts.html"] = html
    model_server.enqueue("```python\nfinal_answer(len(read_prices()))\n```")
    page.goto(host_server.url + "/opts.html")
    widget = widget_frame(page)
    widget.wait_for_function("window.codeact?.embed?.bridge.connected === true", timeout=60_000)
    widget.wait_for_function("window.codeact.settings.current().model === 'scripted-coder'")
    current = widget.evaluate("window.codeact.settings.current()")
    assert current["preset"] == "ollama" and current["baseUrl"] == model_server.url
    assert widget.evaluate("document.documentElement.dataset.theme") == "dark"
    assert widget.evaluate("window.codeact.embed.builtins()") == ["show_table"]
    # `task` starts once the agent is ready, with the model the attributes chose.
    assert wait_for_event(page, "FinalAnswer", timeout=120_000)["value"] == 2
    [request] = model_server.chat_requests()
    assert request.json["model"] == "scripted-coder"
