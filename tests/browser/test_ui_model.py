"""The page against a real (scripted, loopback) model server, end to end through the worker: Ollama's local models
detected in Settings, a task typed and run with Ctrl+Enter, streamed text, tokens, the answer, the run in history;
Esc stopping a streaming run."""

from __future__ import annotations

import pytest

from tests.browser.ui_support import PYTHON_READY

pytestmark = pytest.mark.browser


def _configure_ollama(page, model_server) -> None:  # noqa: ANN001
    page.get_by_role("button", name="Settings").click()
    page.locator("select[name=preset]").select_option("llamacpp")
    page.locator("select[name=preset]").select_option("ollama")
    page.locator("input[name=baseUrl]").fill(model_server.url.rstrip("/"))
    page.locator("input[name=baseUrl]").dispatch_event("change")
    # Detected without pressing anything: the first local model is filled in and the list offered.
    page.wait_for_function("document.querySelector('input[name=model]').value !== ''", timeout=60_000)
    assert page.locator("input[name=model]").input_value() in {"scripted-model", "scripted-coder"}
    assert page.locator("#model-options option").count() == 2
    assert "2 local models" in page.locator("[data-connection-status]").inner_text()
    page.get_by_role("button", name="Save").click()


def test_a_typed_task_runs_against_a_local_ollama_and_lands_in_history(page, app_url, model_server) -> None:
    model_server.configure(chunk_chars=6, chunk_delay_s=0.01)
    model_server.enqueue({
        "text": "Powers of two are exact in Python.\n```python\nprint(2 ** 10)\nfinal_answer(str(2 ** 10))\n```",
        "usage": {"prompt_tokens": 321, "completion_tokens": 45},
    })
    page.goto(app_url)
    page.wait_for_function(PYTHON_READY, timeout=120_000)
    _configure_ollama(page, model_server)
    page.locator("#task").fill("What is 2 to the 10th?")
    page.locator("#task").press("Control+Enter")
    page.wait_for_selector(".run[data-status]", timeout=60_000)
    assert page.locator(".run").get_attribute("data-status") == "finished"
    assert page.locator(".run .badge").count() == 0  # not a recorded demo
    assert page.locator(".step .output").inner_text().strip() == "1024"
    assert "366 tokens" in page.locator(".step-head").inner_text()
    assert page.locator(".final p").first.inner_text() == "1024"
    assert page.locator("#task").input_value() == ""
    [request] = model_server.chat_requests()
    assert request.path == "/api/chat"
    page.get_by_role("button", name="History").click()
    page.locator(".history-item").first.wait_for()
    assert "What is 2 to the 10th?" in page.locator(".history-item").inner_text()


def test_escape_stops_a_streaming_run(page, app_url, model_server) -> None:
    model_server.configure(chunk_chars=4, chunk_delay_s=0.2)
    model_server.enqueue("Thinking very slowly about this. " * 40)
    page.goto(app_url)
    page.wait_for_function(PYTHON_READY, timeout=120_000)
    _configure_ollama(page, model_server)
    page.locator("#task").fill("Take your time")
    page.get_by_role("button", name="Run").click()
    page.wait_for_function("document.querySelector('.model-stream')?.textContent.length > 8", timeout=60_000)
    page.keyboard.press("Escape")
    page.wait_for_selector(".run[data-status]", timeout=30_000)
    assert page.locator(".run").get_attribute("data-status") == "cancelled"
    assert page.locator(".run-status").inner_text().startswith("Stopped by you")
    assert page.locator("#stop").is_hidden() and page.locator("#run").is_enabled()
