"""The embeddable widget (static/widget.js) on a host page of another loopback origin, with real runs.

The app (the widget's iframe) is served by `app_url` on http://127.0.0.1:<port>; the host page by HostServer on
http://localhost:<other port>. The model is the scripted server (tests/servers/model_server.py); the code the
model writes really runs in the sandbox, and its host tool calls really travel sandbox -> worker -> widget page ->
host page and back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.servers.host_server import HostServer

pytestmark = pytest.mark.browser

HOST_SCRIPT = """
  window.events = [];
  window.calls = [];
  window.errors = [];
  for (const agent of document.querySelectorAll("codeact-agent")) {
    agent.addEventListener("codeact-event", (e) => window.events.push({ widget: agent.id, ...e.detail }));
    agent.addEventListener("codeact-error", (e) => window.errors.push({ widget: agent.id, ...e.detail }));
  }
  const agent = document.getElementById("a");
  const rows = () => [...document.querySelectorAll("#prices tbody tr")];
  agent.registerTool({
    name: "read_prices",
    description: "The tea price table on this page, as a list of {tea, price_eur}.",
    parameters: { type: "object", properties: {} },
    policy: "allow",
    handler: async () => {
      window.calls.push("read_prices");
      return rows().map((tr) => ({ tea: tr.cells[0].textContent, price_eur: Number(tr.cells[1].textContent) }));
    },
  });
  agent.registerTool({
    name: "highlight_row",
    description: "Highlight the row of one tea.",
    parameters: { type: "object", properties: { tea: { type: "string" } }, required: ["tea"] },
    policy: window.HIGHLIGHT_POLICY ?? "ask",
    ratePerMinute: window.HIGHLIGHT_RATE,
    handler: async ({ tea }) => {
      window.calls.push("highlight_row:" + tea);
      const row = rows().find((tr) => tr.cells[0].textContent === tea);
      if (!row) throw new Error("no tea named " + tea);
      row.classList.add("highlight");
      return { highlighted: tea };
    },
  });
"""


def host_page(app_url: str, model_url: str, *, widgets: int = 1, policy: str = "ask", rate: int = 5) -> str:
    tags = "\n".join(
        f'<codeact-agent id="{"ab"[i]}" preset="ollama" base-url="{model_url}" model="scripted-model"></codeact-agent>'
        for i in range(widgets))
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>shop</title>
<script>
  // A curious host keeps every shadow root, closed ones too (test_widget_security reads the widget's through it).
  window.shadowRoots = [];
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {{
    const root = attach.call(this, init);
    window.shadowRoots.push(root);
    return root;
  }};
</script>
<script type="module" src="{app_url}static/widget.js"></script></head><body>
<table id="prices"><tbody><tr><td>Sencha</td><td>12.5</td></tr><tr><td>Rooibos</td><td>7.4</td></tr></tbody></table>
{tags}
<script>window.HIGHLIGHT_POLICY = {json.dumps(policy)}; window.HIGHLIGHT_RATE = {rate};</script>
<script type="module">
  await customElements.whenDefined("codeact-agent");
  {HOST_SCRIPT}
  window.hostReady = true;
</script></body></html>"""


@pytest.fixture(scope="module")
def host_server() -> Iterator[HostServer]:
    with HostServer() as server:
        yield server


@pytest.fixture(scope="module")
def isolated_host_server() -> Iterator[HostServer]:
    with HostServer(isolation=True) as server:
        yield server


def open_host(page, host_server, app_url, model_server, **kwargs):  # noqa: ANN001, ANN201
    host_server.pages["/shop.html"] = host_page(app_url, model_server.url, **kwargs)
    page.goto(host_server.url + "/shop.html")
    page.wait_for_function("window.hostReady === true")
    page.wait_for_function("document.getElementById('a').ready.then(() => true)", timeout=120_000)
    return page


def widget_frame(page, index: int = 0):  # noqa: ANN001, ANN201
    frames = [f for f in page.frames if "embed=1" in f.url]
    return frames[index]


def wait_for_event(page, kind: str, widget: str = "a", timeout: int = 60_000) -> dict:  # noqa: ANN001
    handle = page.wait_for_function(
        "([kind, widget]) => window.events.find((e) => e.type === kind && e.widget === widget)",
        arg=[kind, widget], timeout=timeout)
    return handle.json_value()


