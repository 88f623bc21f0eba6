"""Turn an HTTP error answer or a stream error object into the typed error (agent_py.errors) it stands for.

Providers word a too-long prompt differently; each pattern below is a message seen from one of them. Anything
matching them is ContextOverflow (never retried: the same prompt would fail again).
"""

from __future__ import annotations

import json
import re
from typing import Any

from agent_py.errors import (
    AuthError,
    BadRequest,
    ContextOverflow,
    ModelError,
    ModelNotFound,
    RateLimited,
    ServerError,
)

__all__ = ["error_from_status", "error_message_of", "is_context_overflow", "redact", "retry_after_from_message"]

_OVERFLOW = re.compile(
    "|".join((
        r"context_length_exceeded",  # OpenAI, Groq, OpenRouter error code
        r"maximum context length",  # OpenAI, vLLM, OpenRouter: "This model's maximum context length is 8192 tokens"
        r"too long to fit into the model",  # vLLM: "The prompt (total length N) is too long to fit into the model"
        r"exceeds? (?:the )?(?:available |maximum |model'?s? )?context (?:size|length|window)",  # llama.cpp, Ollama
        r"exceed_context_size_error",  # llama.cpp error type
        r"input is larger than the max context size",  # older llama.cpp
        r"maximum context length|too large for model with \d+ maximum context length",  # Mistral
        r"reduce the length of the messages",  # Groq
        r"prompt is too long",  # Anthropic: "prompt is too long: 208000 tokens > 200000 maximum"
        r"input token count.*exceeds the maximum",  # Gemini
        r"context the overflows|context length of only \d+",  # LM Studio
        r"input length exceeds|prompt too long|context window exceeded",  # Ollama variants
    )),
    re.IGNORECASE,
)


def is_context_overflow(message: str) -> bool:
    return bool(_OVERFLOW.search(message))


def redact(text: str, secret: str) -> str:
    """Servers sometimes echo the key back in a 401 body; it must not reach an error, a log or an export."""
    return text.replace(secret, "[redacted]") if secret and len(secret) >= 4 else text


def error_message_of(body: bytes | str | Any) -> str:
    """The human part of an error body: OpenAI {"error": {"message"}}, Ollama {"error": "..."}, FastAPI
    {"detail": ...}, a list of those, or plain text."""
    data: Any = body
    if isinstance(body, bytes | str):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            data = json.loads(text)
        except ValueError:
            return text.strip()[:500]
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, dict):
        for key in ("error", "detail", "message"):
            value = data.get(key)
            if isinstance(value, dict):
                inner = value.get("message") or value.get("msg") or value.get("code")
                code = value.get("code") or value.get("type")
                text = str(inner) if inner is not None else json.dumps(value)[:500]
                return f"{text} ({code})" if code and str(code) not in text else text
            if value:
                return str(value)[:500] if not isinstance(value, list) else json.dumps(value)[:500]
    return json.dumps(data)[:500] if data is not None else ""


_TRY_AGAIN = re.compile(r"(?:try again|retry) (?:in|after) (\d+(?:\.\d+)?)\s*(ms|s|sec|seconds?)?\b", re.IGNORECASE)


def retry_after_from_message(message: str) -> float | None:
    """OpenAI and Groq say "Please try again in 1.234s" in the body: in a browser that is often all there is, since
    a cross-origin page can read Retry-After only if the server lists it in Access-Control-Expose-Headers."""
    match = _TRY_AGAIN.search(message)
    if not match:
        return None
    value = float(match.group(1))
    return value / 1000 if (match.group(2) or "").lower() == "ms" else value


def error_from_status(
    status: int, body: bytes, *, url: str, model: str, retry_after_s: float | None = None, secret: str = ""
) -> ModelError:
    """The typed error for an HTTP error answer."""
    detail = redact(error_message_of(body), secret) or f"HTTP {status}"
    where = {"url": url, "status": status}
    if status in (401, 403):
        return AuthError(
            f"the server refused the API key ({status}): {detail}", fix="check the API key in settings", **where
        )
    if status == 404:
        return ModelNotFound(
            f"not found ({status}): model {model!r} at {url}: {detail}",
            fix="check the model name (list the server's models) and that the base URL ends where the API starts "
            "(often .../v1)",
            model=model,
            **where,
        )
    if retry_after_s is None and status in (429, 503):
        retry_after_s = retry_after_from_message(detail)
    if status == 429:
        return RateLimited(
            f"rate limited (429): {detail}", retry_after_s=retry_after_s, fix="wait, or lower the request rate",
            **where,
        )
    if status not in (408,) and is_context_overflow(detail):
        return ContextOverflow(f"the prompt is too long for the model: {detail}",
                               fix="shorten the conversation or raise the model's context size", **where)
    if status >= 500 or status == 408:
        return ServerError(f"server error ({status}): {detail}", retry_after_s=retry_after_s, **where)
    return BadRequest(f"the server rejected the request ({status}): {detail}", **where)
