"""agent_py.host_tools: the embedding page's tools as SandboxTools, against a fake `codeact_host_tools` bridge."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent_py.errors import ToolDenied, ToolError, ToolTimeout, UnknownTool
from agent_py.host_tools import with_host_tools
from agent_py.sandbox_tools import SandboxTool


class FakeBridge:
    def __init__(self, tools: list[dict[str, Any]], builtins: list[str] | None, reply: dict[str, Any]) -> None:
        self.spec = {"tools": tools, "builtins": builtins}
        self.reply = reply
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def spec_json(self, run_id: str) -> str:
        return json.dumps(self.spec)

    async def call(self, run_id: str, name: str, arguments_json: str) -> str:
        self.calls.append((run_id, name, json.loads(arguments_json)))
        return json.dumps(self.reply)


async def _noop(args: dict[str, Any]) -> None:
    return None


BUILTINS = [SandboxTool("show_table", "", _noop), SandboxTool("show_chart", "", _noop)]
HIGHLIGHT = {"name": "highlight_row", "description": "Highlight a row.",
             "parameters": {"type": "object", "properties": {"tea": {"type": "string"}}, "required": ["tea"]}}


def test_without_the_bridge_the_tools_are_unchanged() -> None:
    assert with_host_tools("r1", list(BUILTINS)) == BUILTINS  # CPython: no codeact_host_tools module


@pytest.mark.anyio
async def test_host_tools_are_typed_and_call_the_page_with_the_run_id() -> None:
    bridge = FakeBridge([HIGHLIGHT], None, {"ok": True, "value": {"highlighted": "Assam"}})
    tools = with_host_tools("r1", list(BUILTINS), bridge)
    assert [t.name for t in tools] == ["show_table", "show_chart", "highlight_row"]
    tool = tools[-1]
    assert tool.signature() == "highlight_row(tea: str) -> Any"
    assert await tool.call({"tea": "Assam"}) == {"highlighted": "Assam"}
    assert bridge.calls == [("r1", "highlight_row", {"tea": "Assam"})]


def test_builtins_left_on_by_the_page_and_no_shadowing() -> None:
    bridge = FakeBridge([{"name": "show_chart", "parameters": {"type": "object"}}, HIGHLIGHT], ["show_table"],
                        {"ok": True, "value": None})
    assert [t.name for t in with_host_tools("r1", list(BUILTINS), bridge)] == ["show_table", "highlight_row"]


@pytest.mark.parametrize(("kind", "expected"), [("ToolDenied", ToolDenied), ("ToolTimeout", ToolTimeout),
                                                ("UnknownTool", UnknownTool), ("ToolError", ToolError),
                                                ("SystemExit", ToolError), (None, ToolError)])
@pytest.mark.anyio
async def test_errors_come_back_typed(kind: str | None, expected: type[ToolError]) -> None:
    bridge = FakeBridge([HIGHLIGHT], None, {"ok": False, "error": {"type": kind, "message": "no"}})
    tool = with_host_tools("r1", [], bridge)[0]
    with pytest.raises(ToolError) as caught:
        await tool.call({"tea": "Assam"})
    assert type(caught.value) is expected
    assert str(caught.value) == "no"


def test_a_spec_the_sandbox_cannot_take_is_skipped_not_fatal() -> None:
    bridge = FakeBridge([{"name": "_private"}, {"name": "class"}, {"description": "no name"}, HIGHLIGHT], None,
                        {"ok": True, "value": None})
    assert [t.name for t in with_host_tools("r1", [], bridge)] == ["highlight_row"]
