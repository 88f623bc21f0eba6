"""When to try a model call again, and how long to wait: exponential backoff with full jitter, honouring
Retry-After. Sleep, randomness and the clock are injectable so tests run instantly and deterministically.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from agent_py.errors import ModelError

__all__ = ["RetryPolicy", "parse_retry_after"]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date. None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


@dataclass(slots=True)
class RetryPolicy:
    """max_retries more attempts after the first; backoff base * 2**n, full jitter, never above max_delay_s.

    A Retry-After longer than max_delay_s is not waited out: the error goes up at once with retry_after_s, so the
    UI can say when to try again instead of the run hanging for minutes.
    """

    max_retries: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
    random: Callable[[], float] = random.random
    delays: list[float] = field(default_factory=list)  # what was waited, for tests and diagnostics

    def delay_for(self, error: ModelError, retries_done: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise `error`."""
        if not error.retryable or retries_done >= self.max_retries:
            return None
        backoff = self.random() * min(self.max_delay_s, self.base_delay_s * 2**retries_done)
        retry_after = getattr(error, "retry_after_s", None)
        if retry_after is not None:
            if retry_after > self.max_delay_s:
                return None
            return max(float(retry_after), backoff)
        return backoff

    async def wait(self, seconds: float) -> None:
        self.delays.append(seconds)
        await self.sleep(seconds)
