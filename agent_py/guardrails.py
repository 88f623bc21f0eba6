"""When a run must stop though the model has not answered: steps, wall clock, tokens, cost, stagnation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["Limits", "StopReason", "Guard"]


class StopReason(StrEnum):
    FINAL_ANSWER = "final_answer"
    MAX_STEPS = "max_steps"
    WALL_CLOCK = "wall_clock"
    TOKENS = "tokens"
    COST = "cost"
    STAGNATION = "stagnation"
    CANCELLED = "cancelled"
    ERROR = "error"


@dataclass(slots=True)
class Limits:
    max_steps: int = 12
    max_wall_clock_s: float = 300.0
    max_tokens: int | None = None
    max_cost: float | None = None
    max_tool_calls_per_step: int = 50
    stagnation_repeats: int = 3

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(max_steps=settings.max_steps, max_wall_clock_s=settings.max_wall_clock_s,
                   max_tokens=settings.max_tokens, max_cost=settings.max_cost,
                   max_tool_calls_per_step=getattr(settings, "max_tool_calls_per_step", 50))


def _normalize(code: str) -> str:
    lines = [re.sub(r"#.*$", "", line).rstrip() for line in code.splitlines()]
    return "\n".join(line for line in lines if line.strip())


class Guard:
    """Checked after every step; `check` returns the reason to stop, or None to go on."""

    def __init__(self, limits: Limits, started_at: float) -> None:
        self.limits = limits
        self.started_at = started_at
        self._signatures: list[str] = []

    def note_step(self, code: str, error: dict[str, Any] | None) -> None:
        # The same code, or the same error, again and again: the model is going round in circles.
        signature = f"error:{error.get('type')}:{error.get('message')}" if error else f"code:{_normalize(code)}"
        self._signatures.append(signature)

    def stagnating(self) -> bool:
        n = self.limits.stagnation_repeats
        recent = self._signatures[-n:]
        return n > 1 and len(recent) == n and len(set(recent)) == 1

    def check(self, *, steps: int, now: float, tokens: int, cost: float | None) -> StopReason | None:
        if self.stagnating():
            return StopReason.STAGNATION
        if steps >= self.limits.max_steps:
            return StopReason.MAX_STEPS
        if now - self.started_at >= self.limits.max_wall_clock_s:
            return StopReason.WALL_CLOCK
        if self.limits.max_tokens is not None and tokens >= self.limits.max_tokens:
            return StopReason.TOKENS
        if self.limits.max_cost is not None and cost is not None and cost >= self.limits.max_cost:
            return StopReason.COST
        return None
