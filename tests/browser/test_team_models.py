"""Team modes chosen in Settings and run against the user's own models, end to end in Chromium.

Planner + implementer: two scripted model servers stand for two providers. The planner's endpoint receives only
the planner's requests (plan, then judge) with the planner's key, the implementer's endpoint only the
implementer's with the main key; the timeline labels each step with its agent; the planner's key is kept like
the main key (sessionStorage, never in the saved settings). Retrieval + processing: the user's model drives the
processing sandbox and gets data only through retrieve(); a tool it creates there is kept.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.ui_support import PYTHON_READY
from tests.servers.model_server import ModelServer

pytestmark = pytest.mark.browser

MAIN_KEY = "implementer-key-1234"
PLANNER_KEY = "planner-key-5678"


@pytest.fixture
def planner_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


def _settings(page, app_url, server, *, mode: str, planner=None) -> None:  # noqa: ANN001
    page.goto(app_url)
    page.wait_for_function(PYTHON_READY, timeout=120_000)
    page.get_by_role("button", name="Settings").click()
    page.locator("select[name=preset]").select_option("")
    page.locator("input[name=baseUrl]").fill(server.openai_base)
    page.locator("input[name=model]").fill("scripted-coder")
    page.locator("input[name=apiKey]").fill(MAIN_KEY)
    expect(page.locator("[data-planner-fields]")).to_be_hidden()
    page.locator("select[name=mode]").select_option(mode)
    if planner is not None:
        expect(page.locator("[data-planner-fields]")).to_be_visible()
        page.locator("select[name=plannerPreset]").select_option("")
        page.locator("input[name=plannerBaseUrl]").fill(planner.openai_base)
        page.locator("input[name=plannerModel]").fill("scripted-model")
        page.locator("input[name=plannerApiKey]").fill(PLANNER_KEY)
    page.get_by_role("button", name="Save").click()


def _run(page, task: str):  # noqa: ANN001, ANN202
    page.locator("#task").fill(task)
    page.get_by_role("button", name="Run").click()
    run = page.locator(".run").last
    expect(run).to_have_attribute("data-status", "finished", timeout=120_000)
    return run


def test_planner_and_implementer_each_use_their_own_endpoint_and_key(page, app_url, model_server,
                                                                     planner_server) -> None:
    planner_server.enqueue(
        "A short plan.\n```python\nfinal_answer('1. compute 6 * 7 into answer\\n2. give it')\n```",
        "The answer is in the sandbox.\n```python\nprint(answer)\nfinal_answer(f'checked: {answer}')\n```",
    )
    model_server.enqueue("Following the plan.\n```python\nanswer = 6 * 7\nfinal_answer(answer)\n```")
    _settings(page, app_url, model_server, mode="planner", planner=planner_server)
    run = _run(page, "What is six times seven?")
    expect(run.locator(".final")).to_contain_text("checked: 42")

    agents = [step.get_attribute("data-agent") for step in run.locator(".step").all()]
    assert agents == ["planner", "implementer", "planner"]
    assert "· implementer" in run.locator(".step").nth(1).locator(".step-head").inner_text()

    planner_requests = planner_server.chat_requests()
    implementer_requests = model_server.chat_requests()
    assert len(planner_requests) == 2 and len(implementer_requests) == 1
    assert all(r.headers["authorization"] == f"Bearer {PLANNER_KEY}" for r in planner_requests)
    assert all(r.json["model"] == "scripted-model" for r in planner_requests)
    assert implementer_requests[0].headers["authorization"] == f"Bearer {MAIN_KEY}"
    assert implementer_requests[0].json["model"] == "scripted-coder"
    assert "You are the planner" in planner_requests[0].json["messages"][0]["content"]
    assert "judging the implementer" in planner_requests[1].json["messages"][0]["content"]
    assert "You are the implementer" in implementer_requests[0].json["messages"][0]["content"]

    # The planner's key is kept like the main key: this tab's sessionStorage, never in the saved settings.
    stored = page.evaluate("""() => ({
      local: JSON.stringify({...localStorage}), session: JSON.stringify({...sessionStorage}),
      settings: JSON.parse(localStorage.getItem('codeact.settings')) })""")
    assert PLANNER_KEY not in stored["local"] and MAIN_KEY not in stored["local"]
    assert PLANNER_KEY in stored["session"]
    assert stored["settings"]["mode"] == "planner"
    assert stored["settings"]["planner"]["baseUrl"] == planner_server.openai_base
    page.get_by_role("button", name="History").click()
    page.locator(".history-item").first.wait_for()
    record = page.evaluate("async () => JSON.stringify(await (await window.codeact.ui.store).getRun("
                           "[...window.codeact.ui.records.keys()].pop()))")
    assert PLANNER_KEY not in record and MAIN_KEY not in record


def test_retrieval_and_processing_mode_runs_the_users_model_in_the_processing_sandbox(page, app_url,
                                                                                      model_server) -> None:
    model_server.enqueue(
        "Fetch rows through the retrieval sandbox.\n```python\n"
        "rows = retrieve(\"final_answer(len(dataset('city_temperatures')))\")\n"
        "try:\n    dataset('city_temperatures')\nexcept NameError:\n    print('no dataset here')\n"
        "def halve(n):\n    \"\"\"Half of n.\"\"\"\n    return n / 2\n\nregister_tool(halve)\n"
        "final_answer(rows)\n```")
    _settings(page, app_url, model_server, mode="two_sandboxes")
    run = _run(page, "How many rows?")
    expect(run.locator(".final")).to_contain_text("36")
    assert "no dataset here" in run.locator(".step .output").first.inner_text()
    assert run.locator(".step").first.get_attribute("data-agent") == "processing"
    assert "retrieval sandbox" in model_server.chat_requests()[0].json["messages"][0]["content"]
    # A tool created in a team run is kept as in a single-agent run (it lives in the processing sandbox).
    expect(page.locator("#tools-count")).to_have_text("1")
    assert [t["name"] for t in page.evaluate("() => window.codeact.ui.createdTools.list()")] == ["halve"]
