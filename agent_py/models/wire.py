"""What the two wire formats share: the request an adapter asks for and the decoder interface the client drives."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from agent_py.errors import ContextOverflow, StreamError

from .errormap import error_message_of, is_context_overflow
from .types import ReasoningDelta, TextDelta, Usage

__all__ = ["ChatRequest", "StreamDecoder", "load_json", "stream_error_object"]


@dataclass(frozen=True, slots=True)
class ChatRequest:
    url: str
    body: dict[str, Any]


class StreamDecoder(Protocol):
    """Fed the response body piece by piece. After the body ends, `finished` says whether the server said it was
    done ([DONE], a finish_reason, Ollama's done: true); if not, the stream was cut."""

    finish_reason: str | None
    usage: Usage | None

    def feed(self, chunk: bytes) -> list[TextDelta | ReasoningDelta]: ...

    def finish(self) -> list[TextDelta | ReasoningDelta]: ...

    @property
    def finished(self) -> bool: ...


def load_json(text: str, *, url: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise StreamError(f"the server sent malformed JSON in its stream: {text[:120]!r}", url=url) from None


def stream_error_object(data: Any, *, url: str) -> StreamError | ContextOverflow:
    """An error the server reported inside a 200 stream (OpenAI-style {"error": ...} or Ollama {"error": "..."})."""
    message = error_message_of(data)
    if is_context_overflow(message):
        return ContextOverflow(f"the prompt is too long for the model: {message}", url=url,
                               fix="shorten the conversation or raise the model's context size")
    return StreamError(f"the server reported an error mid-stream: {message}", url=url)
