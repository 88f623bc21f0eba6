"""The async fallback's rewrite (agent_py.sandbox_rewrite), run for real: the rewritten cell is executed by CPython's
asyncio in a namespace whose tools are async functions, as they are in the sandbox on a page without isolation."""

from __future__ import annotations

import ast
import asyncio
from typing import Any

import pytest

from agent_py.sandbox_rewrite import CELL_FUNCTION, names_bound_by, rewrite_cell

TOOLS = {"lookup", "double"}


def _namespace(calls: list[Any]) -> dict[str, Any]:
    async def lookup(key):  # noqa: ANN001, ANN202 - stands in for a generated tool stub
        await asyncio.sleep(0)
        calls.append(key)
        return {"a": 1, "b": 2, "c": 3}.get(key, 0)

    async def double(x):  # noqa: ANN001, ANN202
        await asyncio.sleep(0)
        calls.append(("double", x))
        return 2 * x

    return {"lookup": lookup, "double": double}


class Session:
    """Cells in one namespace, like one sandbox session: rewritten when they await, run unchanged otherwise."""

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.namespace = _namespace(self.calls)
        self.async_names = set(TOOLS)
        self.sources: list[str] = []

    def run(self, code: str) -> None:
        rewritten, self.async_names = rewrite_cell(code, self.async_names)
        self.sources.append(rewritten or code)
        if rewritten is None:
            exec(code, self.namespace)  # noqa: S102 - the unit under test produces code
            return
        exec(rewritten, self.namespace)  # noqa: S102
        asyncio.run(self.namespace.pop(CELL_FUNCTION)())


def test_direct_calls_are_awaited_and_variables_persist() -> None:
    s = Session()
    s.run("x = lookup('a')\ny = double(x) + lookup('b')")
    s.run("z = x + y")
    assert s.namespace["z"] == 1 + 4
    assert s.calls == ["a", ("double", 1), "b"]


def test_helper_calling_a_tool_in_a_loop_becomes_async_and_later_cells_await_it() -> None:
    s = Session()
    s.run("def total(keys):\n    acc = 0\n    for k in keys:\n        acc += lookup(k)\n    return acc\n"
          "first = total('ab')")
    assert "total" in s.async_names and s.namespace["first"] == 3
    s.run("second = total('bc') * 10")  # defined in the cell before: still awaited here
    assert s.namespace["second"] == 50


def test_fixpoint_through_a_chain_of_helpers() -> None:
    s = Session()
    s.run("def a(k):\n    return lookup(k)\ndef b(k):\n    return a(k) + 1\ndef c(k):\n    return [b(k)]\n"
          "out = c('c')")
    assert s.namespace["out"] == [4]
    tree = ast.parse(s.sources[0])
    kinds = {n.name: type(n).__name__ for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    assert kinds["a"] == kinds["b"] == kinds["c"] == "AsyncFunctionDef"


@pytest.mark.parametrize(("code", "expected"), [
    ("out = [lookup(k) for k in 'abc']", [1, 2, 3]),
    ("out = [double(x) for x in range(4) if x % 2]", [2, 6]),
    ("out = {k: lookup(k) for k in 'ab'}", {"a": 1, "b": 2}),
    ("out = sorted({double(x) for x in [1, 1, 2]})", [2, 4]),
    ("out = sum(lookup(k) for k in 'abc')", 6),
    ("out = [[double(i) for i in range(j)] for j in range(3)]", [[], [0], [0, 2]]),
])
def test_comprehensions_calling_tools(code: str, expected: Any) -> None:
    s = Session()
    s.run(code)
    assert s.namespace["out"] == expected


def test_comprehension_inside_a_function_sees_its_locals() -> None:
    s = Session()
    s.run("def scaled(n, factor):\n    return [double(i) * factor for i in range(n)]\nout = scaled(3, 10)")
    assert s.namespace["out"] == [0, 20, 40]


def test_a_cell_without_tool_calls_is_sent_unchanged() -> None:
    assert rewrite_cell("x = 1\nprint(x)", TOOLS)[0] is None
    assert rewrite_cell("def f():\n    return 2", TOOLS) == (None, TOOLS)


def test_redefining_a_helper_without_tools_makes_it_sync_again() -> None:
    s = Session()
    s.run("def f():\n    return lookup('a')\nv = f()")
    assert "f" in s.async_names
    s.run("def f():\n    return 7")
    assert "f" not in s.async_names
    s.run("w = f() + lookup('b')")
    assert s.namespace["w"] == 9


def test_already_awaited_calls_are_not_awaited_twice() -> None:
    s = Session()
    s.run("v = await lookup('c')")
    assert s.namespace["v"] == 3 and "await (await" not in s.sources[0] and "await await" not in s.sources[0]


def test_control_flow_imports_and_exception_names_land_in_the_session() -> None:
    s = Session()
    s.run("import json as j\nfor i in range(2):\n    last = double(i)\ntry:\n    lookup(1 / 0)\n"
          "except ZeroDivisionError as err:\n    caught = str(err)\nwith open('/dev/null') as fh:\n"
          "    opened = True\nclass K:\n    v = 1\n")
    ns = s.namespace
    assert ns["last"] == 2 and ns["caught"] == "division by zero" and ns["opened"] and ns["K"].v == 1 and ns["j"]


def test_unparsable_code_is_left_for_the_sandbox_to_report() -> None:
    assert rewrite_cell("def broken(:\n    lookup('a')", TOOLS) == (None, TOOLS)


def test_names_bound_by() -> None:
    assert names_bound_by("a = 1\nb, c = 2, 3\ndef f(): z = 1\nclass K: pass\nimport os.path\nfor i in []: pass") == {
        "a", "b", "c", "f", "K", "os", "i"}
    assert names_bound_by("def (") == set()


def test_names_bound_by_a_rewritten_cell_are_the_model_code_names() -> None:
    rewritten, _ = rewrite_cell("a = lookup('a')\nb = [double(x) for x in range(2)]", TOOLS)
    assert names_bound_by(rewritten) == {"a", "b"}
