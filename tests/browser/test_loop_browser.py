"""The loop's hooks, tool gate and reload recovery in the real page: the agent worker, the real sandbox, the
scripted model server (SECURITY-CASES 25, 26)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.test_runs import run_in_page
from tests.browser.ui_support import PYTHON_READY, UI_READY, render, ui_page  # noqa: F401 - ui_page is a fixture

pytestmark = pytest.mark.browser

STORED_RUN = """async (id) => (await (await window.codeact.ui.store).getRun(id)) ?? null"""
# Waits (bounded) until the stored run has an event of `type`; returns whether it came.
WAIT_STORED = """async ([id, type]) => {
  const store = await window.codeact.ui.store;
  for (let i = 0; i < 300; i++) {
    const record = await store.getRun(id);
    if (record?.events?.some((e) => e.type === type)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}"""


def settings_for(model_server, **extra) -> dict:  # noqa: ANN001
    return {"preset": "", "provider": "openai", "baseUrl": model_server.url + "/v1", "model": "scripted-model",
            **extra}


def test_a_denied_tool_is_vetoed_visibly_and_the_run_goes_on(ready_page, model_server) -> None:
    model_server.enqueue(
        "Show it.\n```python\ntry:\n    show_table(rows=[[1, 2]], title='secret table')\n"
        "except ToolDenied as e:\n    print('refused:', e)\n```",
        "```python\nfinal_answer('done without the table')\n```")
    events = run_in_page(ready_page, "Show a table", settings_for(model_server, denyTools=["show_table"]))
    assert events[-1]["status"] == "finished" and events[-1]["final_answer"] == "done without the table"
    vetoed = [e for e in events if e["type"] == "Vetoed"]
    assert [(v["target"], v["tool"], v["hook"]) for v in vetoed] == [("tool", "show_table", "DenyTools")]
    assert not any(e["type"] == "Display" for e in events)  # the tool's side effect never happened
    observation = next(e for e in events if e["type"] == "Observation")
    assert "refused: show_table was vetoed by hook DenyTools" in observation["stdout"]
    line = ready_page.locator(".step[data-step='1'] .vetoed")
    expect(line).to_contain_text("Vetoed by DenyTools: the call to show_table did not run")
    # The model read the refusal in its next prompt.
    assert "vetoed by hook DenyTools" in json.dumps(model_server.chat_requests()[1].json["messages"])


@pytest.mark.parametrize("isolated", [True, False], ids=["blocking-calls", "awaited-calls"])
def test_tool_calls_past_the_per_step_cap_are_refused_typed(page, app_url, app_url_plain, model_server,
                                                            isolated) -> None:  # noqa: ANN001
    page.goto(app_url if isolated else app_url_plain)
    page.wait_for_function(PYTHON_READY, timeout=60_000)
    assert page.evaluate("crossOriginIsolated") is isolated  # blocking (Atomics) vs awaited tool calls
    model_server.enqueue(
        "```python\nfor i in range(5):\n    show_table(rows=[[i]])\n```",
        "```python\nshow_table(rows=[['again']])\nfinal_answer('ok')\n```")
    settings = settings_for(model_server, limits={"maxToolCallsPerStep": 2})
    events = run_in_page(page, "Tables", settings)
    shown = [e["rows"] for e in events if e["type"] == "Display"]
    assert shown == [[[0]], [[1]], [["again"]]]  # two in step 1, then the count restarts in step 2
    first = next(e for e in events if e["type"] == "Observation")
    assert first["error"]["type"] == "ToolCallLimitExceeded" and "more than 2 tool calls" in first["error"]["message"]
    assert events[-1]["final_answer"] == "ok"


def test_reload_mid_run_restores_steps_marks_the_cut_one_and_continue_runs_no_tool_twice(
        ready_page, model_server) -> None:
    page = ready_page
    settings = settings_for(model_server, sandbox={"timeoutMs": 60_000})
    page.evaluate("(s) => localStorage.setItem('codeact.settings', JSON.stringify(s))", settings)
    model_server.enqueue(
        "First.\n```python\nprint('step one done')\n```",
        "Now the side effect.\n```python\nshow_table(rows=[['sent']], title='side effect')\nimport time\n"
        "time.sleep(50)\n```")
    run_id = page.evaluate("(s) => window.codeact.agent.startRun('Do two things', s)", settings)
    # The side effect happened and is stored; the cell is still sleeping when the page goes away.
    assert page.evaluate(WAIT_STORED, [run_id, "Display"])
    assert page.evaluate(STORED_RUN, run_id)["status"] == "running"
    page.reload()
    page.wait_for_function(UI_READY)

    # Restored: the finished step with its output, the cut step marked, the run marked interrupted (its lock was free).
    run = page.locator(f".run[data-run-id='{run_id}']")
    expect(run.locator(".badge")).to_contain_text("interrupted")
    expect(run.locator(".step[data-step='1'] .output")).to_contain_text("step one done")
    expect(run.locator(".step[data-step='2']")).to_have_attribute("data-state", "interrupted")
    expect(run.locator(".step[data-step='2'] .interrupted")).to_contain_text("may or may not have run")
    expect(run.locator(".run-status")).to_contain_text("Interrupted")
    stored = page.evaluate(STORED_RUN, run_id)
    assert stored["status"] == "interrupted" and stored["stopReason"] == "page_closed"
    assert [(s["step"], s["status"]) for s in stored["steps"]] == [(1, "done"), (2, "interrupted")]
    assert "show_table" in stored["steps"][1]["code"]

    # Continue: the model is told the step was cut; nothing of it runs again; new steps come after it.
    page.wait_for_function(PYTHON_READY, timeout=60_000)
    model_server.enqueue("The table was shown already.\n```python\nfinal_answer('finished after reload')\n```")
    run.get_by_role("button", name="Continue this run").click()
    page.wait_for_function("(id) => window.codeact.ui.records.get(id)?.status === 'finished'", arg=run_id,
                           timeout=60_000)
    record = page.evaluate("(id) => window.codeact.ui.records.get(id)", run_id)
    assert record["finalAnswer"] == "finished after reload"
    assert sum(e["type"] == "Display" for e in record["events"]) == 1  # the side-effecting tool ran once
    assert [s["step"] for s in record["steps"]] == [1, 2, 3]
    messages = json.dumps(model_server.chat_requests()[-1].json["messages"])
    assert "interrupted before it finished" in messages and "show_table(rows=[['sent']]" in messages
    expect(page.locator(f".run[data-run-id='{run_id}'] .final")).to_contain_text("finished after reload")


def test_a_code_veto_is_a_clear_line_in_its_step_card(ui_page) -> None:  # noqa: F811
    run = "run-v"
    render(ui_page,
           {"type": "RunStarted", "run_id": run, "step": 0, "ts": 1.0, "task": "Clean up", "settings": {}},
           {"type": "StepStarted", "run_id": run, "step": 1, "ts": 1.1},
           {"type": "CodeReady", "run_id": run, "step": 1, "ts": 1.2, "code": "import os\nos.remove('x')",
            "thought": "Delete it.", "notes": []},
           {"type": "Vetoed", "run_id": run, "step": 1, "ts": 1.3, "target": "code", "hook": "ApproveCode",
            "reason": "deleting files needs your approval", "tool": ""},
           {"type": "Observation", "run_id": run, "step": 1, "ts": 1.4, "observation": "Vetoed: ...", "stdout": "",
            "error": {"type": "Vetoed", "message": "hook ApproveCode refused this code"}, "duration_ms": 0})
    card = ui_page.locator(".step[data-step='1']")
    expect(card.locator(".vetoed")).to_have_text(
        "Vetoed by ApproveCode: this code did not run. deleting files needs your approval")
    expect(card).to_have_attribute("data-state", "vetoed")
    expect(card.locator(".error")).to_contain_text("A hook refused to run this code.")
