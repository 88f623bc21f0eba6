"""The sandbox's limits and tools in the real page (SECURITY-CASES 1-5, 11-14): one session, cell after cell."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

SESSION = """
from agent_py.sandbox import BrowserSandbox
from agent_py.sandbox_tools import SandboxTool

async def add(args):
    return args["a"] + args["b"]

async def broken(args):
    raise ValueError("the tool broke")

async def not_json(args):
    return {"bad": float("nan")} if args["kind"] == "nan" else {"bad": b"bytes"}

schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}
tools = [SandboxTool("add", "Add two integers.", add, schema),
         SandboxTool("broken", "Always fails.", broken),
         SandboxTool("not_json", "Returns something JSON cannot carry.", not_json,
                     {"type": "object", "properties": {"kind": {"type": "string"}}, "required": ["kind"]})]
box = await BrowserSandbox.create("limits", tools=tools, timeout_ms=TIMEOUT, memory_mb=64, output_limit=5000)
results = []
for cell in CELLS:
    results.append(await box.run(cell))
results
"""

# Generous for a loaded CI machine: the output cell (8) must finish inside it; the kill cells prove the deadline.
TIMEOUT_MS = 3000
CELLS = [
    "x = add(2, 3)\nprint('x is', x)",                                            # 0 tool call, state
    "try:\n    final_answer(x * 10)\nexcept BaseException:\n    print('swallowed')",  # 1 final survives except
    "while True:\n    pass",                                                       # 2 timeout kill
    "print('after the kill, x is', x)",                                            # 3 state restored
    "import time\ntime.sleep(600)",                                                # 4 sleep: same kill path
    "b = bytearray(10**9)",                                                        # 5 memory bomb, caught
    "chunks = []\nwhile True:\n    chunks.append('x' * 100000)",                   # 6 growing list
    "def f(n):\n    return f(n + 1)\nf(0)",                                        # 7 recursion
    "for i in range(30000):\n    print('line', i)",                               # 8 huge output (~330 KB)
    "try:\n    broken()\nexcept ToolError as e:\n    print('caught', type(e).__name__, e)",  # 9 tool raises
    "add('two', 3)",                                                               # 10 wrong type
    "add(1)",                                                                      # 11 missing argument
    "nope(1)",                                                                     # 12 unknown name
    "try:\n    not_json('nan')\nexcept ToolResultError as e:\n    print('nan refused')",  # 13 not JSON
    "print('still alive', x)",                                                     # 14 survived all
]


@pytest.fixture(params=["isolated", "plain"])
def results(request, page, app_url, app_url_plain):  # noqa: ANN001, ANN201
    page.goto(app_url if request.param == "isolated" else app_url_plain)
    page.wait_for_function("document.body.dataset.pythonReady === 'true'", timeout=60_000)
    code = f"TIMEOUT = {TIMEOUT_MS}\nCELLS = {CELLS!r}\n" + SESSION
    return page.evaluate("(c) => window.codeact.agent.execPython(c)", code)


def test_limits_and_tools(results) -> None:  # noqa: ANN001
    r = results
    assert r[0]["stdout"] == "x is 5\n" and r[0]["tool_calls"][0]["arguments"] == {"a": 2, "b": 3}
    assert r[1]["final"] is True and r[1]["final_value"] == 50
    for killed in (r[2], r[4]):
        assert killed["error"]["type"] == "SandboxTimeout"
        assert killed["elapsed_ms"] < TIMEOUT_MS + 500  # the kill path, not a performance figure
        assert killed["restored"] is True
    assert r[3]["stdout"] == "after the kill, x is 5\n"
    assert r[5]["error"]["type"] == "MemoryError"
    # A growing list ends at the cap as MemoryError, or (a slow machine) at the deadline: either way, a kill.
    assert r[6]["error"]["type"] in {"MemoryError", "SandboxTimeout", "SandboxMemoryError"} and r[6]["restored"], r[6]
    assert r[7]["error"]["type"] == "RuntimeError" and "recursion" in r[7]["error"]["message"]
    assert r[8]["truncated"] is True and "bytes of output cut" in r[8]["stdout"] and len(r[8]["stdout"]) < 6000
    assert r[8]["stdout"].rstrip().endswith("line 29999")
    assert r[9]["stdout"].startswith("caught ToolError") and "the tool broke" in r[9]["stdout"]
    assert r[10]["error"]["type"] == "ToolArgumentError" and "add(a: int, b: int)" in r[10]["error"]["message"]
    assert r[11]["error"]["type"] == "TypeError"
    assert r[12]["error"]["type"] == "NameError"
    assert r[13]["stdout"] == "nan refused\n"
    assert r[14]["stdout"] == "still alive 5\n"
