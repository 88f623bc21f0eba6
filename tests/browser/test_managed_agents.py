"""Manager + helper agent chosen in Settings, end to end in Chromium against the scripted model server.

The manager's code calls `helper(task=...)`, a tool whose call runs a whole helper agent run in a sandbox of its
own; the helper's steps show in the timeline labelled `helper`, between the manager step that called it and the
manager's next step, and the manager finishes with the helper's answer. A helper that runs out of its step budget
raises ManagedAgentStopped in the manager's code (the same-named class in the sandbox).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.ui_support import PYTHON_READY

pytestmark = pytest.mark.browser


def _managed_settings(page, app_url, server, *, helper_steps: int) -> None:  # noqa: ANN001
    page.goto(app_url)
    page.wait_for_function(PYTHON_READY, timeout=120_000)
    page.get_by_role("button", name="Settings").click()
    page.locator("select[name=preset]").select_option("")
    page.locator("input[name=baseUrl]").fill(server.openai_base)
    page.locator("input[name=model]").fill("scripted-coder")
    expect(page.locator("input[name=helperMaxSteps]")).to_be_hidden()
    page.locator("select[name=mode]").select_option("managed")
    expect(page.locator("input[name=helperMaxSteps]")).to_be_visible()
    page.locator("input[name=helperMaxSteps]").fill(str(helper_steps))
    page.get_by_role("button", name="Save").click()


def _run(page, task: str):  # noqa: ANN001, ANN202
    page.locator("#task").fill(task)
    page.get_by_role("button", name="Run").click()
    run = page.locator(".run").last
    expect(run).to_have_attribute("data-status", "finished", timeout=120_000)
    return run


def test_the_managers_code_calls_the_helper_whose_steps_are_labelled_and_whose_answer_finishes_the_run(
        page, app_url, model_server) -> None:  # noqa: ANN001
    model_server.enqueue(
        "I will ask my helper.\n```python\nr = helper(task='Compute 6 * 7 and answer with the product.')\n"
        "print('helper said:', r)\n```",
        "The helper computes.\n```python\nx = 6 * 7\nprint('product', x)\n```",
        "Done.\n```python\nfinal_answer(f'the product is {x}')\n```",
        "The helper answered.\n```python\nfinal_answer(r)\n```",
    )
    _managed_settings(page, app_url, model_server, helper_steps=3)
    run = _run(page, "What is six times seven? Use your helper.")
    expect(run.locator(".final")).to_contain_text("the product is 42")

    steps = run.locator(".step")
    assert [step.get_attribute("data-agent") for step in steps.all()] == ["manager", "helper", "helper", "manager"]
    assert "· helper" in steps.nth(1).locator(".step-head").inner_text()
    expect(steps.nth(0).locator(".output")).to_contain_text("helper said: the product is 42")
    expect(steps.nth(0).locator(".tool-call")).to_contain_text("helper(")
    expect(steps.nth(1).locator(".output")).to_contain_text("product 42")
    expect(run.locator(".run-status")).to_contain_text("4 steps")
    requests = model_server.chat_requests()
    assert len(requests) == 4
    assert "You are a helper agent" in requests[1].json["messages"][0]["content"]
    assert "helper(task: str) -> str" in requests[0].json["messages"][0]["content"]
    page.get_by_role("button", name="Settings").click()  # the mode and the budget are kept with the settings
    expect(page.locator("select[name=mode]")).to_have_value("managed")
    expect(page.locator("input[name=helperMaxSteps]")).to_have_value("3")


def test_a_helper_out_of_steps_raises_managed_agent_stopped_in_the_managers_code(page, app_url,
                                                                                 model_server) -> None:  # noqa: ANN001
    model_server.enqueue(
        "Ask the helper.\n```python\ntry:\n    helper(task='count forever')\nexcept ManagedAgentStopped as e:\n"
        "    print('caught', e)\n```",
        "Counting.\n```python\nprint(1)\n```",
        "I ran out of steps; I counted to 1.",  # the helper's summary, asked without code
        "The helper gave up.\n```python\nfinal_answer('no answer from the helper')\n```",
    )
    _managed_settings(page, app_url, model_server, helper_steps=1)
    run = _run(page, "Count with your helper.")
    expect(run.locator(".final")).to_contain_text("no answer from the helper")
    output = run.locator(".step").nth(0).locator(".output")
    expect(output).to_contain_text("caught helper stopped without an answer (max_steps, after 1 steps)")
    expect(output).to_contain_text("I counted to 1")


SANDBOX_SESSIONS = """async () => {
  // The sandbox iframe's live sessions, asked through the agent worker (each ask is a real round trip).
  const ask = () => window.codeact.agent.execPython(
    "import js\\nfrom agent_py.sandbox import sandbox_client\\njs.JSON.stringify(await sandbox_client().stats())");
  for (let i = 0; i < 200; i++) {
    const sessions = JSON.parse(await ask()).sessions;
    if (sessions === 0) return 0;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return JSON.parse(await ask()).sessions;
}"""


def test_stop_while_the_helper_works_cancels_its_run_and_closes_its_sandbox_on_an_awaited_page(
        page, app_url_plain, model_server) -> None:  # noqa: ANN001
    # Not cross-origin isolated: the manager's cell is rewritten to `await helper(...)`.
    model_server.enqueue(
        "Ask the helper.\n```python\nr = helper(task='think for a long time')\nfinal_answer(r)\n```",
        "Computing.\n```python\nx = 1 + 1\nprint('first helper step', x)\n```",
        {"text": "Still thinking.\n```python\nfinal_answer(x)\n```", "first_delta_delay_s": 20},
    )
    _managed_settings(page, app_url_plain, model_server, helper_steps=5)
    page.locator("#task").fill("Ask the helper and wait.")
    page.get_by_role("button", name="Run").click()
    run = page.locator(".run").last
    expect(run.locator(".step[data-agent='helper'] .output")).to_contain_text("first helper step 2", timeout=120_000)
    expect(run.locator(".step")).to_have_count(3)  # the helper's second step is waiting on its model
    page.get_by_role("button", name="Stop the run (Esc)").click()
    expect(run).to_have_attribute("data-status", "cancelled", timeout=30_000)
    assert page.evaluate(SANDBOX_SESSIONS) == 0  # the manager's and the helper's sandboxes are both gone
    assert len(model_server.chat_requests()) == 3
    assert run.locator(".final").count() == 0
