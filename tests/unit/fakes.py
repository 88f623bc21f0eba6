"""Scripted stand-ins for the model and the sandbox, for loop tests in CPython.

ScriptedModel replies from a list (a str, or an exception to raise); FakeSandbox runs code with CPython's exec
in one persistent namespace, with a final_answer that records its value before raising a BaseException (as the
real sandbox does), so `except Exception` in model code cannot swallow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import traceback
from typing import Any

from agent_py.models.types import ModelResponse, TextDelta, Usage


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

    def __init__(self, *, listing: str = "def lookup(q: str) -> str", delay_s: float = 0.0) -> None:
        self.namespace: dict[str, Any] = {}
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
        out = io.StringIO()
        error = None
        with contextlib.redirect_stdout(out):
            try:
                exec(compile(code, "<cell>", "exec"), self.namespace)  # noqa: S102 - a test double for the sandbox
            except _Final:
                pass
            except BaseException as exc:  # noqa: BLE001
                error = {"type": type(exc).__name__, "message": str(exc),
                         "traceback": traceback.format_exception_only(type(exc), exc)}
        return {"stdout": out.getvalue(), "stderr": "", "error": error, "final": state["final"],
                "final_value": state["value"], "duration_ms": 0.1}

    async def tools_listing(self) -> str:
        return self.listing

    async def reset(self) -> None:
        self.namespace.clear()

    async def close(self) -> None:
        self.closed = True


def code(body: str, thought: str = "Let me compute.") -> str:
    return f"{thought}\n```python\n{body}\n```"
