"""History: runs kept in IndexedDB (or in memory, and the user told), open, replay, continue, delete, export without
the key, import; settings that survive a reload without the key."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.ui_support import (  # noqa: F401 - ui_page is a fixture
    UI_READY,
    posted,
    render,
    scripted_run,
    spy_on_worker,
    ui_page,
)

pytestmark = pytest.mark.browser
KEY = "sk-test-DO-NOT-EXPORT-4242"


def _save_settings(page, *, model: str = "gpt-test", key: str = KEY, remember: bool = False) -> None:  # noqa: ANN001
    page.get_by_role("button", name="Settings").click()
    page.locator("select[name=preset]").select_option("openai")
    page.locator("input[name=model]").fill(model)
    page.locator("input[name=apiKey]").fill(key)
    page.locator("input[name=remember]").set_checked(remember)
    page.locator("input[name=maxSteps]").fill("7")
    page.locator("input[name=temperature]").fill("0.7")
    page.get_by_role("button", name="Save").click()


def _stored_runs(page) -> list[dict]:  # noqa: ANN001
    return page.evaluate("""() => new Promise((resolve, reject) => {
      const open = indexedDB.open('codeact-history');
      open.onsuccess = () => {
        const get = open.result.transaction('runs').objectStore('runs').getAll();
        get.onsuccess = () => resolve(get.result);
        get.onerror = () => reject(get.error);
      };
      open.onerror = () => reject(open.error);
    })""")


def test_settings_survive_a_reload_without_the_key_unless_remembered(ui_page) -> None:
    page = ui_page
    _save_settings(page)
    stored = page.evaluate("localStorage.getItem('codeact.settings')")
    assert '"model":"gpt-test"' in stored and KEY not in stored
    assert page.evaluate("sessionStorage.getItem('codeact.apiKey')") == KEY
    assert page.evaluate("localStorage.getItem('codeact.apiKey')") is None
    # A new tab (new session) keeps the settings but not the key.
    second = page.context.new_page()
    second.route("**/pyodide.asm.wasm", lambda route: None)
    second.goto(page.url)
    second.wait_for_function(UI_READY)
    second.get_by_role("button", name="Settings").click()
    assert second.locator("input[name=model]").input_value() == "gpt-test"
    assert second.locator("input[name=maxSteps]").input_value() == "7"
    assert second.locator("input[name=temperature]").input_value() == "0.7"
    assert second.locator("input[name=baseUrl]").input_value() == "https://api.openai.com/v1"
    assert second.locator("input[name=apiKey]").input_value() == ""
    assert not second.locator("input[name=remember]").is_checked()
    second.close()
    # "Remember" moves it to localStorage, and only there; a new tab then has it.
    page.get_by_role("button", name="Settings").click()
    page.locator("input[name=remember]").check()
    page.get_by_role("button", name="Save").click()
    assert page.evaluate("localStorage.getItem('codeact.apiKey')") == KEY
    assert page.evaluate("sessionStorage.getItem('codeact.apiKey')") is None
    third = page.context.new_page()
    third.route("**/pyodide.asm.wasm", lambda route: None)
    third.goto(page.url)
    third.wait_for_function(UI_READY)
    assert third.evaluate("window.codeact.settings.current().apiKey") == KEY
    third.close()


def test_runs_are_stored_listed_opened_replayed_and_deleted(ui_page) -> None:
    page = ui_page
    render(page, *scripted_run("run-a", "First task"), *scripted_run("run-b", "Second task"))
    page.wait_for_function("""async () => (await (await window.codeact.ui.store).listRuns())
                              .filter((r) => r.status === 'finished').length === 2""")
    stored = {r["id"]: r for r in _stored_runs(page)}
    assert stored["run-a"]["finalAnswer"].startswith("The sum is **385**")
    assert [s["step"] for s in stored["run-a"]["steps"]] == [1, 2]
    # Consecutive text deltas are stored as one event.
    assert sum(e["type"] == "ModelDelta" for e in stored["run-a"]["events"]) == 1

    page.reload()
    page.wait_for_function(UI_READY)
    page.get_by_role("button", name="History").click()
    items = page.locator(".history-item")
    items.first.wait_for()
    assert items.count() == 2
    assert "finished · 2 steps · 3,000 tokens" in items.first.inner_text()
    page.get_by_role("button", name="Open: First task").click()
    expect(page.locator(".run .badge")).to_have_text("from history")  # the record is read asynchronously
    expect(page.locator(".step")).to_have_count(2)
    expect(page.locator(".final")).to_contain_text("385")

    page.get_by_role("button", name="History").click()
    page.get_by_role("button", name="Replay: Second task").click()
    expect(page.locator(".run .badge")).to_have_text("replay")
    page.wait_for_selector(".run[data-status='finished']", timeout=10_000)  # events arrive one by one
    assert page.locator(".run").count() == 1 and page.locator(".step").count() == 2

    page.get_by_role("button", name="History").click()
    page.get_by_role("button", name="Delete: First task").click()
    page.wait_for_function("document.querySelectorAll('.history-item').length === 1")
    assert [r["id"] for r in _stored_runs(page)] == ["run-b"]


def test_export_has_no_key_and_import_brings_the_run_back(ui_page, tmp_path) -> None:
    page = ui_page
    _save_settings(page)
    # The worker echoes the run's settings in RunStarted; a careless worker could echo the key too.
    leaky = scripted_run("run-x", f"Task mentioning {KEY}",
                         settings={"model": "gpt-test", "apiKey": KEY, "extraHeaders": {"Authorization": f"Bearer {KEY}"}})
    render(page, *leaky)
    page.get_by_role("button", name="History").click()
    with page.expect_download() as download_info:
        page.locator(".history-item [data-action=export]").click()
    path = tmp_path / "export.json"
    download_info.value.save_as(path)
    text = path.read_text()
    assert KEY not in text
    exported = json.loads(text)
    assert exported["format"] == "codeact-run" and exported["run"]["id"] == "run-x"
    assert exported["run"]["settings"]["model"] == "gpt-test" and "apiKey" not in exported["run"]["settings"]
    assert all(KEY not in json.dumps(r) for r in _stored_runs(page))  # nor in IndexedDB

    # Import into a fresh browser profile: the run is listed and opens.
    page.evaluate("async () => { const s = await window.codeact.ui.store; await s.deleteRun('run-x'); }")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="History").click()
    page.wait_for_function("document.querySelectorAll('.history-item').length === 0")
    page.locator("#history input[type=file]").set_input_files(str(path))
    page.wait_for_function("document.querySelectorAll('.history-item').length === 1")
    page.locator(".history-item [data-action=open]").click()
    expect(page.locator(".step")).to_have_count(2)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something-else"}')
    page.get_by_role("button", name="History").click()
    page.locator("#history").wait_for()
    page.locator("#history input[type=file]").set_input_files(str(bad))
    page.wait_for_selector("#notices p")
    assert "not a CodeAct run export" in page.locator("#notices").inner_text()


def test_continue_sends_the_stored_run_as_resume(ui_page) -> None:
    page = ui_page
    _save_settings(page)
    spy_on_worker(page)
    events = scripted_run("run-c", "Unfinished task", finish=False) + [
        {"type": "RunFinished", "run_id": "run-c", "status": "stopped", "stop_reason": "max_steps", "steps": 2,
         "summary": "Stopped after 2 steps."},
    ]
    render(page, *events)
    assert "step limit" in page.locator(".run-status").inner_text()
    page.get_by_role("button", name="History").click()
    page.get_by_role("button", name="Continue: Unfinished task").click()
    page.wait_for_function("window.__posted.some((m) => m.type === 'start-run')")
    starts = posted(page, "start-run")
    assert len(starts) == 1
    start = starts[0]
    assert start["runId"] == "run-c" and start["task"] == "Unfinished task"
    assert start["settings"]["apiKey"] == KEY  # the key goes to the worker, which needs it ...
    resume = start["resume"]
    assert KEY not in json.dumps(resume)  # ... but never inside the stored run
    assert resume["run_id"] == "run-c" and resume["status"] == "stopped" and len(resume["steps"]) == 2
    expect(page.locator(".run .badge")).to_have_text("continued")


def test_without_indexeddb_runs_still_work_and_the_user_is_told(page, app_url) -> None:
    page.add_init_script("Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true })")
    page.route("**/pyodide.asm.wasm", lambda route: None)
    page.goto(app_url)
    page.wait_for_function(UI_READY)
    note = page.locator("#storage-note")
    note.wait_for()
    assert "not saved" in note.inner_text()
    render(page, *scripted_run("run-m", "Kept in memory"))
    assert page.locator(".run").get_attribute("data-status") == "finished"
    page.get_by_role("button", name="History").click()
    page.locator(".history-item").first.wait_for()
    assert "Kept in memory" in page.locator(".history-item").inner_text()
    assert "not saved" in page.locator("[data-history-note]").inner_text()


def test_a_full_quota_switches_to_memory_and_says_so(ui_page) -> None:
    page = ui_page
    page.evaluate("""async () => {
      // Every later write is refused the way a full disk refuses it.
      IDBObjectStore.prototype.put = function () {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      };
    }""")
    render(page, *scripted_run("run-q", "Too big to store"))
    page.locator("#storage-note").wait_for()
    assert "storage is full" in page.locator("#storage-note").inner_text()
    page.get_by_role("button", name="History").click()
    page.locator(".history-item").first.wait_for()
    assert "Too big to store" in page.locator(".history-item").inner_text()
