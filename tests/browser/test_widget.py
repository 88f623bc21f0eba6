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
    ratePerMinute: 5,
    handler: async ({ tea }) => {
      window.calls.push("highlight_row:" + tea);
      const row = rows().find((tr) => tr.cells[0].textContent === tea);
      if (!row) throw new Error("no tea named " + tea);
      row.classList.add("highlight");
      return { highlighted: tea };
    },
  });
"""


def host_page(app_url: str, model_url: str, *, widgets: int = 1, policy: str = "ask") -> str:
    tags = "\n".join(
        f'<codeact-agent id="{"ab"[i]}" preset="ollama" base-url="{model_url}" model="scripted-model"></codeact-agent>'
        for i in range(widgets))
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>shop</title>
<script type="module" src="{app_url}static/widget.js"></script></head><body>
<table id="prices"><tbody><tr><td>Sencha</td><td>12.5</td></tr><tr><td>Rooibos</td><td>7.4</td></tr></tbody></table>
{tags}
<script>window.HIGHLIGHT_POLICY = {json.dumps(policy)};</script>
<script type="module">
  await customElements.whenDefined("codeact-agent");
  {HOST_SCRIPT}
  window.hostReady = true;
</script></body></html>"""


@pytest.fixture(scope="module")
def host_server() -> Iterator[HostServer]:
    with HostServer() as server:
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
