"""Tools the agent creates, end to end in Chromium against the scripted model server: a function registered with
register_tool() in one step is called in a later step, is stored (IndexedDB) and listed in the Tools dialog with
its source, is defined again and listed in the system prompt of a later run after a reload, and once removed is
no longer defined. Bad registrations raise ToolRegistrationError inside the sandbox, where the model sees them."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.ui_support import PYTHON_READY

pytestmark = pytest.mark.browser

DEFINE = '''I will keep a word counter as a tool.
```python
def word_count(text):
    """Number of words in text (split on whitespace)."""
    return len(text.split())

register_tool(word_count)
print("registered", word_count("a b"))
```'''


def _open_configured(page, app_url, model_server) -> None:  # noqa: ANN001
    page.goto(app_url)
    page.wait_for_function(PYTHON_READY, timeout=120_000)
    page.get_by_role("button", name="Settings").click()
    page.locator("select[name=preset]").select_option("")
    page.locator("input[name=baseUrl]").fill(model_server.openai_base)
    page.locator("input[name=model]").fill("scripted-model")
    page.get_by_role("button", name="Save").click()


def _run(page, task: str):  # noqa: ANN001, ANN202
    before = page.locator(".run").count()
    page.locator("#task").fill(task)
    page.get_by_role("button", name="Run").click()
    run = page.locator(".run").nth(before)
    expect(run).to_have_attribute("data-status", "finished", timeout=90_000)
    return run


def _system_prompt(model_server) -> str:  # noqa: ANN001
    return model_server.chat_requests()[-1].json["messages"][0]["content"]


def test_a_created_tool_is_kept_for_later_steps_and_runs_listed_and_removed(page, app_url, model_server) -> None:
    model_server.enqueue(DEFINE, "Now use it.\n```python\nfinal_answer(word_count('one two three'))\n```")
    _open_configured(page, app_url, model_server)
    run = _run(page, "Count words with a tool")
    expect(run.locator(".final")).to_contain_text("3")
    assert "registered 2" in run.locator(".step").first.inner_text()
    assert "register_tool(func)" in _system_prompt(model_server)  # the model is told how
    expect(page.locator("#tools-count")).to_have_text("1")

    page.get_by_role("button", name="Tools").click()
    tool = page.locator("#created-tools .created-tool[data-tool='word_count']")
    expect(tool.locator(".created-tool-signature")).to_have_text("word_count(text)")
    expect(tool.locator(".created-tool-doc")).to_have_text("Number of words in text (split on whitespace).")
    tool.locator("summary").click()
    source = tool.locator("pre code").inner_text()
    assert source.startswith("def word_count(text):") and "register_tool" not in source
    page.locator("#created-tools").get_by_role("button", name="Close").click()

    # A later run after a reload: defined in the sandbox again, and listed in the system prompt.
    model_server.enqueue("```python\nfinal_answer(word_count('alpha beta'))\n```")
    page.reload()
    page.wait_for_function(PYTHON_READY, timeout=120_000)
    expect(page.locator("#tools-count")).to_have_text("1")
    run = _run(page, "Count again")
    expect(run.locator(".final")).to_contain_text("2")
    prompt = _system_prompt(model_server)
    assert "def word_count(text):" in prompt and "Number of words in text" in prompt
    sent = page.evaluate("() => window.codeact.ui.createdTools.forRun()")
    assert [t["name"] for t in sent] == ["word_count"]

    # Removed: gone from storage (after a reload too) and no longer defined in the next run.
    page.get_by_role("button", name="Tools").click()
    page.get_by_role("button", name="Remove the tool word_count").click()
    expect(page.locator("#created-tools .created-tool")).to_have_count(0)
    page.locator("#created-tools").get_by_role("button", name="Close").click()
    expect(page.locator("#tools-count")).to_be_hidden()
    page.reload()
    page.wait_for_function(PYTHON_READY, timeout=120_000)
    page.evaluate("() => window.codeact.ui.createdTools.ready")
    assert page.evaluate("() => window.codeact.ui.createdTools.list()") == []
    model_server.enqueue("```python\ntry:\n    word_count('x')\n    final_answer('still there')\n"
                         "except NameError:\n    final_answer('gone')\n```")
    run = _run(page, "Is it gone?")
    expect(run.locator(".final")).to_contain_text("gone")
    assert "word_count" not in _system_prompt(model_server)


BAD = '''Try registrations that must fail.
```python
def nodoc(x):
    return x

def show_table(rows):
    """Shadows the host tool."""
    return rows

def len(x):
    """Shadows a builtin."""
    return 0

def _private():
    """Not public."""

def outer():
    def inner():
        """Nested."""
    return inner

def huge():
    """''' + "x" * 20100 + '''"""

errors = []
for candidate in (nodoc, show_table, len, _private, outer(), huge, lambda x: x, 42):
    try:
        register_tool(candidate)
        errors.append("accepted")
    except ToolRegistrationError as err:
        errors.append(type(err).__name__ + ("/ToolError" if isinstance(err, ToolError) else "") + ": " + str(err))

@register_tool
def shout(text):
    """The text in capitals."""
    return text.upper()

print(json.dumps(errors))
final_answer(shout("ok"))
```'''


def test_bad_registrations_raise_typed_errors_in_the_sandbox_and_a_decorator_works(page, app_url,
                                                                                    model_server) -> None:
    model_server.enqueue(BAD.replace("```python\n", "```python\nimport json\n", 1))
    _open_configured(page, app_url, model_server)
    run = _run(page, "Register some tools")
    expect(run.locator(".final")).to_contain_text("OK")
    output = run.locator(".step .output").first.inner_text()
    errors = json.loads(output.strip().splitlines()[0])
    assert len(errors) == 8
    assert all(e.startswith("ToolRegistrationError/ToolError: ") for e in errors), errors
    nodoc, table, builtin, private, nested, huge, lam, number = errors
    assert "nodoc needs a docstring" in nodoc
    assert "'show_table' is taken" in table
    assert "'len' is taken" in builtin
    assert "'_private' must be a public Python identifier" in private
    assert "inner with def at the top level" in nested
    assert "at most 20000" in huge
    assert "'<lambda>' must be a public" in lam
    assert "takes a function defined with def, got int" in number
    expect(page.locator("#tools-count")).to_have_text("1")
    [shout] = page.evaluate("() => window.codeact.ui.createdTools.list()")
    assert shout["name"] == "shout" and shout["signature"] == "shout(text)"
    assert shout["source"].startswith("def shout(text):")  # the decorator line is not kept


def test_on_a_page_that_is_not_isolated_a_tool_registered_in_an_awaited_cell_is_kept(page, app_url_plain,
                                                                                     model_server) -> None:
    # Without cross-origin isolation a cell that calls a tool is rewritten as `async def __codeact_cell__()`;
    # the sandbox finds the def in that text, the agent keeps the def as the model wrote it.
    model_server.enqueue(
        "```python\ndef tabulate(rows):\n    \"\"\"Show rows as a table; returns their count.\"\"\"\n"
        "    show_table(rows)\n    return len(rows)\n\nregister_tool(tabulate)\nprint(tabulate([[1], [2]]))\n```",
        "```python\nfinal_answer(tabulate([[3]]))\n```")
    _open_configured(page, app_url_plain, model_server)
    assert page.evaluate("() => crossOriginIsolated") is False
    run = _run(page, "Make a table tool")
    expect(run.locator(".final")).to_contain_text("1")
    assert "2" in run.locator(".step .output").first.inner_text()
    [tool] = page.evaluate("() => window.codeact.ui.createdTools.list()")
    assert tool["source"].startswith("def tabulate(rows):") and "await" not in tool["source"]
    model_server.enqueue("```python\nfinal_answer(tabulate([[4], [5], [6]]))\n```")
    run = _run(page, "Use it in a new run")
    expect(run.locator(".final")).to_contain_text("3")
    assert run.locator(".display-table").count() == 1
