"""A refused API key in the page (SECURITY-CASES 20): the run that ended on a 401 says the endpoint refused the key,
asks for a valid one in place and continues with it from its finished steps; Test connection's 401 puts the cursor
in Settings' key field. The refused key is never shown and, once replaced, is nowhere: not in the DOM, the form
fields, web storage, the stored run or its export; the new key travels only in the Authorization header."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_ui_history import _stored_runs
from tests.browser.ui_support import PYTHON_READY

pytestmark = pytest.mark.browser

OLD_KEY = "sk-refused-0ld-k3y-4f9a"
NEW_KEY = "sk-valid-n3w-k3y-8c21"

# Everything of the page where a key could linger: the DOM, form fields' values, and web storage.
PAGE_TEXT = """() => [document.documentElement.outerHTML,
  ...[...document.querySelectorAll('input, textarea')].map((e) => e.value),
  ...[localStorage, sessionStorage].flatMap((s) => Object.keys(s).map((k) => k + '=' + s.getItem(k)))].join('\\n')"""


def _configure(page: Any, model_server: Any, key: str, *, save: bool = True) -> None:
    page.get_by_role("button", name="Settings").click()
    page.locator("select[name=preset]").select_option("")
    page.locator("input[name=baseUrl]").fill(model_server.url + "/v1")
    page.locator("input[name=model]").fill("scripted-model")
    page.locator("input[name=apiKey]").fill(key)
    if save:
        page.get_by_role("button", name="Save").click()


def _headers_and_body(request: Any) -> str:
    return json.dumps({k: v for k, v in request.headers.items() if k != "authorization"}) + request.body.decode()


def test_a_refused_key_asks_for_a_new_one_and_the_run_continues_with_it(ready_page: Any, model_server: Any,
                                                                         tmp_path: Any) -> None:
    page = ready_page
    model_server.enqueue(
        "First.\n```python\nprint('step one done')\n```",
        {"status": 401, "message": "Incorrect API key provided: {auth}"},  # the key revoked mid-run, echoed back
        "```python\nfinal_answer('done with the new key')\n```")
    _configure(page, model_server, OLD_KEY)
    page.locator("#task").fill("Two steps")
    page.locator("#task").press("Control+Enter")

    run = page.locator(".run")
    expect(run).to_have_attribute("data-status", "failed", timeout=60_000)
    expect(run.locator(".run-error")).to_contain_text("The model server refused the API key.")
    prompt = run.locator(".auth-prompt")
    expect(prompt).to_contain_text("The endpoint refused the API key.")
    expect(prompt.locator("input[name=apiKey]")).to_be_focused()
    expect(run.locator(".step[data-step='1'] .output")).to_contain_text("step one done")
    assert OLD_KEY not in run.inner_text()  # the server echoed it; the page never shows it

    prompt.locator("input[name=apiKey]").fill(NEW_KEY)
    prompt.get_by_role("button", name="Retry with this key").click()
    page.wait_for_function("() => [...window.codeact.ui.records.values()][0]?.status === 'finished'",
                           timeout=60_000)
    expect(page.locator(".run .final")).to_contain_text("done with the new key")
    expect(page.locator(".run .step[data-step='1'] .output")).to_contain_text("step one done")
    expect(page.locator(".auth-prompt")).to_have_count(0)
    [record] = page.evaluate("() => [...window.codeact.ui.records.values()]")
    assert [s["step"] for s in record["steps"]] == [1, 2]  # step 1 kept, the refused step asked again

    first, refused, retried = model_server.chat_requests()
    assert first.headers["authorization"] == refused.headers["authorization"] == f"Bearer {OLD_KEY}"
    assert retried.headers["authorization"] == f"Bearer {NEW_KEY}"
    assert NEW_KEY not in _headers_and_body(retried) and OLD_KEY not in _headers_and_body(retried)
    assert "step one done" in json.dumps(retried.json["messages"])  # the finished step went with the retry

    # The refused key is gone from the page, its storage and the stored run; the new one is only where keys live.
    assert OLD_KEY not in page.evaluate(PAGE_TEXT)
    assert page.evaluate("sessionStorage.getItem('codeact.apiKey')") == NEW_KEY
    stored = json.dumps(_stored_runs(page))
    assert OLD_KEY not in stored and NEW_KEY not in stored and "step one done" in stored
    page.get_by_role("button", name="History").click()
    with page.expect_download() as download_info:
        page.locator(".history-item [data-action=export]").first.click()
    path = tmp_path / "export.json"
    download_info.value.save_as(path)
    exported = path.read_text()
    assert OLD_KEY not in exported and NEW_KEY not in exported and "done with the new key" in exported


def test_test_connection_refused_puts_the_cursor_in_the_key_field(page: Any, app_url: str,
                                                                 model_server: Any) -> None:
    model_server.configure(api_key=NEW_KEY)
    page.goto(app_url)
    page.wait_for_function(PYTHON_READY, timeout=60_000)
    _configure(page, model_server, OLD_KEY, save=False)
    page.get_by_role("button", name="Test connection").click()
    status = page.locator("[data-connection-status]")
    expect(status).to_have_attribute("data-state", "error", timeout=30_000)
    expect(status).to_contain_text("The endpoint refused the API key")
    expect(status).to_contain_text("AuthError")
    assert OLD_KEY not in status.inner_text()  # the server echoed it back
    expect(page.locator("input[name=apiKey]")).to_be_focused()

    page.keyboard.type(NEW_KEY)  # the old key was selected: typing replaces it
    page.get_by_role("button", name="Test connection").click()
    expect(status).to_have_attribute("data-state", "ok", timeout=30_000)
    expect(status).to_contain_text("Connected: 2 models")
    refused, accepted = [r for r in model_server.requests if r.method == "GET" and r.path == "/v1/models"]
    assert refused.headers["authorization"] == f"Bearer {OLD_KEY}"
    assert accepted.headers["authorization"] == f"Bearer {NEW_KEY}"
