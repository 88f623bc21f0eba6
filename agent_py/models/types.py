"""The values the model client hands out: stream events, token usage and the final response.

All are plain dataclasses with `to_dict()`, so the loop can forward them to the page and store them as JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "Usage",
    "TextDelta",
    "ReasoningDelta",
    "UsageEvent",
    "FinishEvent",
    "ModelEvent",
    "ModelResponse",
]


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens of one call. `estimated` is True when the server did not report them and we counted (chars / 4)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    estimated: bool = False

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.total_tokens + other.total_tokens,
            self.estimated or other.estimated,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer text, in order."""

    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "TextDelta", "text": self.text}


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning (reasoning_content, Ollama `thinking`, or a <think> block)."""

    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "ReasoningDelta", "text": self.text}


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """Sent once, just before FinishEvent."""

    usage: Usage

    def to_dict(self) -> dict[str, Any]:
        return {"type": "UsageEvent", "usage": self.usage.to_dict()}


@dataclass(frozen=True, slots=True)
class FinishEvent:
    """The last event of a complete stream. reason: "stop", "length", "content_filter", "tool_calls", ..."""

    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "FinishEvent", "reason": self.reason}


ModelEvent = TextDelta | ReasoningDelta | UsageEvent | FinishEvent


@dataclass(slots=True)
class ModelResponse:
    """What `ModelClient.complete()` returns.

    partial: the stream was cut after text had arrived; `text` holds what came and `error` says what went wrong.
    cached: replayed from the response cache (agent_py.models.cache), not asked of the model; the UI says so.
    Times are milliseconds from the call; first_token_ms is None when no delta arrived.
    """

    text: str
    reasoning: str = ""
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = ""
    latency_ms: float = 0.0
    first_token_ms: float | None = None
    partial: bool = False
    model: str = ""
    attempts: int = 1
    error: dict[str, Any] | None = None
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["usage"] = self.usage.to_dict()
        return out
