"""Files: dropped on the page -> put-file to the agent worker; files the code wrote -> listed, downloaded by get-file.
The worker side is answered here by hand (reply_from_worker), exactly as docs/ARCHITECTURE.md ("Files") says."""

from __future__ import annotations

import pytest

from tests.browser.ui_support import (  # noqa: F401 - ui_page is a fixture
    posted,
    render,
    reply_from_worker,
    scripted_run,
    spy_on_worker,
    ui_page,
)

pytestmark = pytest.mark.browser


def test_a_dropped_file_is_sent_to_the_worker_and_its_answer_shown(ui_page) -> None:
    page = ui_page
    spy_on_worker(page)
    page.evaluate("""() => {
      const data = new DataTransfer();
      data.items.add(new File(['a,b\\n1,2\\n'], 'data.csv', { type: 'text/csv' }));
      document.body.dispatchEvent(new DragEvent('dragenter', { dataTransfer: data, bubbles: true }));
      window.__overlay = document.body.dataset.dragging;
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }""")
    assert page.evaluate("window.__overlay") == "true"  # "Drop files to put them in the sandbox" was shown
    page.wait_for_function("window.__posted.some((m) => m.type === 'put-file')")
    [message] = posted(page, "put-file")
    assert message["name"] == "data.csv"
    assert page.evaluate("""() => new TextDecoder().decode(
      window.__posted.find((m) => m.type === 'put-file').bytes)""") == "a,b\n1,2\n"
    reply_from_worker(page, {"type": "reply", "id": message["id"], "ok": True,
                             "value": {"path": "/data/data.csv", "size": 8}})
    page.get_by_role("button", name="Files").click()
    row = page.locator("[data-files-in] .file")
    row.wait_for()
    page.wait_for_function("document.querySelector('[data-files-in] .file').dataset.state === 'ok'")
    assert "in the sandbox as /data/data.csv" in row.inner_text()


def test_a_refused_file_says_why(ui_page) -> None:
    page = ui_page
    spy_on_worker(page)
    page.get_by_role("button", name="Files").click()
    page.locator("#files input[type=file]").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}])
    page.wait_for_function("window.__posted.some((m) => m.type === 'put-file')")
    [message] = posted(page, "put-file")
    reply_from_worker(page, {"type": "reply", "id": message["id"], "ok": False,
                             "error": {"type": "SandboxError", "message": "the sandbox file system is full"}})
    page.wait_for_function("document.querySelector('[data-files-in] .file').dataset.state === 'error'")
    row_text = page.locator("[data-files-in] .file").inner_text()
    assert "not sent: SandboxError: the sandbox file system is full" in row_text


def test_files_the_code_wrote_appear_in_the_step_and_download(ui_page, tmp_path) -> None:
    page = ui_page
    spy_on_worker(page)
    events = scripted_run("run-f", "Write a report", finish=False)
    render(page, *events, {"type": "FilesChanged", "run_id": "run-f", "step": 2,
                           "files": [{"path": "/data/report.csv", "size": 2048}, {"path": "/data/plot.txt", "size": 12}]})
    chips = page.locator(".step[data-step='2'] .files-written button")
    assert chips.all_inner_texts() == ["/data/report.csv (2.0 KB)", "/data/plot.txt (12 B)"]
    assert page.locator("#files-count").inner_text() == "2"
    # The same files again (nothing new) add nothing to the card.
    render(page, {"type": "FilesChanged", "run_id": "run-f", "step": 2,
                  "files": [{"path": "/data/report.csv", "size": 2048}, {"path": "/data/plot.txt", "size": 12}]})
    assert page.locator(".files-written").count() == 1
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download /data/report.csv").first.click()
        page.wait_for_function("window.__posted.some((m) => m.type === 'get-file')")
        [request] = posted(page, "get-file")
        assert request["path"] == "/data/report.csv"
        page.evaluate("""(id) => window.codeact.agent.worker.onmessage({ data: { type: 'reply', id, ok: true,
          value: { path: '/data/report.csv', bytes: new TextEncoder().encode('x,y\\n1,2\\n').buffer } } })""",
                      request["id"])
    download = download_info.value
    assert download.suggested_filename == "report.csv"
    target = tmp_path / "report.csv"
    download.save_as(target)
    assert target.read_text() == "x,y\n1,2\n"
    page.get_by_role("button", name="Files").click()
    assert page.locator("[data-files-out] .file").count() == 2
    assert page.locator("#files-count").is_hidden()  # opening the panel marks them seen


