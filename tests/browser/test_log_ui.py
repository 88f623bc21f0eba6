"""Logging from Settings (issue 10): the level chosen there reaches the agent worker, and "Download run log" saves
the worker's log of the run — debug records of the model layer included, the API key never."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.servers.model_server import ModelServer

pytestmark = pytest.mark.browser

KEY = "sk-log-ui-SECRET-4242"
LEVEL = "from agent_py import log as _l\n_l.get_level()"


def test_the_level_from_settings_applies_and_the_run_log_downloads_without_the_key(
        ready_page: Any, model_server: ModelServer, tmp_path: Any) -> None:
    page = ready_page
    assert page.evaluate("(c) => window.codeact.agent.execPython(c)", LEVEL) == "info"
    page.get_by_role("button", name="Settings").click()
    page.locator("select[name=preset]").select_option("")
    page.locator("input[name=baseUrl]").fill(model_server.url + "/v1")
    page.locator("input[name=model]").fill("scripted-model")
    page.locator("input[name=apiKey]").fill(KEY)
    page.locator("select[name=logLevel]").select_option("debug")
    page.get_by_role("button", name="Save").click()
    # Applied on save, asynchronously in the worker: ask until it says so (~10 s at most).
    levels = []
    for _ in range(100):
        levels.append(page.evaluate("(c) => window.codeact.agent.execPython(c)", LEVEL))
        if levels[-1] == "debug":
            break
        page.wait_for_timeout(100)
    assert levels[-1] == "debug", levels[-3:]

    model_server.enqueue("Done.\n```python\nfinal_answer(6 * 7)\n```")
    page.locator("#task").fill("what is 6 * 7?")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".run").last).to_have_attribute("data-status", "finished", timeout=120_000)

    page.get_by_role("button", name="Settings").click()
    expect(page.locator("select[name=logLevel]")).to_have_value("debug")  # kept with the settings
    with page.expect_download() as info:
        page.get_by_role("button", name="Download run log").click()
    path = tmp_path / "run.log"
    info.value.save_as(path)
    text = path.read_text()
    assert info.value.suggested_filename.startswith("codeact-run-log-")
    assert "DEBUG [model] model request" in text, text[-2000:]
    assert KEY not in text
