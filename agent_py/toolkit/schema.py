"""The common subset of JSON Schema that tool definitions use: checking argument objects, and Python annotations.

Checked: type (one or a list; integer excludes bool, accepts 2.0), enum, const, properties, required,
additionalProperties (bool or schema), items, minItems/maxItems, minimum/maximum/exclusiveMinimum/exclusiveMaximum,
minLength/maxLength, pattern, anyOf/oneOf/allOf, local $ref (#/$defs/..., #/definitions/..., as pydantic emits for
nested models), and default fill for absent properties. Other keywords (format, title, ...) are ignored, so a
schema we only half understand never rejects a call the server would take.

Written here rather than taken from PyPI: it must run in Pyodide with nothing to install, its messages must name
the field the model got wrong in words a model can act on, and the subset is small.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from typing import Any

__all__ = ["Problem", "check", "annotation"]

_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}
_PY_NAMES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "array": "list",
             "object": "dict", "null": "None"}
_MAX_REF_DEPTH = 32  # a self-referencing schema must not recurse forever
# ...nor branch forever: anyOf/oneOf over self-references is exponential in the depth cap, so one check() visits at
# most this many sub-schemas; past it the rest constrains nothing here (the server still checks).
_MAX_VISITS = 20_000
_visits = 0


class Problem:
    """One reason a value does not match: `path` is the field ("limit", "items[2].name"; "" is the whole object)."""

    __slots__ = ("path", "message")

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def __repr__(self) -> str:
        return f"Problem({self.path!r}, {self.message!r})"


def check(schema: dict[str, Any], value: Any) -> tuple[Any, list[Problem]]:
    """(value with defaults filled in, problems). The input is not modified."""
    global _visits
    value = copy.deepcopy(value)
    problems: list[Problem] = []
    _visits = 0
    value = _check(schema, value, "", schema, problems, 0)
    return value, problems


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return {}  # an unresolvable ref constrains nothing rather than refusing every call
        node = node[part]
    if not isinstance(node, dict):
        return {}
    siblings = {k: v for k, v in schema.items() if k != "$ref"}
    return {**node, **siblings}


def _join(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check(schema: Any, value: Any, path: str, root: dict[str, Any], problems: list[Problem], depth: int) -> Any:
    global _visits
    _visits += 1
    if not isinstance(schema, dict) or depth > _MAX_REF_DEPTH or _visits > _MAX_VISITS:
        return value
    if "$ref" in schema:
        return _check(_resolve(schema, root), value, path, root, problems, depth + 1)
    before = len(problems)
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds if isinstance(kinds, list) else []
    kinds = [kind for kind in kinds if isinstance(kind, str)]
    if kinds and not any(_TYPE_CHECKS.get(kind, lambda v: True)(value) for kind in kinds):
        problems.append(Problem(path, f"must be {' or '.join(kinds)}, got {_kind(value)} {_short(value)}"))
        return value
    if "enum" in schema and isinstance(schema["enum"], list) and value not in schema["enum"]:
        problems.append(Problem(path, f"must be one of {', '.join(_short(v) for v in schema['enum'])}, "
                                      f"got {_short(value)}"))
    if "const" in schema and value != schema["const"]:
        problems.append(Problem(path, f"must be {_short(schema['const'])}, got {_short(value)}"))
    if isinstance(value, dict):
        value = _check_object(schema, value, path, root, problems, depth)
    elif isinstance(value, list):
        value = _check_array(schema, value, path, root, problems, depth)
    elif isinstance(value, str):
        _check_string(schema, value, path, problems)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(schema, value, path, problems)
    _check_combinators(schema, value, path, root, problems, depth)
    if len(problems) > before and problems[before].path == path and path and schema.get("description"):
        problems[before].message += f" ({schema['description']})"  # the field's own words help the model fix it
    return value


def _kind(value: Any) -> str:
    for name, test in _TYPE_CHECKS.items():
        if name not in ("integer",) and test(value):
            return {"string": "a string", "number": "a number", "boolean": "a boolean", "array": "a list",
                    "object": "a dict", "null": "None"}[name]
    return type(value).__name__


def _check_object(schema: dict[str, Any], value: dict[str, Any], path: str, root: dict[str, Any],
                  problems: list[Problem], depth: int) -> dict[str, Any]:
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    listed = schema.get("required")
    required = [name for name in listed if isinstance(name, str)] if isinstance(listed, list) else []
    for name in required:
        if name not in value:
            problems.append(Problem(_join(path, name), "is required but missing"))
    extra = schema.get("additionalProperties", True)
    for name in list(value):
        if name in properties:
            value[name] = _check(properties[name], value[name], _join(path, name), root, problems, depth + 1)
        elif extra is False:
            known = ", ".join(properties) or "none"
            problems.append(Problem(_join(path, name), f"is not an argument of this tool (known: {known})"))
        elif isinstance(extra, dict):
            value[name] = _check(extra, value[name], _join(path, name), root, problems, depth + 1)
    for name, sub in properties.items():
        sub = _resolve(sub, root) if isinstance(sub, dict) else sub
        if name not in value and isinstance(sub, dict) and "default" in sub:
            value[name] = copy.deepcopy(sub["default"])
    return value


def _check_array(schema: dict[str, Any], value: list[Any], path: str, root: dict[str, Any],
                 problems: list[Problem], depth: int) -> list[Any]:
    low, high = schema.get("minItems"), schema.get("maxItems")
    if isinstance(low, int) and len(value) < low:
        problems.append(Problem(path, f"must hold at least {low} items, got {len(value)}"))
    if isinstance(high, int) and len(value) > high:
        problems.append(Problem(path, f"must hold at most {high} items, got {len(value)}"))
    items = schema.get("items")
    if isinstance(items, dict):
        return [_check(items, item, _join(path, i), root, problems, depth + 1) for i, item in enumerate(value)]
    return value


def _check_string(schema: dict[str, Any], value: str, path: str, problems: list[Problem]) -> None:
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(low, int) and len(value) < low:
        problems.append(Problem(path, f"must be at least {low} characters long, got {len(value)}"))
    if isinstance(high, int) and len(value) > high:
        problems.append(Problem(path, f"must be at most {high} characters long, got {len(value)}"))
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            matched = re.search(pattern, value) is not None
        except re.error:
            matched = True  # a pattern Python's re cannot read constrains nothing here; the server still checks
        if not matched:
            problems.append(Problem(path, f"must match the pattern {pattern!r}, got {_short(value)}"))


def _check_number(schema: dict[str, Any], value: float, path: str, problems: list[Problem]) -> None:
    bounds = (("minimum", lambda v, b: v >= b, "at least"), ("maximum", lambda v, b: v <= b, "at most"),
              ("exclusiveMinimum", lambda v, b: v > b, "more than"), ("exclusiveMaximum", lambda v, b: v < b,
                                                                      "less than"))
    for key, ok, words in bounds:
        bound = schema.get(key)
        if isinstance(bound, int | float) and not isinstance(bound, bool) and not ok(value, bound):
            problems.append(Problem(path, f"must be {words} {bound}, got {value}"))


def _check_combinators(schema: dict[str, Any], value: Any, path: str, root: dict[str, Any],
                       problems: list[Problem], depth: int) -> None:
    every = schema.get("allOf")
    for sub in every if isinstance(every, list) else []:  # a server's schema may hold anything in any slot
        _check(sub, value, path, root, problems, depth + 1)
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if not isinstance(options, list) or not options:
            continue
        matches = 0
        for sub in options:
            trial: list[Problem] = []
            _check(sub, copy.deepcopy(value), path, root, trial, depth + 1)
            matches += not trial
        if matches == 0:
            shapes = " or ".join(annotation(sub, root) for sub in options)
            problems.append(Problem(path, f"must be {shapes}, got {_short(value)}"))
        elif key == "oneOf" and matches > 1:
            problems.append(Problem(path, f"matches {matches} of the allowed shapes; it must match exactly one"))


def annotation(schema: Any, root: dict[str, Any] | None = None, depth: int = 0) -> str:
    """The Python annotation for a schema: str, int, list[str], dict[str, int], Literal['a', 'b'], str | None."""
    if not isinstance(schema, dict) or not schema or depth > 8:
        return "Any"
    root = root if root is not None else schema
    if "$ref" in schema:
        resolved = _resolve(schema, root)
        if resolved is schema or not resolved:
            return "dict" if "$ref" in schema else "Any"
        return annotation(resolved, root, depth + 1)
    if "const" in schema:
        return f"Literal[{schema['const']!r}]"
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return "Literal[" + ", ".join(repr(v) for v in schema["enum"]) + "]"
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return _union(annotation(sub, root, depth + 1) for sub in schema[key])
    kind = schema.get("type")
    if isinstance(kind, list):
        return _union(annotation({**schema, "type": k}, root, depth + 1) for k in kind)
    if kind == "array":
        items = schema.get("items")
        return f"list[{annotation(items, root, depth + 1)}]" if isinstance(items, dict) and items else "list"
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra and not schema.get("properties"):
            return f"dict[str, {annotation(extra, root, depth + 1)}]"
        return "dict"
    return _PY_NAMES.get(kind, "Any") if isinstance(kind, str) else "Any"


def _union(parts: Any) -> str:
    seen: list[str] = []
    for part in parts:
        if part not in seen:
            seen.append(part)
    if "Any" in seen:
        return "Any"
    # None last reads the way people write Optional types.
    seen.sort(key=lambda p: p == "None")
    return " | ".join(seen)
