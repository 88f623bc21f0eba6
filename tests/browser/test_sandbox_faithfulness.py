"""Golden programs through the real sandbox: what models commonly write must print what CPython prints.

Each tests/sandbox_cases/NAME.py runs as one cell in a fresh session; NAME.exp is CPython's output for it
(`python -m tests.browser.test_sandbox_faithfulness` regenerates the .exp files with the running CPython).
Both hosting modes: on a page without isolation the agent may rewrite cells, which must not change what they do.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
CASES_DIR = Path(__file__).resolve().parents[1] / "sandbox_cases"
CASES = sorted(path.stem for path in CASES_DIR.glob("*.py"))

# Where MicroPython 1.27 (the sandbox's interpreter) is not CPython, found by this suite, and wasm_sandbox/shims.py
# could not close (math.gcd, re.findall, counted repetition in re, match.groups(), a stable sorted() are closed there).
# Each is a strict xfail: it fails the suite the day it starts to pass (then delete the entry). The system prompt
# (agent_py/prompts.py) names each of them.
DICT_ORDER = "MicroPython dicts do not keep insertion order"
KNOWN_DEVIATIONS = {
    "comprehensions": DICT_ORDER,
    "defaultdict_counter": "collections.defaultdict is not a dict: dict(d) fails and it has no items()",
    "dict_ordering": "{**a, **b} is a SyntaxError in MicroPython; " + DICT_ORDER,
    "iter_tools": DICT_ORDER,
    "json_roundtrip": DICT_ORDER + " (json.dumps follows the hash order)",
    "sorting": "list.sort() is not stable (sorted() is, through the prelude's shim)",
    "string_building": "str.ljust/rjust are missing",
    "string_methods": "str.title, str.swapcase and str.zfill are missing",
    "type_conversions": "a set prints in another order; isinstance(True, int) is False",
    "unpacking": DICT_ORDER,
}

RUN_ALL = """
from agent_py.sandbox import BrowserSandbox
outputs = {}
for name, code in CASES.items():
    box = await BrowserSandbox.create("faithful-" + name, timeout_ms=10_000)
    result = await box.run(code)
    await box.close()
    error = result.get("error")
    outputs[name] = result["stdout"] + (f"!! {error['type']}: {error['message']}" if error else "")
outputs
"""


@pytest.fixture(scope="module", params=["isolated", "plain"])
def outputs(request, browser, app_url, app_url_plain):  # noqa: ANN001, ANN201
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(app_url if request.param == "isolated" else app_url_plain)
        page.wait_for_function("document.body.dataset.pythonReady === 'true'", timeout=60_000)
        cases = {name: (CASES_DIR / f"{name}.py").read_text() for name in CASES}
        yield page.evaluate("(c) => window.codeact.agent.execPython(c)", f"CASES = {json.dumps(cases)}\n" + RUN_ALL)
    finally:
        context.close()


def test_there_are_a_few_dozen_cases() -> None:
    assert len(CASES) >= 30
    assert all((CASES_DIR / f"{name}.exp").exists() for name in CASES)


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_DEVIATIONS[name], strict=True))
    if name in KNOWN_DEVIATIONS else name for name in CASES
])
def test_case_prints_what_cpython_prints(outputs, name: str) -> None:  # noqa: ANN001
    assert outputs[name] == (CASES_DIR / f"{name}.exp").read_text()


def regenerate() -> None:
    for name in CASES:
        with tempfile.TemporaryDirectory() as scratch:  # some cases write files
            run = subprocess.run([sys.executable, str(CASES_DIR / f"{name}.py")], capture_output=True, text=True,
                                 cwd=scratch, check=True)
        (CASES_DIR / f"{name}.exp").write_text(run.stdout)


if __name__ == "__main__":
    regenerate()
