"""Token counts when the server does not report them, and the running total of a run.

The estimate is deliberately simple (about 4 characters a token for English and code, plus a few tokens of
framing per message): it is marked `estimated` so the UI can show "~" and nobody mistakes it for a bill.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .types import Usage

__all__ = ["estimate_tokens", "estimate_prompt_tokens", "estimated_usage", "RunUsage"]

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4  # role markers and separators in chat templates


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def estimate_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(TOKENS_PER_MESSAGE + estimate_tokens(_content_text(m.get("content"))) for m in messages)


def estimated_usage(messages: list[dict[str, Any]], completion_text: str) -> Usage:
    prompt = estimate_prompt_tokens(messages)
    completion = estimate_tokens(completion_text)
    return Usage(prompt, completion, prompt + completion, estimated=True)


@dataclass(slots=True)
class RunUsage:
    """Usage summed over the calls of one run (the loop adds each call's Usage)."""

    total: Usage = field(default_factory=Usage)
    calls: int = 0

    def add(self, usage: Usage) -> Usage:
        self.total = self.total + usage
        self.calls += 1
        return self.total

    def to_dict(self) -> dict[str, Any]:
        return {**self.total.to_dict(), "calls": self.calls}
