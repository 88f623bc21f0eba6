"""Ollama's native API: /api/chat with NDJSON streaming, /api/tags for the local models.

num_ctx is always sent: Ollama's default window is 4096 tokens and it silently drops the start of longer prompts,
which for an agent means forgetting the task. Reasoning models stream `message.thinking`.
"""

from __future__ import annotations

import json
from typing import Any

from agent_py.errors import StreamError

from .config import GenerationOptions, ModelConfig
from .ndjson import NDJSONSplitter
from .types import ReasoningDelta, TextDelta, Usage
from .wire import ChatRequest, load_json, stream_error_object

__all__ = ["chat_request", "models_url", "parse_models", "OllamaStreamDecoder"]


def chat_request(config: ModelConfig, messages: list[dict[str, Any]], options: GenerationOptions | None) -> ChatRequest:
    model_options: dict[str, Any] = {"num_ctx": config.num_ctx}
    body: dict[str, Any] = {"model": config.model, "messages": messages, "stream": True, "options": model_options}
    if options is not None:
        if options.temperature is not None:
            model_options["temperature"] = options.temperature
        if options.max_tokens is not None:
            model_options["num_predict"] = options.max_tokens
        if options.stop:
            model_options["stop"] = list(options.stop)
        if options.seed is not None:
            model_options["seed"] = options.seed
        extra = dict(options.extra)
        model_options.update(extra.pop("options", {}))  # Ollama's own sampling knobs (top_k, mirostat, ...)
        body.update(extra)  # top-level fields such as think, keep_alive, format
    return ChatRequest(f"{config.base_url}/api/chat", body)


def models_url(config: ModelConfig) -> str:
    return f"{config.base_url}/api/tags"


def parse_models(data: Any) -> list[str]:
    entries = data.get("models", []) if isinstance(data, dict) else []
    return sorted(str(e.get("name") or e.get("model")) for e in entries if isinstance(e, dict))


class OllamaStreamDecoder:
    def __init__(self, url: str) -> None:
        self._url = url
        self._lines = NDJSONSplitter()
        self.finish_reason: str | None = None
        self.usage: Usage | None = None

    @property
    def finished(self) -> bool:
        return self.finish_reason is not None

    def feed(self, chunk: bytes) -> list[TextDelta | ReasoningDelta]:
        return self._decode(self._lines.feed(chunk))

    def finish(self) -> list[TextDelta | ReasoningDelta]:
        if self.finished:
            return []
        # A trailing line without its newline: whole JSON is a real last message, half JSON is a cut stream.
        lines = self._lines.finish()
        try:
            json.loads(lines[0]) if lines else None
        except ValueError:
            return []
        return self._decode(lines)

    def _decode(self, lines: list[str]) -> list[TextDelta | ReasoningDelta]:
        out: list[TextDelta | ReasoningDelta] = []
        for line in lines:
            data = load_json(line, url=self._url)
            if not isinstance(data, dict):
                continue
            try:
                self._line(data, out)
            except (AttributeError, TypeError, ValueError, OverflowError):
                # A field of the wrong type (message a list, content a number, ...): the server's fault, typed.
                raise StreamError(f"the server sent a stream line of an unexpected shape: {line[:120]!r}",
                                  url=self._url) from None
        return out

    def _line(self, data: dict[str, Any], out: list[TextDelta | ReasoningDelta]) -> None:
        if "error" in data:
            raise stream_error_object(data, url=self._url)
        message = data.get("message") or {}
        for field, kind in (("thinking", ReasoningDelta), ("content", TextDelta)):
            if message.get(field):
                if not isinstance(message[field], str):
                    raise TypeError(f"{field} must be a string")
                out.append(kind(message[field]))
        if data.get("done"):
            self.finish_reason = str(data.get("done_reason") or "stop")
            if "eval_count" in data or "prompt_eval_count" in data:
                prompt = int(data.get("prompt_eval_count") or 0)
                completion = int(data.get("eval_count") or 0)
                self.usage = Usage(prompt, completion, prompt + completion)
