"""The import policy (wasm_sandbox/import_policy.py) in the real page: what a session may import, the ImportError
that names the policy, and model code trying to take the hook out. Each escape cell ends by trying the denied
import again, so a cell that got through prints ESCAPED."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# Run in a session allowing "json, sys, builtins": each tries a way around the policy, then `import hashlib`.
AFTER = "\ntry:\n    import hashlib\n    print('ESCAPED', hashlib)\nexcept ImportError as e:\n    print('still denied')\n"
ESCAPES = {
    "assign_hook": "import builtins\ntry:\n    builtins.__import__ = lambda *a, **k: None\nexcept AttributeError as e:"
                   "\n    print('refused:', e)",
    "delete_hook": "import builtins\ntry:\n    del builtins.__import__\nexcept AttributeError as e:\n    print('refused')",
    "setattr_hook": "import builtins\ntry:\n    setattr(builtins, '__import__', print)\nexcept AttributeError:"
                    "\n    print('refused')",
    "real_table": "import builtins\ntry:\n    real = builtins.__getattr__('__dict__')['__import__']\n"
                  "    print('ESCAPED', real('hashlib'))\nexcept AttributeError:\n    print('refused')",
    "getattr_import": "try:\n    getattr(__import__('builtins'), '__import__')('hashlib')\n"
                      "    print('ESCAPED')\nexcept ImportError:\n    print('refused')",
    "exec_import": "try:\n    exec('import hashlib')\n    print('ESCAPED')\nexcept ImportError:\n    print('refused')",
    "sys_modules": "import sys\nsys.modules['hashlib'] = sys\nprint(sorted(sys.modules))",
    "relative_forgery": "try:\n    __import__('', {'__name__': 'hashlib'}, None, ('sha256',), 1)\n"
                        "    print('ESCAPED')\nexcept ImportError:\n    print('refused')",
    "main_namespace": "import sys\nfound = final_answer.__globals__\n"
                      "print([k for k, v in found.items() if type(v) is type(sys)])\n"
                      "try:\n    import __main__\n    print('ESCAPED')\nexcept ImportError:\n    print('refused')",
}

SCRIPT = """
from agent_py.sandbox import BrowserSandbox
R = {}
box = await BrowserSandbox.create("policy", timeout_ms=3000, allowed_imports="json, sys, builtins")
R["allowed"] = await box.run("import json\\nprint(json.dumps({'a': 1}))")
R["denied"] = await box.run("import hashlib")
for key, code in ESCAPES.items():
    R[key] = await box.run(code + AFTER)
R["kill"] = await box.run("while True:\\n    pass")
R["denied_after_kill"] = await box.run("import hashlib")
await box.close()

# Model code that may reach `js` asks its worker to be configured again with no policy: refused.
jbox = await BrowserSandbox.create("policy-js", timeout_ms=3000, allowed_imports="js, json")
R["reconfigure"] = await jbox.run(
    "import js\\njs.self.onmessage(js.JSON.parse('{\\"data\\": {\\"type\\": \\"configure\\", \\"stubs\\": \\"\\", "
    "\\"options\\": {\\"allowedImports\\": \\"*\\"}}}'))" + AFTER)
await jbox.close()

# The default: MicroPython's own modules (the shims among them), not the runner, not files in /workspace.
dbox = await BrowserSandbox.create("policy-default", timeout_ms=3000)
await dbox.put_file("/workspace/mymod.py", b"VALUE = 7\\n")
R["default_own"] = await dbox.run("import hashlib, math, re\\nprint(math.gcd(12, 18), re.findall('[0-9]+', 'a1b22'))")
R["default_file"] = await dbox.run("import mymod")
R["default_main"] = await dbox.run("import __main__")
await dbox.close()

abox = await BrowserSandbox.create("policy-any", timeout_ms=3000, allowed_imports="*")
await abox.put_file("/workspace/mymod.py", b"VALUE = 7\\n")
R["any_file"] = await abox.run("import mymod\\nprint(mymod.VALUE)")
await abox.close()
R
"""


@pytest.fixture(scope="module")
def r(browser, app_url):  # noqa: ANN001, ANN201
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(app_url)
        page.wait_for_function("document.body.dataset.pythonReady === 'true'", timeout=60_000)
        code = f"ESCAPES = {ESCAPES!r}\nAFTER = {AFTER!r}\n" + SCRIPT
        return page.evaluate("(c) => window.codeact.agent.execPython(c)", code)
    finally:
        context.close()


def _err(result: dict) -> tuple[str, str]:
    error = result.get("error") or {}
    return error.get("type", ""), error.get("message", "")


def test_an_allowed_import_works(r) -> None:  # noqa: ANN001
    assert r["allowed"]["stdout"] == '{"a": 1}\n' and not r["allowed"].get("error")


def test_a_denied_import_raises_import_error_naming_the_policy(r) -> None:  # noqa: ANN001
    kind, message = _err(r["denied"])
    assert kind == "ImportError"
    assert "'hashlib'" in message and "import policy" in message and "builtins, json, sys" in message


@pytest.mark.parametrize("key", sorted(ESCAPES))
def test_model_code_cannot_take_the_hook_out(r, key: str) -> None:  # noqa: ANN001
    result = r[key]
    assert "ESCAPED" not in result["stdout"], result
    assert result["stdout"].endswith("still denied\n"), result


def test_the_escapes_were_refused_for_the_right_reason(r) -> None:  # noqa: ANN001
    assert r["assign_hook"]["stdout"].startswith("refused: builtins.__import__ belongs to the sandbox's import policy")
    for key in ("delete_hook", "setattr_hook", "real_table", "getattr_import", "exec_import", "relative_forgery"):
        assert r[key]["stdout"].startswith("refused\n"), (key, r[key])
    # The prelude's modules are out of sys.modules, and its namespace (reachable through __globals__) holds none.
    assert r["sys_modules"]["stdout"].startswith("['hashlib']\n"), r["sys_modules"]
    assert r["main_namespace"]["stdout"].startswith("[]\nrefused\n"), r["main_namespace"]


def test_the_policy_survives_a_kill_and_a_reconfigure(r) -> None:  # noqa: ANN001
    assert _err(r["kill"])[0] == "SandboxTimeout" and r["kill"]["restored"] is True
    assert _err(r["denied_after_kill"])[0] == "ImportError"
    assert r["reconfigure"]["stdout"] == "still denied\n", r["reconfigure"]


def test_the_default_is_micropythons_own_modules(r) -> None:  # noqa: ANN001
    assert r["default_own"]["stdout"] == "6 ['1', '22']\n", r["default_own"]
    kind, message = _err(r["default_file"])
    assert kind == "ImportError" and "MicroPython's own modules" in message
    assert _err(r["default_main"])[0] == "ImportError"
    assert r["any_file"]["stdout"] == "7\n", r["any_file"]
