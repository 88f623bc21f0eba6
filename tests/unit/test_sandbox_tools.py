"""Tool stubs, listings and the checks on every call (agent_py.sandbox_tools), in CPython: the stubs are executed
with a fake bridge, exactly as the sandbox's prelude defines `_call_tool`."""

from __future__ import annotations

import asyncio
import inspect
import math
from typing import Any

import pytest

from agent_py.errors import ToolArgumentError, ToolError, ToolResultError
from agent_py.sandbox_tools import SandboxTool, check_arguments, encode_result, tool_stubs, tools_listing


async def _impl(args: dict[str, Any]) -> Any:
    return args


SEARCH = SandboxTool(
    "search", "Search the catalogue.", _impl,
    {"type": "object", "properties": {
        "query": {"type": "string", "description": "words to look for"},
        "limit": {"type": "integer", "default": 10},
        "sort": {"type": "string", "enum": ["price", "name"]},
    }, "required": ["query"]},
    returns={"type": "array", "items": {"type": "object"}},
)


def test_stub_has_the_real_signature_and_docstring_and_sends_keyword_arguments() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    namespace: dict[str, Any] = {"_call_tool": lambda name, args: sent.append((name, args)) or "ok"}
    exec(tool_stubs([SEARCH], is_async=False), namespace)  # noqa: S102 - the generated source under test
    search = namespace["search"]
    assert str(inspect.signature(search)) == "(query, limit=10, sort=None)"
    assert search.__doc__.startswith("Search the catalogue.") and "query: words to look for" in search.__doc__
    assert search("bolts", sort="price") == "ok"
    assert sent == [("search", {"query": "bolts", "limit": 10, "sort": "price"})]
    with pytest.raises(TypeError):
        search()  # a missing argument fails in Python, naming it, before anything crosses


def test_async_stub_awaits_the_bridge() -> None:
    async def bridge(name: str, args: dict[str, Any]) -> str:
        return f"{name}:{args['query']}"

    namespace: dict[str, Any] = {"_call_tool_async": bridge}
    exec(tool_stubs([SEARCH], is_async=True), namespace)  # noqa: S102
    assert inspect.iscoroutinefunction(namespace["search"])
    assert asyncio.run(namespace["search"]("nuts")) == "search:nuts"


def test_listing_is_python_with_types_for_the_prompt() -> None:
    listing = tools_listing([SEARCH])
    assert listing.startswith("def search(query: str, limit: int = 10, sort: Literal['price', 'name'] = None)"
                              " -> list[dict]:")
    assert "Search the catalogue." in listing and "limit" in listing
    assert tools_listing([]) == "(no tools: plain Python only)"


@pytest.mark.parametrize(("arguments", "message"), [
    ({}, "search: missing query; expected search(query: str"),
    ({"query": 3}, "query must be string, got int 3"),
    ({"query": "x", "limit": "ten"}, "limit must be integer"),
    ({"query": "x", "limit": True}, "limit must be integer"),
    ({"query": "x", "sort": "date"}, "sort must be one of ['price', 'name']"),
    ({"query": "x", "colour": "red"}, "unknown argument colour"),
    (["x"], "arguments must be keyword arguments"),
])
def test_bad_arguments_name_the_tool_and_the_signature(arguments: Any, message: str) -> None:
    with pytest.raises(ToolArgumentError) as caught:
        check_arguments(SEARCH, arguments)
    assert message in caught.value.message and caught.value.tool == "search"


def test_good_arguments_get_defaults() -> None:
    assert check_arguments(SEARCH, {"query": "x", "limit": None}) == {"query": "x", "limit": 10}


@pytest.mark.parametrize("value", [math.nan, math.inf, b"bytes", {1, 2}, object(), {"deep": [1, {"x": math.nan}]}])
def test_results_that_json_cannot_carry_are_tool_result_errors(value: Any) -> None:
    with pytest.raises(ToolResultError) as caught:
        encode_result(SEARCH, value)
    assert caught.value.message.startswith("search: ")


def test_a_cyclic_result_is_a_tool_result_error() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(ToolResultError, match="cycle"):
        encode_result(SEARCH, cycle)


def test_good_results_are_json_replies() -> None:
    reply = encode_result(SEARCH, [{"a": 1.5, "b": None}, (1, 2)])
    assert reply == '{"ok": true, "value": [{"a": 1.5, "b": null}, [1, 2]]}'


@pytest.mark.parametrize("name", ["_private", "class", "two words", "9lives"])
def test_tool_names_must_be_public_identifiers(name: str) -> None:
    with pytest.raises(ToolError):
        SandboxTool(name, "", _impl)
