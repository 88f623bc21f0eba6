"""SECURITY-CASES 24, two tabs: two runs at once in two tabs of one browser profile (one origin, one storage) keep
their own sandboxes, memories and keys.

Each tab has its own model endpoint (two scripted servers), so replies cannot cross by way of a shared queue. Tab A
holds a secret in its sandbox's globals, then its cell waits on an "ask" tool call whose dialog the test answers
only after tab B's whole run has finished: the runs overlap by construction, not by timing. B looks for A's secret
from its model code; each endpoint hears only its own tab, with that tab's key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers.gateway_server import GatewayServer
from tests.servers.model_server import ModelServer

pytest_plugins = ["tests.servers.mcp_fixtures"]
pytestmark = pytest.mark.browser

READY = "window.codeact && document.body.dataset.pythonReady === 'true'"
START = """([task, settings]) => {
  window.__events = window.__events || [];
  const runId = window.codeact.agent.startRun(task, settings);
  window.codeact.agent.onEvent((e) => { if (e.run_id === runId) window.__events.push(e); });
  return runId;
}"""
FINISHED = "() => (window.__events || []).some(e => e.type === 'RunFinished')"


@pytest.fixture
def second_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


def block(code: str) -> str:
    return f"Next.\n```python\n{code}\n```"


def _open(context: Any, app_url: str) -> Any:
    tab = context.new_page()
    tab.goto(app_url)
    tab.wait_for_function(READY, timeout=120_000)
    return tab


def _settings(server: ModelServer, key: str) -> dict[str, Any]:
    return {"provider": "openai", "baseUrl": server.url + "/v1", "model": "scripted-model", "apiKey": key}


def _observations(tab: Any) -> list[dict[str, Any]]:
    return [e for e in tab.evaluate("window.__events") if e["type"] == "Observation"]


def test_two_tabs_run_at_once_with_separate_sandboxes_memories_and_keys(page: Any, app_url: str,
                                                                          model_server: ModelServer,
                                                                          second_server: ModelServer,
                                                                          gateway_server: GatewayServer) -> None:
    tab_a = page
    tab_a.goto(app_url)
    tab_a.wait_for_function(READY, timeout=120_000)
    tab_b = _open(page.context, app_url)
    # A: a secret in its sandbox, then a call that waits for its user (gateway tools default to "ask").
    model_server.enqueue(block("secret = 'only-in-tab-a'\nprint(add(1, 2))\nprint(secret)"),
                         block("final_answer(secret)"))
    second_server.enqueue(
        block("print('secret' in globals())\ntry:\n    print(secret)\nexcept NameError as e:\n    print('NameError')"),
        block("final_answer('b done')"))
    tab_a.evaluate(START, ["tab a", {**_settings(model_server, "sk-tab-a"),
                                     "tools": {"gateways": [{"url": gateway_server.url, "name": "office"}]}}])
    question = tab_a.locator("dialog.approval[open]")
    question.wait_for(timeout=120_000)
    tab_b.evaluate(START, ["tab b", _settings(second_server, "sk-tab-b")])
    tab_b.wait_for_function(FINISHED, timeout=120_000)
    # B ran from start to end while A's cell was waiting in the middle of its first step.
    assert not any(e["type"] == "Observation" for e in tab_a.evaluate("window.__events"))
    question.get_by_role("button", name="Allow").click()
    tab_a.wait_for_function(FINISHED, timeout=120_000)

    assert _observations(tab_b)[0]["stdout"].split() == ["False", "NameError"]
    assert _observations(tab_a)[0]["stdout"].split() == ["3", "only-in-tab-a"]
    final_a = next(e for e in tab_a.evaluate("window.__events") if e["type"] == "FinalAnswer")["value"]
    final_b = next(e for e in tab_b.evaluate("window.__events") if e["type"] == "FinalAnswer")["value"]
    assert (final_a, final_b) == ("only-in-tab-a", "b done")
    # Each endpoint heard only its own tab, with that tab's key.
    keys_a = {r.headers.get("authorization") for r in model_server.chat_requests()}
    keys_b = {r.headers.get("authorization") for r in second_server.chat_requests()}
    assert keys_a == {"Bearer sk-tab-a"} and keys_b == {"Bearer sk-tab-b"}
    assert all("only-in-tab-a" not in str(r.body) for r in second_server.chat_requests())
