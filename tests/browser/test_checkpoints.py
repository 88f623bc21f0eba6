"""Workspace checkpoints in the real page: a scripted model's steps create, modify and delete files in the real
sandbox; each changing step leaves a checkpoint (diff, restore, zip) that is stored with the run and survives a
reload; the per-run cap drops the oldest with a notice."""

from __future__ import annotations

import io
import zipfile

import pytest

pytestmark = pytest.mark.browser

RUN = """([task, settings]) => new Promise((resolve) => {
  const events = [];
  const runId = window.codeact.agent.startRun(task, settings);
  window.codeact.agent.onEvent((e) => {
    if (e.run_id !== runId) return;
    events.push(e);
    if (e.type === 'RunFinished') resolve(events);
  });
})"""

# Resolves once the run's record is stored finished with `count` checkpoints and their contents are in IndexedDB.
STORED = """async ([id, count]) => {
  const store = await window.codeact.ui.store;
  for (;;) {
    const record = await store.getRun(id);
    if (record?.status === 'finished' && record.checkpoints?.length === count) return record.checkpoints;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}"""


def code(body: str) -> str:
    return f"```python\n{body}\n```"


def write(name: str, mode: str, data: str) -> str:
    """Model code that writes a file and closes it (MicroPython flushes a file's buffer only on close)."""
    return f"with open({name!r}, {mode!r}) as f:\n    f.write({data})"


def settings_for(model_server, **extra) -> dict:  # noqa: ANN001, ANN003
    return {"provider": "openai", "baseUrl": model_server.url + "/v1", "model": "scripted-model", **extra}


def run(page, model_server, task: str, *replies: str, **extra) -> list[dict]:  # noqa: ANN001, ANN003
    model_server.enqueue(*replies)
    events = page.evaluate(RUN, [task, settings_for(model_server, **extra)])
    assert events[-1]["status"] == "finished", [e for e in events if e["type"] in ("RunError", "Observation")]
    return events


def zip_of(page, step: int) -> dict[str, bytes]:  # noqa: ANN001
    with page.expect_download() as info:
        page.get_by_role("button", name=f"Download the workspace at step {step} as a zip").click()
    download = info.value
    assert download.suggested_filename == f"checkpoint-step-{step}.zip"
    with zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read())) as archive:  # noqa: SIM115
        return {name: archive.read(name) for name in archive.namelist()}


def test_steps_that_change_files_leave_checkpoints_to_diff_restore_download_and_reload(ready_page,
                                                                                      model_server) -> None:
    page = ready_page
    events = run(page, model_server, "Make some files",
                 code(write("a.txt", "w", "'one\\n'") + "\n" + write("b.bin", "wb", "bytes([0, 1, 2, 255])")),
                 code(write("a.txt", "a", "'two\\n'")),
                 code("print(open('a.txt').read())"),  # reads only: no checkpoint
                 code("import os\nos.remove('b.bin')"),
                 code("final_answer('done')"))
    run_id = events[0]["run_id"]
    checkpoints = [e for e in events if e["type"] == "Checkpoint"]
    assert [c["step"] for c in checkpoints] == [1, 2, 4]
    assert [[(c["path"], c["change"]) for c in e["changes"]] for e in checkpoints] == [
        [("/workspace/a.txt", "added"), ("/workspace/b.bin", "added")],
        [("/workspace/a.txt", "modified")],
        [("/workspace/b.bin", "deleted")],
    ]
    assert [f["path"] for f in checkpoints[2]["files"]] == ["/workspace/a.txt"]
    assert "+two" in checkpoints[1]["changes"][0]["diff"]
    assert [e["step"] for e in events if e["type"] == "FilesChanged"] == [1, 2, 4]

    # The step's card links to its checkpoint; the panel shows the diff the step made.
    assert "Checkpoint: +a.txt +b.bin" in page.locator(".step[data-step='1'] .checkpoint-note").inner_text()
    page.get_by_role("button", name="Open the checkpoint of step 4").click()
    assert "b.bin (deleted)" in page.get_by_role("region", name="Changes made by step 4").inner_text()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Checkpoints").click()
    rows = page.locator("#checkpoints .checkpoint")
    assert [rows.nth(i).get_attribute("data-step") for i in range(rows.count())] == ["1", "2", "4"]
    page.get_by_role("button", name="Show the changes of step 2").click()
    diff = page.get_by_role("region", name="Changes made by step 2")
    assert "+two" in diff.inner_text() and "binary" not in diff.inner_text()
    page.get_by_role("button", name="Show the changes of step 1").click()
    assert "binary file added" in page.get_by_role("region", name="Changes made by step 1").inner_text()

    # A zip of a checkpoint holds its files with their bytes.
    assert zip_of(page, 1) == {"a.txt": b"one\n", "b.bin": bytes([0, 1, 2, 255])}

    # Restore step 1, then a following step reads the restored files in the sandbox.
    page.get_by_role("button", name="Restore the workspace to step 1").click()
    page.wait_for_function("document.getElementById('checkpoints').dataset.restored === '1'")
    page.keyboard.press("Escape")
    after = run(page, model_server, "Read them back",
                code("import os\nfinal_answer([open('a.txt').read(), sorted(os.listdir('.'))])"))
    assert after[-1]["final_answer"] == ["one\n", ["a.txt", "b.bin"]]

    # Stored with the run: after a reload the checkpoints, their diffs and contents are still there.
    page.evaluate(STORED, [run_id, 3])
    page.reload()
    page.wait_for_function("document.body.dataset.uiReady === 'true'")
    page.get_by_role("button", name="History").click()
    page.locator(f"[data-history-list] li[data-run-id='{run_id}'] button[data-action='open']").click()
    page.get_by_role("button", name="Checkpoints").click()
    assert page.locator("#checkpoints .checkpoint").count() == 3
    page.get_by_role("button", name="Show the changes of step 2").click()
    assert "+two" in page.get_by_role("region", name="Changes made by step 2").inner_text()
    assert zip_of(page, 2) == {"a.txt": b"one\ntwo\n", "b.bin": bytes([0, 1, 2, 255])}
    assert zip_of(page, 4) == {"a.txt": b"one\ntwo\n"}


