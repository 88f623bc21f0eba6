"""Teams end to end in Chromium: the two recorded team demos run from their buttons in the real sandboxes.

two_sandboxes: the agent's code runs in the processing sandbox, fetches rows through `retrieve` (a cell run in the
retrieval sandbox, only its JSON value returned) and cannot call the retrieval sandbox's `dataset` tool itself
(a NameError). planner: planner and implementer share one sandbox (the judge reads the implementer's variables), and
every step card is labelled with the agent that took it.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.ui_support import PYTHON_READY, UI_READY

pytestmark = pytest.mark.browser


def _run_demo(page, app_url, index: int):  # noqa: ANN001, ANN202
    page.goto(app_url)
    page.wait_for_function(UI_READY)
    page.wait_for_function(PYTHON_READY, timeout=120_000)
    page.locator("#demos button").nth(index).click()
    run = page.locator(".run").last
    expect(run).to_have_attribute("data-status", "finished", timeout=120_000)
    return run


def test_two_sandboxes_demo_passes_values_by_tool_and_keeps_the_data_tool_out_of_processing(page, app_url) -> None:
    run = _run_demo(page, app_url, 1)
    expect(run.locator(".final")).to_contain_text("Nairobi has the smallest yearly range: 4.1 C")
    outputs = " ".join(run.locator(".step").all_inner_texts())
    assert "36 rows" in outputs  # the value came back through retrieve()
    assert "processing sandbox has no dataset tool" in outputs  # dataset() does not exist in processing
    assert run.locator(".display-chart canvas").count() >= 1
    assert run.locator(".step[data-agent='processing']").count() == 2


def test_planner_demo_plans_implements_and_judges_in_one_shared_sandbox(page, app_url) -> None:
    run = _run_demo(page, app_url, 2)
    expect(run.locator(".final")).to_contain_text("sum to 5736396; 409 of the 1229 primes are twin primes")
    agents = [run.locator(".step").nth(i).get_attribute("data-agent") for i in range(run.locator(".step").count())]
    assert agents == ["planner", "implementer", "implementer", "planner"]
    assert "· implementer" in run.locator(".step").nth(1).locator(".step-head").inner_text()