RUN = """([task, settings]) => new Promise((resolve) => {
  const events = [];
  const id = window.codeact.agent.startRun(task, settings);
  window.codeact.agent.onEvent((e) => {
    if (e.run_id !== id) return;
    events.push(e);
    if (e.type === 'RunFinished') resolve(events);
  });
})"""


def test_a_picked_file_is_read_by_the_code_and_its_output_downloads(ready_page, model_server, tmp_path) -> None:
    """The whole path: file picker -> worker -> /workspace of the run's sandbox -> model code reads it and writes
    an output file -> FilesChanged -> Download in the Files panel gives the bytes the code wrote."""
    page = ready_page
    page.get_by_role("button", name="Files").click()
    page.locator("#files input[type=file]").set_input_files(
        files=[{"name": "numbers.csv", "mimeType": "text/csv", "buffer": b"n\n3\n4\n5\n"}])
    page.wait_for_function("document.querySelector('[data-files-in] .file')?.dataset.state === 'ok'")
    assert "in the sandbox as /workspace/numbers.csv" in page.locator("[data-files-in] .file").inner_text()
    page.keyboard.press("Escape")
    model_server.enqueue(
        "```python\nimport os\nrows = open('numbers.csv').read().split()[1:]\n"
        "total = sum(int(r) for r in rows)\nos.mkdir('out')\n"
        "with open('/workspace/out/total.txt', 'w') as f:\n    f.write('total=%d\\n' % total)\n"
        "print(total)\n```",
        "```python\nfinal_answer(open('out/total.txt').read())\n```")
    settings = {"provider": "openai", "baseUrl": model_server.url + "/v1", "model": "scripted-model"}
    events = page.evaluate(RUN, ["Sum the numbers", settings])
    assert events[-1]["status"] == "finished", [e for e in events if e["type"] in ("RunError", "Observation")]
    assert events[-1]["final_answer"] == "total=12\n"
    changed = next(e for e in events if e["type"] == "FilesChanged")
    assert changed["step"] == 1
    assert {"path": "/workspace/out/total.txt", "size": 9} in changed["files"]
    assert "total=12" not in str([e for e in events if e["type"] == "FilesChanged"])  # listings, never contents
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download /workspace/out/total.txt").first.click()
    target = tmp_path / "total.txt"
    download_info.value.save_as(target)
    assert target.read_bytes() == b"total=12\n"


def test_a_file_over_the_limit_is_refused_with_a_typed_visible_error(ready_page) -> None:
    page = ready_page
    error = page.evaluate("""async () => {
      try {
        const bytes = new ArrayBuffer(50 * 1024 * 1024 + 1);
        await window.codeact.agent.request('put-file', { name: 'big.bin', bytes });
        return null;
      } catch (err) { return { name: err.name, detail: err.detail }; }
    }""")
    assert error["name"] == "FileTooLarge" and error["detail"]["limit"] == 50 * 1024 * 1024
    page.get_by_role("button", name="Files").click()
    page.evaluate("""() => {
      const file = new File([new Uint8Array(8)], 'huge.bin');
      Object.defineProperty(file, 'size', { value: 60 * 1024 * 1024 });
      return window.codeact.ui.files.put(file).catch(() => {});
    }""")
    row = page.locator("[data-files-in] .file[data-state='error']")
    expect_text = row.inner_text()
    assert "not sent: FileTooLarge" in expect_text and "50.0 MB" in expect_text
