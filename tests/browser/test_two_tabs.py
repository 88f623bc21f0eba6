"""SECURITY-CASES 24, two tabs: two runs at once in two tabs of one browser profile (one origin, one storage) keep
their own sandboxes, memories and keys.

Each tab has its own model endpoint (two scripted servers), so replies cannot cross by way of a shared queue. Tab A
holds a secret in its sandbox's globals; tab B looks for it from its model code while A's cell is still running,
and each endpoint hears only its own tab, with that tab's key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers.model_server import ModelServer

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
                                                                          second_server: ModelServer) -> None:
    tab_a = page
    tab_a.goto(app_url)
    tab_a.wait_for_function(READY, timeout=120_000)
    tab_b = _open(page.context, app_url)
    # A: a secret in its sandbox, then a long cell so that its run is still going while B runs.
    model_server.enqueue(block("secret = 'only-in-tab-a'\nimport time\ntime.sleep(3)\nprint(secret)"),
                         block("final_answer(secret)"))
    second_server.enqueue(
        block("print('secret' in globals())\ntry:\n    print(secret)\nexcept NameError as e:\n    print('NameError')"),
        block("final_answer('b done')"))
    tab_a.evaluate(START, ["tab a", _settings(model_server, "sk-tab-a")])
    tab_a.wait_for_function("() => (window.__events || []).some(e => e.type === 'ExecutionStarted')",
                            timeout=120_000)
    tab_b.evaluate(START, ["tab b", _settings(second_server, "sk-tab-b")])
    tab_b.wait_for_function(FINISHED, timeout=120_000)
    # B finished while A's first cell was still sleeping in its own sandbox.
    assert not any(e["type"] == "RunFinished" for e in tab_a.evaluate("window.__events"))
    tab_a.wait_for_function(FINISHED, timeout=120_000)

    assert _observations(tab_b)[0]["stdout"].split() == ["False", "NameError"]
    assert _observations(tab_a)[0]["stdout"].strip() == "only-in-tab-a"
    final_a = next(e for e in tab_a.evaluate("window.__events") if e["type"] == "FinalAnswer")["value"]
    final_b = next(e for e in tab_b.evaluate("window.__events") if e["type"] == "FinalAnswer")["value"]
    assert (final_a, final_b) == ("only-in-tab-a", "b done")
    # Each endpoint heard only its own tab, with that tab's key.
    keys_a = {r.headers.get("authorization") for r in model_server.chat_requests()}
    keys_b = {r.headers.get("authorization") for r in second_server.chat_requests()}
    assert keys_a == {"Bearer sk-tab-a"} and keys_b == {"Bearer sk-tab-b"}
    assert all("only-in-tab-a" not in str(r.body) for r in second_server.chat_requests())
