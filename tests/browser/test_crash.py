"""Crashes mid-run (SECURITY-CASES 25, issue #9 "Reload and crash"): a sandbox worker killed while the agent is
still serving one of its tool calls, and a tab closed mid-run while another tab of the app is open. A page reload
mid-run is test_loop_browser.py's, a full storage quota test_ui_history.py's."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_loop_browser import STORED_RUN, WAIT_STORED, settings_for
from tests.browser.ui_support import PYTHON_READY
from tests.conftest import OfflineGuard

pytestmark = pytest.mark.browser

TIMEOUT_MS = 1500

# A session whose cell is killed at its deadline while the agent is still inside a tool call; the tool answers
# only after the kill, when the next cell is itself waiting on a tool. The worker numbers its calls from 1 again
# after a kill and the replay makes the same calls as before, so the late reply carries the same call id as the
# next cell's call: it must be dropped, not handed to the new worker.
KILL_SCRIPT = r'''
import asyncio
from agent_py.sandbox import BrowserSandbox
from agent_py.sandbox_tools import SandboxTool

CALLS = {"record": 0, "slow": 0, "gate": 0}
release_slow = asyncio.get_event_loop().create_future()

async def record(args):
    CALLS["record"] += 1  # the side effect a replay must not repeat
    return "recorded " + args["text"]

async def slow(args):
    CALLS["slow"] += 1
    await release_slow  # still being served when the sandbox is killed
    return "late reply"

async def gate(args):
    CALLS["gate"] += 1
    if not release_slow.done():
        release_slow.set_result(None)  # slow() answers now, while this call waits
    await asyncio.sleep(0.3)
    return "gate " + args["text"]

def obj(props):
    return {"type": "object", "properties": props, "required": list(props)}

TEXT = obj({"text": {"type": "string"}})
TOOLS = [SandboxTool("record", "Record a text (a side effect).", record, TEXT),
         SandboxTool("slow", "Answers late.", slow),
         SandboxTool("gate", "Lets slow() answer, then answers.", gate, TEXT)]
box = await BrowserSandbox.create("crash", tools=TOOLS, timeout_ms=TIMEOUT_MS, memory_mb=64)
R = {"is_async": box.is_async}
R["first"] = await box.run("first = record('one')\nprint(first)")
R["killed"] = await asyncio.wait_for(box.run("late = slow()\nprint('never', late)"), TIMEOUT_MS / 1000 + 20)
R["calls_after_kill"] = dict(CALLS)
R["next"] = await asyncio.wait_for(box.run("mine = gate('mine')\nprint(mine, '|', first)"), 30)
R["after"] = await box.run("print(mine, '|', first)")
R["busy"] = await box.run("while True:\n    pass")
R["after_busy"] = await box.run("print(mine, '|', first)")
R["calls"] = dict(CALLS)

# Closed (a stopped run closes its sandbox) while its cell waits on a tool: the cell ends at once, the late reply
# goes to a session that is gone, and the other session goes on.
TERMINATED = {"calls": 0}
release_closed = asyncio.get_event_loop().create_future()

async def waits(args):
    TERMINATED["calls"] += 1
    await release_closed
    return "late reply"

cbox = await BrowserSandbox.create("closed", tools=[SandboxTool("waits", "Answers late.", waits)], timeout_ms=60_000)
cell = asyncio.ensure_future(cbox.run("late = waits()"))
for _ in range(500):
    if TERMINATED["calls"]:
        break
    await asyncio.sleep(0.02)
await cbox.close()
R["closed"] = await asyncio.wait_for(cell, 20)
release_closed.set_result(None)
await asyncio.sleep(0.3)
R["after_close"] = await box.run("print(mine, '|', first)")
R["closed_calls"] = TERMINATED["calls"]
R
'''


@pytest.mark.parametrize("isolated", [True, False], ids=["blocking-calls", "awaited-calls"])
def test_a_sandbox_killed_mid_tool_call_drops_the_late_reply_and_repeats_no_side_effect(
        browser: Any, app_url: str, app_url_plain: str, isolated: bool) -> None:
    context = browser.new_context()
    guard = OfflineGuard()
    context.route("**/*", guard)
    try:
        page = context.new_page()
        page.goto(app_url if isolated else app_url_plain)
        page.wait_for_function(PYTHON_READY, timeout=60_000)
        r = page.evaluate("(c) => window.codeact.agent.execPython(c)",
                          f"TIMEOUT_MS = {TIMEOUT_MS}\n" + KILL_SCRIPT)
    finally:
        context.close()
    assert not guard.violations, guard.violations
    assert r["is_async"] is (not isolated)
    assert r["first"]["stdout"] == "recorded one\n"
    # The agent did not wait for its tool: the cell ended at its deadline, the tool still unanswered.
    killed = r["killed"]
    assert killed["error"]["type"] == "SandboxTimeout" and killed["restored"] is True, killed
    assert r["calls_after_kill"] == {"record": 1, "slow": 1, "gate": 0}
    # The next cell got its own tool's answer, not the killed cell's late one, and the state is back.
    assert r["next"].get("error") is None, r["next"]
    assert r["next"]["stdout"] == "gate mine | recorded one\n"
    assert r["after"]["stdout"] == "gate mine | recorded one\n"
    # Another kill replays both cells from their recordings: no tool ran a second time.
    assert r["busy"]["error"]["type"] == "SandboxTimeout" and r["busy"]["restored"] is True
    assert r["after_busy"]["stdout"] == "gate mine | recorded one\n"
    assert r["calls"] == {"record": 1, "slow": 1, "gate": 1}
    # A session closed mid tool call: its cell ends typed, not hanging; the other session is untouched.
    assert r["closed_calls"] == 1 and r["closed"]["error"]["type"] == "SandboxCrashed", r["closed"]
    assert r["after_close"]["stdout"] == "gate mine | recorded one\n"


def test_a_tab_closed_mid_run_shows_as_interrupted_in_another_tab_which_continues_it(
        context: Any, offline_guard: OfflineGuard, app_url: str, model_server: Any) -> None:
    settings = settings_for(model_server, sandbox={"timeoutMs": 60_000})
    model_server.enqueue(
        "First.\n```python\nprint('step one done')\n```",
        "Now the side effect.\n```python\nshow_table(rows=[['sent']], title='side effect')\nimport time\n"
        "time.sleep(50)\n```")
    running = context.new_page()
    running.goto(app_url)
    running.wait_for_function(PYTHON_READY, timeout=60_000)
    running.evaluate("(s) => localStorage.setItem('codeact.settings', JSON.stringify(s))", settings)
    run_id = running.evaluate("(s) => window.codeact.agent.startRun('Do two things', s)", settings)
    # The side effect happened and is stored; the cell is still sleeping.
    assert running.evaluate(WAIT_STORED, [run_id, "Display"])

    # A second tab opened meanwhile finds the run stored as running, held by the first tab: it leaves it alone.
    other = context.new_page()
    other.goto(app_url)
    other.wait_for_function(PYTHON_READY, timeout=60_000)
    assert other.evaluate(STORED_RUN, run_id)["status"] == "running"
    expect(other.locator(".run")).to_have_count(0)

    running.close()  # the tab goes away mid-step: the browser frees its run lock
    run = other.locator(f".run[data-run-id='{run_id}']")
    expect(run.locator(".badge")).to_contain_text("interrupted", timeout=30_000)
    expect(other.locator("#notices")).to_contain_text("was interrupted when the page closed")
    expect(run.locator(".step[data-step='1'] .output")).to_contain_text("step one done")
    expect(run.locator(".step[data-step='2']")).to_have_attribute("data-state", "interrupted")
    expect(run.locator(".run-status")).to_contain_text("Interrupted")
    stored = other.evaluate(STORED_RUN, run_id)
    assert stored["status"] == "interrupted" and stored["stopReason"] == "page_closed"
    assert [(s["step"], s["status"]) for s in stored["steps"]] == [(1, "done"), (2, "interrupted")]

    # Continue in the other tab: the cut step is not run again, the run goes on after it.
    model_server.enqueue("The table was shown already.\n```python\nfinal_answer('finished in the other tab')\n```")
    run.get_by_role("button", name="Continue this run").click()
    other.wait_for_function("(id) => window.codeact.ui.records.get(id)?.status === 'finished'", arg=run_id,
                            timeout=60_000)
    record = other.evaluate("(id) => window.codeact.ui.records.get(id)", run_id)
    assert record["finalAnswer"] == "finished in the other tab"
    assert sum(e["type"] == "Display" for e in record["events"]) == 1  # the side-effecting tool ran once
    assert [s["step"] for s in record["steps"]] == [1, 2, 3]
    assert other.evaluate(STORED_RUN, run_id)["status"] == "finished"
