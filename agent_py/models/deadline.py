"""A read timeout that costs one timer per call, not one per chunk.

`asyncio.timeout()` around every chunk read schedules a timer per chunk; in Pyodide each is a JS setTimeout that
stays pending (holding a callback proxy) until it fires, even when cancelled: a 5,000-chunk reply would leave
5,000 live 120 s timers. Here one timer checks the last deadline when it fires and re-arms itself only if a read
is still in progress; it never cancels the task while the stream is handed to the consumer (at a `yield`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

__all__ = ["ReadDeadline"]

T = TypeVar("T")


class ReadDeadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._loop = asyncio.get_running_loop()
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self._deadline = 0.0
        self._expired = False

    async def read(self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable`; TimeoutError if it takes longer than `seconds`."""
        self._deadline = self._loop.time() + self.seconds
        self._task = asyncio.current_task()
        if self._handle is None:
            self._handle = self._loop.call_at(self._deadline, self._check)
        try:
            return await awaitable
        except asyncio.CancelledError:
            if self._expired and self._task is not None and self._task.uncancel() == 0:
                raise TimeoutError from None
            raise
        finally:
            self._task = None

    def _check(self) -> None:
        self._handle = None
        if self._task is None:
            return  # not reading: the next read arms a fresh timer
        if self._loop.time() >= self._deadline:
            self._expired = True
            self._task.cancel()
        else:
            self._handle = self._loop.call_at(self._deadline, self._check)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
