"""A model that replays recorded replies: the keyless offline demo and deterministic tests.

Only the model's words are recorded; the code in them really runs in the sandbox, so a replay is a live run
of recorded decisions. Same interface as ModelClient (complete, stream, list_models, aclose).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from agent_py.errors import ConfigError, ModelError
from agent_py.models.types import FinishEvent, ModelResponse, TextDelta, Usage, UsageEvent
from agent_py.models.usage import estimate_tokens

__all__ = ["ReplayModel", "RecordingEnded"]


class RecordingEnded(ModelError):
    """The run asked for more replies than were recorded (the replayed code must have gone another way)."""


class ReplayModel:
    def __init__(self, replies: list[str], *, delay_s: float = 0.0, chunk_chars: int = 12,
                 name: str = "recorded") -> None:
        if not all(isinstance(r, str) for r in replies):
            raise ConfigError("recorded replies must be strings")
        self.replies = list(replies)
        self.delay_s = delay_s
        self.chunk_chars = max(1, chunk_chars)
        self.name = name
        self.calls = 0

    @classmethod
    def from_trace(cls, trace: Any, **options: Any) -> ReplayModel:
        """From {"replies": [...]} or an exported run (its steps' model_output, in order)."""
        if not isinstance(trace, dict):
            raise ConfigError("a trace must be a JSON object")
        if isinstance(trace.get("replies"), list):
            return cls(trace["replies"], **options)
        steps = trace.get("steps")
        if isinstance(steps, list) and all(isinstance(s, dict) for s in steps):
            return cls([str(s.get("model_output", "")) for s in steps if s.get("model_output")], **options)
        raise ConfigError("a trace needs 'replies' or 'steps' with model_output")

    async def stream(self, messages: list[dict[str, Any]], options: Any = None) -> AsyncIterator[Any]:
        if self.calls >= len(self.replies):
            raise RecordingEnded(f"the recording has {len(self.replies)} replies and the run asked for more",
                                 url="replay:")
        reply = self.replies[self.calls]
        self.calls += 1
        for start in range(0, len(reply), self.chunk_chars):
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            yield TextDelta(reply[start:start + self.chunk_chars])
        prompt = sum(estimate_tokens(str(m.get("content", ""))) for m in messages)
        completion = estimate_tokens(reply)
        yield UsageEvent(Usage(prompt, completion, prompt + completion, estimated=True))
        yield FinishEvent("stop")

    async def complete(self, messages: list[dict[str, Any]], options: Any = None,
                       on_event: Callable[[Any], Any] | None = None) -> ModelResponse:
        started = time.perf_counter()
        text: list[str] = []
        usage = Usage()
        async for event in self.stream(messages, options):
            if isinstance(event, TextDelta):
                text.append(event.text)
            elif isinstance(event, UsageEvent):
                usage = event.usage
            if on_event is not None:
                result = on_event(event)
                if inspect.isawaitable(result):
                    await result
        return ModelResponse(text="".join(text), usage=usage, finish_reason="stop", model=self.name,
                             latency_ms=(time.perf_counter() - started) * 1000)

    async def list_models(self) -> list[str]:
        return [self.name]

    async def aclose(self) -> None:
        return None
