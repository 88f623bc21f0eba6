"""Fuzzing tool calls from model code (SECURITY-CASES 13, 14): any arguments against a tool's schema are either
accepted as a dict or refused with a ToolArgumentError naming the tool and its signature; any result is either
JSON or a ToolResultError; the JSON Schema checker never raises, whatever the schema and value."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_py.errors import ToolArgumentError, ToolResultError
from agent_py.sandbox_tools import SandboxTool, check_arguments, encode_result
from agent_py.toolkit.schema import Problem, check
from tests.tally import tally

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10)
TYPES = ["string", "integer", "number", "boolean", "array", "object", "null"]
leaf_schemas = st.fixed_dictionaries({}, optional={
    "type": st.one_of(st.sampled_from(TYPES), st.lists(st.sampled_from(TYPES), max_size=3), json_values),
    "enum": st.lists(json_values, max_size=3), "const": json_values, "default": json_values,
    "minimum": st.integers() | st.floats(), "maximum": st.integers(), "exclusiveMinimum": json_values,
    "minLength": st.integers(-2, 5), "maxLength": json_values, "minItems": st.integers(-1, 3),
    "maxItems": st.integers(0, 3), "pattern": st.sampled_from(["^a", "[0-9]+", "(", "x{2,}", "\\d"]) | json_values,
    "format": json_values, "$ref": st.sampled_from(["#/$defs/a", "#/definitions/b", "#/nowhere", "other.json"])})
schemas = st.recursive(leaf_schemas, lambda inner: st.one_of(
    st.fixed_dictionaries({"type": st.just("object"), "properties": st.dictionaries(st.text(max_size=5), inner,
                                                                                      max_size=3)},
                          optional={"required": st.lists(st.text(max_size=5), max_size=3) | json_values,
                                    "additionalProperties": st.booleans() | inner}),
    st.fixed_dictionaries({"type": st.just("array"), "items": inner | json_values}),
    st.fixed_dictionaries({}, optional={"anyOf": st.lists(inner, max_size=3), "oneOf": st.lists(inner, max_size=3),
                                        "allOf": st.lists(inner, max_size=2) | json_values}),
    st.fixed_dictionaries({"$defs": st.fixed_dictionaries({"a": inner}), "$ref": st.just("#/$defs/a")}),
), max_leaves=8)


async def _noop(arguments: dict[str, Any]) -> None:
    return None


TOOLS = [
    SandboxTool("search", "Search.", _noop, {"type": "object", "properties": {
        "query": {"type": "string"}, "limit": {"type": "integer", "default": 5},
        "mode": {"type": "string", "enum": ["web", "news"]}}, "required": ["query"]}),
    SandboxTool("add", "Add.", _noop, {"type": "object", "properties": {
        "a": {"type": "number"}, "b": {"type": ["number", "null"]}}, "required": ["a", "b"]}),
    SandboxTool("note", "Any.", _noop, {"type": "object", "properties": {"body": {}}, "additionalProperties": True}),
    SandboxTool("nothing", "No arguments.", _noop),
]


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(TOOLS), st.one_of(json_values, st.dictionaries(
    st.sampled_from(["query", "limit", "mode", "a", "b", "body", "extra"]) | st.text(max_size=4), json_values,
    max_size=4)))
def test_any_arguments_are_accepted_or_refused_naming_the_tool(tool: SandboxTool, arguments: Any) -> None:
    tally("fuzz inputs: tool arguments")
    try:
        checked = check_arguments(tool, arguments)
    except ToolArgumentError as err:
        assert err.message.startswith(f"{tool.name}: ") and tool.signature() in err.message
        return
    assert isinstance(checked, dict) and isinstance(arguments, dict)
    assert set(tool.required) <= set(checked)
    if tool.name not in ("note", "nothing"):  # no listed properties: any keyword goes (JSON Schema's default)
        assert set(checked) <= set(tool.properties)


@settings(max_examples=800, deadline=None)
@given(schemas, json_values)
def test_the_schema_checker_never_raises_and_leaves_its_input_alone(schema: dict[str, Any], value: Any) -> None:
    tally("fuzz inputs: JSON Schema checks")
    before = json.dumps([schema, value], sort_keys=True, default=repr)
    checked, problems = check(schema, value)
    assert all(isinstance(p, Problem) and isinstance(p.path, str) and p.message for p in problems)
    assert json.dumps([schema, value], sort_keys=True, default=repr) == before


def _cyclic() -> list:
    loop: list = [1]
    loop.append(loop)
    return loop


odd_values = st.recursive(
    json_values | st.binary(max_size=4) | st.sets(st.integers(), max_size=2) | st.just(math.nan)
    | st.just(float("inf")) | st.just(_noop) | st.builds(_cyclic) | st.builds(object) | st.complex_numbers(),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=3),
    max_leaves=8)


@settings(max_examples=1500, deadline=None)
@given(odd_values)
def test_any_result_is_json_or_a_tool_result_error(value: Any) -> None:
    tally("fuzz inputs: tool results")
    try:
        text = encode_result(TOOLS[0], value)
    except ToolResultError as err:
        assert err.message.startswith("search")
        return
    reply = json.loads(text)
    assert reply["ok"] is True


def test_a_self_referencing_schema_with_branches_is_checked_in_bounded_work() -> None:
    """Three self-referencing branches and a 32-level cap would be 3**16 visits: the visit budget stops it."""
    from agent_py.toolkit import schema as schema_module

    branchy = {"$defs": {"a": {"anyOf": [{"$ref": "#/$defs/a"}] * 3}}, "$ref": "#/$defs/a"}
    check(branchy, {"x": 1})
    # Past the budget each pending sibling returns at once: a few per level of the 32, not 3**16.
    assert schema_module._visits <= schema_module._MAX_VISITS + 200
