"""OpenAI-compatible chat completions: the request body and the SSE stream decoder.

Reasoning arrives as `delta.reasoning_content` (DeepSeek, vLLM, llama.cpp) or `delta.reasoning` (OpenRouter,
newer vLLM, Ollama's /v1); usage in the last chunk (`stream_options.include_usage`) or Groq's `x_groq.usage`.
"""

from __future__ import annotations

from typing import Any

from agent_py.errors import StreamError

from .config import GenerationOptions, ModelConfig
from .sse import SSEParser
from .types import ReasoningDelta, TextDelta, Usage
from .wire import ChatRequest, load_json, stream_error_object

__all__ = ["chat_request", "models_url", "parse_models", "OpenAIStreamDecoder"]


def chat_request(config: ModelConfig, messages: list[dict[str, Any]], options: GenerationOptions | None) -> ChatRequest:
    body: dict[str, Any] = {"model": config.model, "messages": messages, "stream": True}
    if config.stream_usage:
        body["stream_options"] = {"include_usage": True}
    if options is not None:
        if options.temperature is not None:
            body["temperature"] = options.temperature
        if options.max_tokens is not None:
            body[config.max_tokens_field] = options.max_tokens
        if options.stop:
            body["stop"] = list(options.stop)
        if options.seed is not None:
            body["seed"] = options.seed
        body.update(options.extra)
    return ChatRequest(f"{config.base_url}/chat/completions", body)


def models_url(config: ModelConfig) -> str:
    return f"{config.base_url}/models"


def parse_models(data: Any) -> list[str]:
    entries = data.get("data", []) if isinstance(data, dict) else data
    return sorted(str(e["id"]) for e in entries if isinstance(e, dict) and "id" in e)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("delta text must be a string")
    return value


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict) or "prompt_tokens" not in raw:
        return None
    prompt = int(raw.get("prompt_tokens") or 0)
    completion = int(raw.get("completion_tokens") or 0)
    return Usage(prompt, completion, int(raw.get("total_tokens") or prompt + completion))


class OpenAIStreamDecoder:
    def __init__(self, url: str) -> None:
        self._url = url
        self._sse = SSEParser()
        self._done = False
        self.finish_reason: str | None = None
        self.usage: Usage | None = None

    @property
    def finished(self) -> bool:
        return self._done or self.finish_reason is not None

    def feed(self, chunk: bytes) -> list[TextDelta | ReasoningDelta]:
        out: list[TextDelta | ReasoningDelta] = []
        for event in self._sse.feed(chunk):
            data = event.data
            if data == "[DONE]":
                self._done = True
                continue
            if not data.strip():
                continue
            raw = load_json(data, url=self._url)
            try:
                self._chunk(raw, out)
            except (AttributeError, TypeError, ValueError, OverflowError):
                # A field of the wrong type (choices not a list, delta a string, ...): the server's fault, typed.
                raise StreamError(f"the server sent a stream chunk of an unexpected shape: {data[:120]!r}",
                                  url=self._url) from None
        return out

    def finish(self) -> list[TextDelta | ReasoningDelta]:
        return []

    def _chunk(self, data: Any, out: list[TextDelta | ReasoningDelta]) -> None:
        if not isinstance(data, dict):
            raise StreamError(f"the server sent a stream chunk that is not an object: {str(data)[:120]!r}",
                              url=self._url)
        if "error" in data:
            raise stream_error_object(data, url=self._url)
        usage = _usage(data.get("usage")) or _usage((data.get("x_groq") or {}).get("usage"))
        if usage is not None:
            self.usage = usage
        for choice in data.get("choices") or ():
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning:
                out.append(ReasoningDelta(_text(reasoning)))
            content = delta.get("content")
            if content:
                out.append(TextDelta(_text(content)))
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
