"""BrowserSandbox in the real page, cell after cell, in both hosting modes (SECURITY-CASES 1-5, 11-14).

One Python script per mode drives the sandbox from the agent worker (`execPython`) and returns every result by
name; the tests below each check one behaviour on those results. "isolated" serves the app with COOP/COEP (tool
calls block on a shared buffer), "plain" without (the agent rewrites cells so tool calls are awaited): the same
cells must give the same answers in both.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import OfflineGuard

pytestmark = pytest.mark.browser

TIMEOUT_MS = 1500
OUTPUT_LIMIT = 5000

SCRIPT = r'''
import asyncio, json
from agent_py.sandbox import BrowserSandbox
from agent_py.sandbox_tools import SandboxTool

CALLS = {"add": 0, "echo": 0, "hang": 0}

async def add(args):
    CALLS["add"] += 1
    return args["a"] + args["b"]

async def echo(args):
    CALLS["echo"] += 1
    return args["text"]

async def broken(args):
    raise ValueError("the tool broke")

async def hang(args):
    CALLS["hang"] += 1
    await asyncio.get_event_loop().create_future()  # never resolves

class Thing:
    pass

async def bad(args):
    kind = args["kind"]
    if kind == "nan":
        return {"v": float("nan")}
    if kind == "bytes":
        return [b"raw"]
    if kind == "object":
        return {"v": Thing()}
    cycle = []
    cycle.append(cycle)
    return cycle

def obj(props, required=None):
    return {"type": "object", "properties": props, "required": list(props) if required is None else required}

TOOLS = [
    SandboxTool("add", "Add two integers.", add, obj({"a": {"type": "integer"}, "b": {"type": "integer"}}),
                returns={"type": "integer"}),
    SandboxTool("echo", "Return the text.", echo, obj({"text": {"type": "string"}})),
    SandboxTool("broken", "Always fails.", broken),
    SandboxTool("hang", "Never answers.", hang),
    SandboxTool("bad", "Returns something JSON cannot carry.", bad,
                obj({"kind": {"type": "string", "enum": ["nan", "bytes", "object", "cycle"]}})),
]

R = {}
box = await BrowserSandbox.create("suite", tools=TOOLS, timeout_ms=TIMEOUT_MS, memory_mb=64,
                                  output_limit=OUTPUT_LIMIT)
R["is_async"] = box.is_async

async def run(key, code):
    # Bounded: a sandbox that never kills its cell fails the test here instead of hanging it.
    R[key] = await asyncio.wait_for(box.run(code), 60)

# --- state, final_answer -----------------------------------------------------------------------------------
await run("define", "x = add(2, 3)\ndef double(n):\n    return n * 2\nprint('x is', x)")
await run("globals_kept", "y = double(x)\nprint(x, y)")
await run("final_except_exception", "try:\n    final_answer(x * 10)\nexcept Exception:\n    print('swallowed')")
await run("final_except_base", "try:\n    final_answer({'a': [1, 2]})\nexcept BaseException:\n    print('swallowed')\n"
          "print('after')")
await run("after_final", "print('not final', y)")

# --- timeouts: the kill path, then replay ------------------------------------------------------------------
R["add_calls_before_kills"] = CALLS["add"]
await run("busy_loop", "while True:\n    pass")
await run("after_busy_loop", "print('after the kill', x, y, double(4))")
await run("sleep", "import time\ntime.sleep(600)")
await run("after_sleep", "print('after sleep', x)")
await run("hang_tool", "z = hang()")
await run("after_hang", "print('after hang', x)")
R["add_calls_after_kills"] = CALLS["add"]
R["hang_calls"] = CALLS["hang"]

# --- memory ------------------------------------------------------------------------------------------------
await run("bytearray_uncaught", "b = bytearray(10**9)")
await run("after_bytearray", "print('after bytearray', x)")
await run("list_uncaught", "chunks = []\nwhile True:\n    chunks.append('x' * 100000)")
await run("after_list", "print('after list', x)")
# Caught bombs in a session of their own: a cell that caught MemoryError counts as a success but is never replayed
# (on a fresh worker a list growing to the cap can stall until the deadline); a kill says what that lost.
mbox = await BrowserSandbox.create("memory", timeout_ms=TIMEOUT_MS, memory_mb=64)
await mbox.run("x = 5")
R["bytearray_caught"] = await mbox.run("try:\n    b = bytearray(10**9)\n"
                                       "except MemoryError:\n    print('caught bytearray')")
R["after_bytearray_caught"] = await mbox.run("print('fine', x)")
R["list_caught"] = await mbox.run("try:\n    chunks = []\n    while True:\n        chunks.append('x' * 100000)\n"
                                  "except MemoryError:\n    chunks = None\n    print('caught list')")
R["after_list_caught"] = await mbox.run("print('after caught list', x)")
R["memory_kill"] = await mbox.run("while True:\n    pass")
R["memory_after_kill"] = await mbox.run("print('x is back', x)")
R["memory_lost"] = await mbox.run("print(chunks)")
# The cap itself: 1 MB blocks kept until a MemoryError, in a session of its own (a cell that caught a MemoryError
# is never replayed, which would change the notes above). Under a 64 MB cap they stop short of 64.
cbox = await BrowserSandbox.create("cap", timeout_ms=20_000, memory_mb=64)
R["cap"] = await cbox.run("n = 0\nkeep = []\ntry:\n    while n < 256:\n        keep.append(bytearray(1 << 20))\n"
                          "        n += 1\nexcept MemoryError:\n    pass\nkeep = None\nprint(n)")

# --- recursion, output ------------------------------------------------------------------------------------
await run("recursion", "def f(n):\n    return f(n + 1)\nf(0)")
await run("after_recursion", "print('after recursion', x)")
# 10 MB at 1000 bytes a line, in a session of its own with room to print it all on a busy machine.
obox = await BrowserSandbox.create("output", timeout_ms=60_000, output_limit=OUTPUT_LIMIT)
R["prints"] = await obox.run("for i in range(10000):\n    print('%05d' % i + 'x' * 994)")
R["prints_size"] = len(json.dumps(R["prints"]))

# --- tool errors (12), arguments (13), results (14) ------------------------------------------------------
await run("tool_raises_caught",
          "try:\n    broken()\nexcept ToolError as e:\n    print(type(e).__name__, isinstance(e, ToolError), '|', e)")
await run("tool_raises", "broken()")
await run("wrong_type", "add('two', 3)")
await run("wrong_type_caught", "try:\n    add(1.5, 3)\nexcept ToolArgumentError as e:\n    print('caught', e)")
await run("missing_arg", "add(1)")
await run("missing_arg_direct", CALL + "('add', {'a': 1})")
await run("unknown_arg", CALL + "('add', {'a': 1, 'b': 2, 'c': 3})")
await run("enum", "bad('pickle')")
await run("unknown_tool", CALL + "('nope', {})")
await run("unknown_name", "nope(1)")
for kind in ("nan", "bytes", "object", "cycle"):
    await run("bad_" + kind, "try:\n    bad(" + repr(kind) + ")\nexcept ToolResultError as e:\n"
              "    print('refused', type(e).__name__, e)")
await run("survived", "print('still alive', x, y)")

# --- tools from helpers, loops, comprehensions (what the async rewrite must handle) --------------------------
await run("helper_loop", "def total(xs):\n    s = 0\n    for v in xs:\n        s = add(s, v)\n    return s\n"
          "t = total([1, 2, 3, 4])\nprint(t)")
await run("helper_later_cell", "print(total([5, 5]), t)")
await run("comprehensions", "sq = [add(i, i) for i in range(5)]\nd = {k: echo(k) for k in ['p', 'q']}\n"
          "s = {echo(c) for c in 'aab'}\nprint(sq, sorted(d.items()), sorted(s))")
await run("nested_helpers", "def outer(n):\n    return [total([i, n]) for i in range(3) if i != 1]\n"
          "def twice(n):\n    return outer(n) + outer(n + 1)\nprint(twice(10))")

# --- files -------------------------------------------------------------------------------------------------
R["put"] = await box.put_file("/workspace/data/in.txt", b"hello\nfiles")
await run("read_file", "lines = open('/workspace/data/in.txt').read().split('\\n')\n"
          "with open('/workspace/out.txt', 'w') as fh:\n    fh.write('|'.join(reversed(lines)))\nprint(lines)")
R["get"] = (await box.get_file("/workspace/out.txt")).decode()
R["list"] = sorted(f["path"] for f in await box.list_files())
try:
    await box.put_file("/etc/passwd", b"x")
    R["put_outside"] = "accepted"
except Exception as err:
    R["put_outside"] = type(err).__name__ + ": " + str(err)
await run("kill_with_files", "while True:\n    pass")
await run("files_after_kill", "print(open('/workspace/data/in.txt').read().upper(), lines)")
R["listing"] = await box.tools_listing()

# --- replay divergence: an earlier cell asks a tool something else on replay --------------------------------
rbox = await BrowserSandbox.create("replay", tools=TOOLS, timeout_ms=TIMEOUT_MS)
await rbox.put_file("/workspace/v.txt", b"one")
R["r_keep"] = await rbox.run("keep = 'kept'")
R["r_echo"] = await rbox.run("v = open('v.txt').read()\nechoed = echo(v)")
R["r_after"] = await rbox.run("after = echoed + '!'")
R["r_echo_calls"] = CALLS["echo"]
await rbox.put_file("/workspace/v.txt", b"two")  # uploads go back into a replacement worker: replay reads "two"
R["r_kill"] = await rbox.run("while True:\n    pass")
R["r_echo_calls_after"] = CALLS["echo"]
R["r_kept"] = await rbox.run("print(keep)")
R["r_lost"] = await rbox.run("print(echoed)")
R["r_kill_again"] = await rbox.run("while True:\n    pass")
R["r_second_restore"] = await rbox.run("print(keep, 'again')")
R
'''


def _run_script(browser, url: str) -> tuple[dict, OfflineGuard, list[str]]:  # noqa: ANN001 - Playwright Browser
    context = browser.new_context()
    guard = OfflineGuard()
    context.route("**/*", guard)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    try:
        page.goto(url)
        page.wait_for_function("window.codeact && document.body.dataset.pythonReady === 'true'", timeout=60_000)
        isolated = page.evaluate("self.crossOriginIsolated")
        call = "_call_tool" if isolated else "await _call_tool_async"
        code = f"TIMEOUT_MS = {TIMEOUT_MS}\nOUTPUT_LIMIT = {OUTPUT_LIMIT}\nCALL = {call!r}\n" + SCRIPT
        results = page.evaluate("(c) => window.codeact.agent.execPython(c)", code)
    finally:
        context.close()
    return results, guard, console


@pytest.fixture(scope="module", params=["isolated", "plain"])
def r(request, browser, app_url, app_url_plain):  # noqa: ANN001, ANN201
    results, guard, _console = _run_script(browser, app_url if request.param == "isolated" else app_url_plain)
    assert not guard.violations, guard.violations
    results["mode"] = request.param
    return results


def _err(result: dict) -> str:
    return (result.get("error") or {}).get("type", "")


def test_mode_matches_the_hosting(r) -> None:  # noqa: ANN001
    assert r["is_async"] is (r["mode"] == "plain")


def test_session_keeps_globals_and_functions(r) -> None:  # noqa: ANN001
    assert r["define"]["stdout"] == "x is 5\n" and r["define"].get("error") is None
    assert r["define"]["tool_calls"] == [{"tool": "add", "arguments": {"a": 2, "b": 3}, "ok": True}]
    assert r["globals_kept"]["stdout"] == "5 10\n"


def test_final_answer_survives_except_exception_and_base_exception(r) -> None:  # noqa: ANN001
    a, b = r["final_except_exception"], r["final_except_base"]
    assert a["final"] is True and a["final_value"] == 50 and a["stdout"] == "" and a.get("error") is None
    # `except BaseException` does catch the signal (the handler and what follows run, as in CPython), but the value
    # was recorded first: the cell still ends with a final answer.
    assert b["final"] is True and b["final_value"] == {"a": [1, 2]} and b["stdout"] == "swallowed\nafter\n"
    assert b.get("error") is None
    assert r["after_final"]["final"] is False and r["after_final"]["stdout"] == "not final 10\n"


@pytest.mark.parametrize("key", ["busy_loop", "sleep", "hang_tool"])
def test_timeouts_kill_at_the_deadline_and_restore(r, key) -> None:  # noqa: ANN001
    killed = r[key]
    assert _err(killed) == "SandboxTimeout", killed
    assert str(TIMEOUT_MS) in killed["error"]["message"]
    assert TIMEOUT_MS - 50 <= killed["elapsed_ms"] < TIMEOUT_MS + 300  # the kill path, not a performance figure
    assert 0 <= killed["kill_overshoot_ms"] < 300  # the frame's own measure (kill time minus deadline); see below
    assert killed["restored"] is True and "all" in killed["restore_note"] and "replayed" in killed["restore_note"]


def test_kills_land_within_50_ms_of_the_deadline(r) -> None:  # noqa: ANN001
    # The bound, on the frame's own measure. The median of the module's timeout kills: one kill delayed by a
    # machine loaded far past its cores (other test runs) says nothing about the deadline's clock.
    overshoots = sorted(r[key]["kill_overshoot_ms"] for key in ("busy_loop", "sleep", "hang_tool", "kill_with_files",
                                                                "memory_kill", "r_kill", "r_kill_again"))
    assert overshoots[len(overshoots) // 2] <= 50, overshoots


def test_next_cell_works_after_each_kill_with_state_back(r) -> None:  # noqa: ANN001
    assert r["after_busy_loop"]["stdout"] == "after the kill 5 10 8\n"
    assert r["after_sleep"]["stdout"] == "after sleep 5\n"
    assert r["after_hang"]["stdout"] == "after hang 5\n"


def test_replay_does_not_repeat_tool_side_effects(r) -> None:  # noqa: ANN001
    # Three kills, each replaying the cell that called add(2, 3): the tool itself ran no more times.
    assert r["add_calls_after_kills"] == r["add_calls_before_kills"] == 1
    assert r["hang_calls"] == 1


def test_memory_bombs(r) -> None:  # noqa: ANN001
    assert _err(r["bytearray_uncaught"]) == "MemoryError" and r["bytearray_uncaught"]["restored"] is True
    assert r["after_bytearray"]["stdout"] == "after bytearray 5\n"
    assert r["bytearray_caught"]["stdout"] == "caught bytearray\n"
    assert r["after_bytearray_caught"]["stdout"] == "fine 5\n"
    # A growing list ends at the cap as MemoryError or, when the VM stalls at the cap, at the deadline: a kill
    # either way, and the worker is replaced with the state back.
    lst = r["list_uncaught"]
    assert _err(lst) in {"MemoryError", "SandboxTimeout", "SandboxMemoryError"} and lst["restored"] is True
    assert r["after_list"]["stdout"] == "after list 5\n"
    caught = r["list_caught"]
    assert caught["stdout"] == "caught list\n" or (_err(caught) in {"SandboxTimeout", "SandboxMemoryError"}
                                                    and caught["restored"] is True), caught
    assert r["after_list_caught"]["stdout"] == "after caught list 5\n"
    # The cap holds: what a cell can keep stops short of the session's 64 MB, not at the browser's limit.
    assert r["cap"].get("error") is None and 0 < int(r["cap"]["stdout"]) < 64, r["cap"]


def test_cells_that_caught_a_memory_error_are_not_replayed(r) -> None:  # noqa: ANN001
    kill = r["memory_kill"]
    assert _err(kill) == "SandboxTimeout" and kill["restored"] is True
    # The first restore after the caught bombs is the one that leaves them out (and says so): this kill's when both
    # bomb cells succeeded, else the caught list bomb's own, killed at the deadline (then only the bytearray cell,
    # which fails fast, succeeded).
    if r["list_caught"]["stdout"] == "caught list\n":
        note = kill["restore_note"]
        assert "2 more cells were not replayed" in note and note.endswith("names defined only there: b, chunks"), note
    else:
        note = r["list_caught"]["restore_note"]
        assert "1 more cell was not replayed" in note and note.endswith("names defined only there: b"), note
    assert "MemoryError" in note, note
    assert r["memory_after_kill"]["stdout"] == "x is back 5\n"
    assert _err(r["memory_lost"]) == "NameError"


def test_deep_recursion_is_a_runtime_error(r) -> None:  # noqa: ANN001
    rec = r["recursion"]
    assert _err(rec) == "RuntimeError" and "recursion" in rec["error"]["message"]
    assert rec.get("restored") is None  # not a kill: the worker stays
    assert r["after_recursion"]["stdout"] == "after recursion 5\n"


def test_ten_megabytes_of_output_is_truncated_with_a_marker(r) -> None:  # noqa: ANN001
    out = r["prints"]
    assert out.get("error") is None and out["truncated"] is True
    assert "bytes of output cut" in out["stdout"]
    assert len(out["stdout"]) < OUTPUT_LIMIT + 200
    assert out["stdout"].startswith("00000" + "x" * 994 + "\n00001")
    assert out["stdout"].endswith("09999" + "x" * 994 + "\n")
    assert r["prints_size"] < OUTPUT_LIMIT + 2000  # the whole result message stays bounded


def test_tool_errors_are_error_name_and_message(r) -> None:  # noqa: ANN001
    assert r["tool_raises_caught"]["stdout"] == "ToolError True | ValueError: the tool broke\n"
    raised = r["tool_raises"]["error"]
    assert raised["type"] == "ToolError" and raised["message"] == "ValueError: the tool broke"
    assert r["tool_raises"]["tool_calls"][0]["error"].endswith("the tool broke")


def test_argument_errors_name_the_tool_and_signature(r) -> None:  # noqa: ANN001
    signature = "add(a: int, b: int) -> int"
    wrong = r["wrong_type"]["error"]
    assert wrong["type"] == "ToolArgumentError" and signature in wrong["message"] and "a must be integer" in wrong[
        "message"]
    assert r["wrong_type_caught"]["stdout"].startswith("caught add: a must be integer, got float 1.5")
    assert _err(r["missing_arg"]) == "TypeError"  # the stub's own Python signature
    direct = r["missing_arg_direct"]["error"]
    assert direct["type"] == "ToolArgumentError" and "missing b" in direct["message"] and signature in direct[
        "message"]
    unknown = r["unknown_arg"]["error"]
    assert unknown["type"] == "ToolArgumentError" and "unknown argument c" in unknown["message"]
    enum = r["enum"]["error"]
    assert enum["type"] == "ToolArgumentError" and "kind must be one of" in enum["message"] and "bad(kind:" in enum[
        "message"]
    assert _err(r["unknown_tool"]) == "UnknownTool" and "nope" in r["unknown_tool"]["error"]["message"]
    assert _err(r["unknown_name"]) == "NameError"


@pytest.mark.parametrize("kind", ["nan", "bytes", "object", "cycle"])
def test_non_json_results_are_tool_result_errors(r, kind) -> None:  # noqa: ANN001
    out = r["bad_" + kind]
    assert out.get("error") is None and out["stdout"].startswith("refused ToolResultError bad"), out


def test_sandbox_survives_the_bad_cells(r) -> None:  # noqa: ANN001
    assert r["survived"]["stdout"] == "still alive 5 10\n"


def test_tools_from_helpers_loops_and_comprehensions(r) -> None:  # noqa: ANN001
    assert r["helper_loop"]["stdout"] == "10\n" and [c["tool"] for c in r["helper_loop"]["tool_calls"]] == ["add"] * 4
    assert r["helper_later_cell"]["stdout"] == "10 10\n"
    assert r["comprehensions"]["stdout"] == "[0, 2, 4, 6, 8] [('p', 'p'), ('q', 'q')] ['a', 'b']\n"
    assert len(r["comprehensions"]["tool_calls"]) == 5 + 2 + 3
    assert r["nested_helpers"]["stdout"] == "[10, 12, 11, 13]\n" and r["nested_helpers"].get("error") is None


def test_files_put_get_list_and_survive_a_kill(r) -> None:  # noqa: ANN001
    assert r["put"] == {"path": "/workspace/data/in.txt", "size": 11}
    assert r["read_file"]["stdout"] == "['hello', 'files']\n"
    assert r["get"] == "files|hello"
    assert r["list"] == ["/workspace/data/in.txt", "/workspace/out.txt"]
    # A refused request is a typed SandboxError naming the sandbox and the operation, not a bare JsException.
    assert r["put_outside"].startswith("SandboxError: sandbox suite: writing /etc/passwd failed"), r["put_outside"]
    assert "/workspace/" in r["put_outside"]
    kill = r["kill_with_files"]
    assert _err(kill) == "SandboxTimeout" and "all" in kill["restore_note"], kill
    assert r["files_after_kill"]["stdout"] == "HELLO\nFILES ['hello', 'files']\n", r["files_after_kill"]


def test_tools_listing_is_python(r) -> None:  # noqa: ANN001
    assert "def add(a: int, b: int) -> int:" in r["listing"]
    assert "def bad(kind: Literal['nan', 'bytes', 'object', 'cycle']) -> Any:" in r["listing"]


def test_replay_divergence_keeps_the_prefix_and_names_what_was_lost(r) -> None:  # noqa: ANN001
    assert r["r_echo"].get("error") is None and r["r_echo_calls"] >= 1
    kill = r["r_kill"]
    assert _err(kill) == "SandboxTimeout"
    assert kill["restored"] is True
    note = kill["restore_note"]
    assert "1 of 3 earlier cells were replayed" in note, note
    assert "cells 2-3 were lost" in note and "echo" in note
    assert "names defined only there: after, echoed, v" in note
    assert r["r_echo_calls_after"] == r["r_echo_calls"]  # the diverging replay never reached the real tool
    assert r["r_kept"]["stdout"] == "kept\n"
    assert _err(r["r_lost"]) == "NameError"
    # The lost cells are gone from the history: the next restore replays the kept prefix (and `print(keep)`) only.
    assert "all 2 earlier cells were replayed" in r["r_kill_again"]["restore_note"]
    assert r["r_second_restore"]["stdout"] == "kept again\n"


def test_both_modes_print_the_same(browser, app_url, app_url_plain) -> None:  # noqa: ANN001
    """Pure cells whose output is the same whether tools block or are awaited (smaller, separate run)."""
    script = (
        "from agent_py.sandbox import BrowserSandbox\nfrom agent_py.sandbox_tools import SandboxTool\n"
        "async def up(a):\n    return a['s'].upper()\n"
        "t = [SandboxTool('up', 'Upper.', up, {'type': 'object', 'properties': {'s': {'type': 'string'}}, "
        "'required': ['s']})]\n"
        "b = await BrowserSandbox.create('same', tools=t)\n"
        "out = []\n"
        "for c in CELLS:\n    out.append((await b.run(c))['stdout'])\nout"
    )
    cells = ["def shout(w):\n    return up(w) + '!'\nwords = [shout(w) for w in 'ab cd'.split()]\nprint(words)",
             "print(sorted({w: len(w) for w in words}.items()), up(s='x'))",
             "class K:\n    def m(self):\n        return 3\nprint(K().m(), [shout(c) for c in 'xy' if c != 'y'])"]
    outputs = []
    for url in (app_url, app_url_plain):
        context = browser.new_context()
        guard = OfflineGuard()
        context.route("**/*", guard)
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("window.codeact && document.body.dataset.pythonReady === 'true'", timeout=60_000)
        outputs.append(page.evaluate("(c) => window.codeact.agent.execPython(c)",
                                     f"CELLS = {json.dumps(cells)}\n" + script))
        context.close()
        assert not guard.violations, guard.violations
    assert outputs[0] == outputs[1] == ["['AB!', 'CD!']\n", "[('AB!', 3), ('CD!', 3)] X\n", "3 ['X!']\n"]