CHEAPEST = ("The table is on the host page.\n```python\nrows = read_prices()\n"
            "best = min(rows, key=lambda r: r['price_eur'])\nprint(best)\nfinal_answer(best['tea'])\n```")


def test_embedded_widget_runs_with_a_host_tool(page, app_url, model_server, host_server) -> None:
    open_host(page, host_server, app_url, model_server)
    frame = widget_frame(page)
    assert frame.url.startswith(app_url)
    assert host_server.url.startswith("http://localhost:")
    # The real UI, compact, and the host not cross-origin isolated: the widget uses the non-SAB fallback.
    assert frame.evaluate("document.body.classList.contains('embed') && !!document.getElementById('composer')")
    assert frame.evaluate("crossOriginIsolated") is False
    model_server.enqueue(CHEAPEST)
    run_id = page.evaluate("document.getElementById('a').start('Which tea is cheapest?')")
    final = wait_for_event(page, "FinalAnswer")
    assert final["run_id"] == run_id
    assert final["value"] == "Rooibos"
    assert page.evaluate("window.calls") == ["read_prices"]
    started = wait_for_event(page, "RunStarted")
    assert "settings" not in started
    finished = wait_for_event(page, "RunFinished")
    assert finished["status"] == "finished"
    # The model saw the host tool in its prompt, typed.
    [request] = model_server.chat_requests()
    assert "def read_prices(" in json.dumps(request.json)


def test_a_cross_origin_isolated_host_gets_blocking_host_tools(page, app_url, model_server,
                                                                 isolated_host_server) -> None:
    open_host(page, isolated_host_server, app_url, model_server)
    assert page.evaluate("crossOriginIsolated") is True
    frame = widget_frame(page)
    # The widget iframe (allow="cross-origin-isolated") and its opaque sandbox frame inside it are isolated too:
    # host tools are plain blocking calls there (SharedArrayBuffer + Atomics.wait), no rewrite to awaits.
    assert frame.evaluate("crossOriginIsolated") is True
    assert frame.evaluate("window.codeact.ready.then((info) => info.crossOriginIsolated)") is True
    model_server.enqueue(CHEAPEST)
    page.evaluate("document.getElementById('a').start('Which tea is cheapest?')")
    assert wait_for_event(page, "FinalAnswer")["value"] == "Rooibos"
    assert page.evaluate("window.calls") == ["read_prices"]


def _approval(page):  # noqa: ANN001, ANN202
    dialog = widget_frame(page).locator("dialog.approval")
    dialog.wait_for(timeout=60_000)
    return dialog


ASK_ROOIBOS = ("```python\ntry:\n    r = highlight_row(tea='Rooibos')\nexcept ToolDenied as e:\n"
               "    r = 'denied: ' + str(e)\nfinal_answer(r)\n```")


def test_ask_policy_runs_the_tool_only_after_the_widget_user_allows(page, app_url, model_server, host_server) -> None:
    open_host(page, host_server, app_url, model_server, policy="ask")
    model_server.enqueue(ASK_ROOIBOS)
    page.evaluate("document.getElementById('a').start('Highlight the cheapest tea')")
    dialog = _approval(page)
    assert "highlight_row" in dialog.inner_text() and host_server.url in dialog.inner_text()
    assert page.evaluate("window.calls") == []  # nothing ran before the answer
    dialog.get_by_role("button", name="Allow").click()
    assert wait_for_event(page, "FinalAnswer")["value"] == {"highlighted": "Rooibos"}
    assert page.evaluate("window.calls") == ["highlight_row:Rooibos"]
    assert page.locator("tr.highlight").inner_text().startswith("Rooibos")
    # The step says which host tool ran, with its arguments.
    call = wait_for_event(page, "ToolCall")
    assert call["tool"] == "highlight_row" and call["arguments"] == {"tea": "Rooibos"} and call["ok"] is True


