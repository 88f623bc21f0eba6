"""Whole runs in the real page: the agent worker's loop, the real sandbox, a scripted or recorded model."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

COLLECT = """([task, settings]) => new Promise((resolve) => {
  const events = [];
  const runId = window.codeact.agent.startRun(task, settings);
  window.codeact.agent.onEvent((e) => {
    if (e.run_id !== runId) return;
    events.push(e);
    if (e.type === 'RunFinished') resolve(events);
  });
})"""


def run_in_page(page, task: str, settings: dict) -> list[dict]:  # noqa: ANN001
    return page.evaluate(COLLECT, [task, settings])


def test_recorded_demo_solves_its_task_in_the_real_sandbox(ready_page) -> None:
    events = run_in_page(ready_page, "", {"demo": "compute"})
    finished = events[-1]
    assert finished["status"] == "finished", [e for e in events if e["type"] in ("RunError", "Observation")]
    assert finished["final_answer"].startswith("15 years between 2000 and 2100")
    display = next(e for e in events if e["type"] == "Display")
    assert display["kind"] == "chart" and len(display["series"]["Friday the 13ths"]) == 101
    observation = next(e for e in events if e["type"] == "Observation")
    assert "15 years: [2009, 2012, 2015, 2026" in observation["observation"]


def test_a_run_against_an_openai_compatible_server(ready_page, model_server) -> None:
    model_server.enqueue("I'll compute it.\n```python\nprint(sum(range(101)))\n```",
                         "Done.\n```python\nfinal_answer(5050)\n```")
    settings = {"provider": "openai", "baseUrl": model_server.url + "/v1", "model": "scripted-model",
                "apiKey": "sk-test-secret"}
    events = run_in_page(ready_page, "Add 1..100", settings)
    assert events[-1]["status"] == "finished" and events[-1]["final_answer"] == 5050
    assert any(e["type"] == "ModelDelta" for e in events)
    requests = model_server.chat_requests()
    assert len(requests) == 2 and "5050" in str(requests[1].json["messages"])
    assert all(r.headers.get("authorization") == "Bearer sk-test-secret" for r in requests)
    assert "sk-test-secret" not in str(events)


def test_stop_cancels_a_running_cell(ready_page, model_server) -> None:
    model_server.enqueue("Looping.\n```python\nwhile True:\n    pass\n```")
    settings = {"provider": "openai", "baseUrl": model_server.url + "/v1", "model": "scripted-model",
                "sandbox": {"timeoutMs": 60000}}
    events = ready_page.evaluate("""(settings) => new Promise((resolve) => {
      const events = [];
      const runId = window.codeact.agent.startRun('spin', settings);
      window.codeact.agent.onEvent((e) => {
        if (e.run_id !== runId) return;
        events.push(e);
        if (e.type === 'ExecutionStarted') setTimeout(() => window.codeact.agent.stopRun(runId), 300);
        if (e.type === 'RunFinished') resolve(events);
      });
    })""", settings)
    assert events[-1]["status"] == "cancelled"
    # The sandbox is usable right after: the next run works.
    model_server.enqueue("```python\nfinal_answer('alive')\n```")
    assert run_in_page(ready_page, "again", {**settings, "sandbox": {}})[-1]["final_answer"] == "alive"


def test_bad_settings_end_the_run_with_a_typed_error(ready_page) -> None:
    events = run_in_page(ready_page, "task", {"provider": "openai", "model": "m"})
    error = next(e for e in events if e["type"] == "RunError")
    assert error["error"]["type"] == "ConfigError" and events[-1]["status"] == "failed"
