"""The response cache in real runs (issue 10): opted in from Settings, a second run of the same task is answered
from IndexedDB (no request reaches the model, its steps are marked cached, its code still runs in the sandbox),
and Settings' "Clear cached replies" empties it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.ui_support import RUN_FINISHED as FINISHED
from tests.browser.ui_support import START_RUN as START
from tests.servers.model_server import ModelServer

pytestmark = pytest.mark.browser

REPLIES = ("Compute.\n```python\nx = 6 * 7\nprint(x)\n```", "Done.\n```python\nfinal_answer(x)\n```")


def _run(page: Any, settings: dict[str, Any]) -> list[dict[str, Any]]:
    run_id = page.evaluate(START, ["what is 6 * 7?", settings])
    page.wait_for_function(FINISHED, arg=run_id, timeout=120_000)
    return page.evaluate("id => window.__runs[id]", run_id)


def _summary(events: list[dict[str, Any]]) -> tuple[Any, list[bool], list[str]]:
    final = next(e for e in events if e["type"] == "FinalAnswer")["value"]
    cached = [e["cached"] for e in events if e["type"] == "UsageUpdate"]
    stdout = [e["stdout"] for e in events if e["type"] == "Observation"]
    return final, cached, stdout


def test_a_second_run_is_answered_from_the_cache_until_it_is_cleared(ready_page: Any,
                                                                      model_server: ModelServer) -> None:
    page = ready_page
    # Opted in from Settings: the box is kept with the settings and sent with every run.
    page.get_by_role("button", name="Settings").click()
    page.locator("select[name=preset]").select_option("")
    page.locator("input[name=baseUrl]").fill(model_server.url + "/v1")
    page.locator("input[name=model]").fill("scripted-model")
    page.locator("input[name=cache]").check()
    page.get_by_role("button", name="Save").click()
    settings = page.evaluate("window.codeact.settings.current()")
    assert settings["cache"] is True

    model_server.enqueue(*REPLIES)
    first = _run(page, settings)
    asked = len(model_server.chat_requests())
    assert asked == 2 and _summary(first) == (42, [False, False], ["42\n", ""])

    # The same task again: both steps from the cache (the observation's nonce differs, the key leaves it out).
    second = _run(page, settings)
    assert len(model_server.chat_requests()) == asked
    assert _summary(second) == (42, [True, True], ["42\n", ""])  # the code ran again, in a new sandbox

    page.get_by_role("button", name="Settings").click()
    page.get_by_role("button", name="Clear cached replies").click()
    expect(page.locator("[data-cache-status]")).to_have_text("Cache cleared.")
    page.get_by_role("button", name="Cancel").click()
    model_server.enqueue(*REPLIES)
    third = _run(page, settings)
    assert len(model_server.chat_requests()) == asked + 2
    assert _summary(third) == (42, [False, False], ["42\n", ""])