def test_ask_policy_denied_by_the_user_is_a_tool_denied_in_the_sandbox(page, app_url, model_server,
                                                                       host_server) -> None:
    open_host(page, host_server, app_url, model_server, policy="ask")
    model_server.enqueue(ASK_ROOIBOS)
    page.evaluate("document.getElementById('a').start('Highlight the cheapest tea')")
    _approval(page).get_by_role("button", name="Deny").click()
    value = wait_for_event(page, "FinalAnswer")["value"]
    assert value.startswith("denied: ") and "did not approve highlight_row" in value
    assert page.evaluate("window.calls") == []
    assert page.locator("tr.highlight").count() == 0


def test_deny_policy_and_rate_cap(page, app_url, model_server, host_server) -> None:
    open_host(page, host_server, app_url, model_server, policy="deny")
    model_server.enqueue(ASK_ROOIBOS)
    page.evaluate("document.getElementById('a').start('Highlight the cheapest tea')")
    value = wait_for_event(page, "FinalAnswer")["value"]
    assert value.startswith("denied: ") and "denied by its policy" in value
    assert widget_frame(page).locator("dialog.approval").count() == 0  # deny never asks
    assert page.evaluate("window.calls") == []


def test_rate_cap_refuses_calls_over_the_limit(page, app_url, model_server, host_server) -> None:
    open_host(page, host_server, app_url, model_server, policy="allow", rate=2)
    model_server.enqueue("```python\nout = []\nfor tea in ['Sencha', 'Rooibos', 'Sencha']:\n    try:\n"
                         "        out.append(highlight_row(tea=tea)['highlighted'])\n    except ToolDenied as e:\n"
                         "        out.append('denied')\nfinal_answer(out)\n```")
    page.evaluate("document.getElementById('a').start('Highlight three times')")
    assert wait_for_event(page, "FinalAnswer")["value"] == ["Sencha", "Rooibos", "denied"]
    assert page.evaluate("window.calls") == ["highlight_row:Sencha", "highlight_row:Rooibos"]


def test_a_failing_host_tool_is_a_typed_tool_error(page, app_url, model_server, host_server) -> None:
    open_host(page, host_server, app_url, model_server, policy="allow")
    model_server.enqueue("```python\ntry:\n    highlight_row(tea='Matcha')\nexcept ToolError as e:\n"
                         "    final_answer(type(e).__name__ + ': ' + str(e))\n```")
    page.evaluate("document.getElementById('a').start('Highlight Matcha')")
    value = wait_for_event(page, "FinalAnswer")["value"]
    assert value.startswith("ToolError: ") and "no tea named Matcha" in value


def test_the_host_stops_a_run_it_started(page, app_url, model_server, host_server) -> None:
    open_host(page, host_server, app_url, model_server)
    model_server.configure(chunk_chars=4, chunk_delay_s=0.2)
    model_server.enqueue("Thinking very slowly about this. " * 40)
    run_id = page.evaluate("document.getElementById('a').start('Take your time')")
    wait_for_event(page, "RunStarted")
    page.evaluate("(id) => document.getElementById('a').stop(id)", run_id)
    finished = wait_for_event(page, "RunFinished")
    assert finished["run_id"] == run_id and finished["status"] == "cancelled"


def test_stopping_a_run_while_it_waits_for_approval_never_calls_the_tool(page, app_url, model_server,
                                                                       host_server) -> None:
    open_host(page, host_server, app_url, model_server, policy="ask")
    model_server.enqueue(ASK_ROOIBOS)
    run_id = page.evaluate("document.getElementById('a').start('Highlight the cheapest tea')")
    dialog = _approval(page)
    page.evaluate("(id) => document.getElementById('a').stop(id)", run_id)
    assert wait_for_event(page, "RunFinished")["status"] == "cancelled"
    dialog.wait_for(state="detached")  # the question went with its run
    assert page.evaluate("window.calls") == []


def test_a_widget_moved_in_the_page_reconnects_with_its_tools(page, app_url, model_server, host_server) -> None:
    open_host(page, host_server, app_url, model_server)
    page.evaluate("document.body.append(document.getElementById('a'))")  # the iframe reloads
    page.wait_for_function("document.getElementById('a').ready.then(() => true)", timeout=120_000)
    model_server.enqueue("```python\nfinal_answer(len(read_prices()))\n```")
    page.evaluate("document.getElementById('a').start('How many teas?')")
    assert wait_for_event(page, "FinalAnswer")["value"] == 2