def test_the_cap_drops_the_oldest_checkpoints_with_a_notice(ready_page, model_server) -> None:
    page = ready_page
    cap_mb = 25 / (1024 * 1024)  # 25 bytes: two 10-byte contents fit, a third does not
    page.evaluate("""() => {  // every notice shown, even one already gone when the run ends
      window.__notices = [];
      new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach((n) =>
        window.__notices.push(n.textContent)))).observe(document.getElementById('notices'), { childList: true });
    }""")
    events = run(page, model_server, "Rewrite a file",
                 code(write("v.txt", "w", "'version 1\\n'")),
                 code(write("v.txt", "w", "'version 2\\n'")),
                 code(write("v.txt", "w", "'version 3\\n'")),
                 code("final_answer('ok')"), checkpointCapMb=cap_mb)
    run_id = events[0]["run_id"]
    dropped = [e for e in events if e["type"] == "CheckpointsDropped"]
    assert [(e["steps"], e["reason"]) for e in dropped] == [([1], "cap")]
    assert "dropped the oldest" in dropped[0]["message"]
    assert [n for n in page.evaluate("window.__notices") if "dropped the oldest" in n] == [dropped[0]["message"]]
    checkpoints = page.evaluate(STORED, [run_id, 2])
    assert [c["step"] for c in checkpoints] == [2, 3]
    first = next(e for e in events if e["type"] == "Checkpoint" and e["step"] == 1)["files"][0]["sha256"]
    kept = checkpoints[0]["files"][0]["sha256"]
    gone_and_kept = page.evaluate("""async ([id, first, kept]) => {
      const blobs = await window.codeact.ui.blobs;
      for (;;) {  // the drop is applied right after the event
        const old = await blobs.get(id, first);
        if (old === undefined) return [old === undefined, new TextDecoder().decode(await blobs.get(id, kept))];
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }""", [run_id, first, kept])
    assert gone_and_kept == [True, "version 2\n"]
    page.get_by_role("button", name="Checkpoints").click()
    assert page.locator("#checkpoints .checkpoint").count() == 2
    assert "dropped the oldest (step 1)" in page.locator("[data-checkpoints-dropped]").inner_text()


def test_a_bad_cap_setting_is_a_typed_error(ready_page, model_server) -> None:
    events = ready_page.evaluate(RUN, ["x", settings_for(model_server, checkpointCapMb=-1)])
    error = next(e for e in events if e["type"] == "RunError")["error"]
    assert error["type"] == "ConfigError" and error["field"] == "checkpointCapMb"
