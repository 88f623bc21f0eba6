"""Scripted stand-ins for the model and the sandbox, for loop tests in CPython.

ScriptedModel replies from a list (a str, or an exception to raise); FakeSandbox runs code with CPython's exec
in one persistent namespace, with a final_answer that records its value before raising a BaseException (as the
real sandbox does), so `except Exception` in model code cannot swallow it. With `tools`, the cell runs in a thread
and each tool is a blocking function that goes through sandbox_tools.dispatch_tool_call on the event loop, as a
blocking (Atomics) call does in the page; a failed call raises the same-named agent_py.errors class.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import traceback
from typing import Any

from agent_py import errors
from agent_py.models.types import ModelResponse, TextDelta, Usage
from agent_py.sandbox_tools import SandboxTool, ToolGate, dispatch_tool_call


class ScriptedModel:
    def __init__(self, replies: list[Any], *, delay_s: float = 0.0, tokens: int = 10) -> None:
        self.replies = list(replies)
        self.delay_s = delay_s
        self.tokens = tokens
        self.requests: list[list[dict[str, str]]] = []

    async def complete(self, messages, options=None, on_event=None) -> ModelResponse:  # noqa: ANN001
        self.requests.append([dict(m) for m in messages])
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if not self.replies:
            return ModelResponse(text="I have nothing more to say.", usage=Usage(1, 1, 2))
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        if on_event:
            for i in range(0, len(reply), 20):
                result = on_event(TextDelta(reply[i:i + 20]))
                if asyncio.iscoroutine(result):
                    await result
        return ModelResponse(text=reply, usage=Usage(self.tokens, self.tokens, 2 * self.tokens))


class _Final(BaseException):
    pass


class FakeSandbox:
    name = "fake"

    def __init__(self, *, listing: str = "def lookup(q: str) -> str", delay_s: float = 0.0,
                 tools: list[SandboxTool] | None = None) -> None:
        self.namespace: dict[str, Any] = {}
        self.tools = {tool.name: tool for tool in tools or []}
        self.tool_gate = ToolGate()
        self.tool_calls: list[dict[str, Any]] = []
        self.listing = listing
        self.delay_s = delay_s
        self.runs: list[str] = []
        self.closed = False
        self.scripted: list[dict[str, Any]] = []  # results to return instead of running (timeouts...)

    async def run(self, code: str) -> dict[str, Any]:
        self.runs.append(code)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.scripted:
            return self.scripted.pop(0)
        state = {"final": False, "value": None}

        def final_answer(value: Any = None) -> None:
            state.update(final=True, value=value)
            raise _Final

        self.namespace["final_answer"] = final_answer
        self.tool_calls = []
        self.tool_gate.new_step()
        out = io.StringIO()
        error: dict[str, Any] | None = None

        def execute() -> None:
            nonlocal error
            with contextlib.redirect_stdout(out):
                try:
                    exec(compile(code, "<cell>", "exec"), self.namespace)  # noqa: S102 - a test double
                except _Final:
                    pass
                except BaseException as exc:  # noqa: BLE001
                    error = {"type": type(exc).__name__, "message": str(exc),
                             "traceback": traceback.format_exception_only(type(exc), exc)}

        if self.tools:
            loop = asyncio.get_running_loop()
            for name in self.tools:
                self.namespace[name] = self._blocking_tool(name, loop)
            self.namespace.update({name: getattr(errors, name) for name in errors.__all__ if "Tool" in name})
            await asyncio.to_thread(execute)
        else:
            execute()
        return {"stdout": out.getvalue(), "stderr": "", "error": error, "final": state["final"],
                "final_value": state["value"], "duration_ms": 0.1, "tool_calls": list(self.tool_calls)}

    def _blocking_tool(self, name: str, loop: asyncio.AbstractEventLoop) -> Any:
        def call(**arguments: Any) -> Any:
            future = asyncio.run_coroutine_threadsafe(
                dispatch_tool_call(self.tools, name, json.dumps(arguments), self.tool_gate), loop)
            reply_text, record = future.result(timeout=10)
            if record is not None:
                self.tool_calls.append(record)
            reply = json.loads(reply_text)
            if reply["ok"]:
                return reply["value"]
            raise getattr(errors, reply["error"]["type"], errors.ToolError)(reply["error"]["message"])

        return call

    def use_tool_gate(self, gate: ToolGate) -> None:
        self.tool_gate = gate

    async def tools_listing(self) -> str:
        return self.listing

    async def reset(self) -> None:
        self.namespace.clear()

    async def close(self) -> None:
        self.closed = True


def code(body: str, thought: str = "Let me compute.") -> str:
    return f"{thought}\n```python\n{body}\n```"
