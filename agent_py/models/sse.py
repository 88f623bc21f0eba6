"""An incremental Server-Sent Events parser (the WHATWG rules that matter for chat streams).

Bytes arrive in arbitrary pieces: a line, a UTF-8 character or a CRLF pair may be split across reads. Lines end in
LF, CR or CRLF; `:` starts a comment; several `data:` lines join with newlines; a blank line ends an event; an
event still open when the body ends is dropped (the spec's rule, and what tells a cut stream from a whole one).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

__all__ = ["SSEEvent", "SSEParser"]


@dataclass(frozen=True, slots=True)
class SSEEvent:
    data: str
    event: str = "message"
    id: str | None = None


class SSEParser:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._skip_lf = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Parse what arrived; returns the events it completed."""
        text = self._decoder.decode(chunk)
        if self._skip_lf and text:
            # The previous read ended in CR, already taken as a line end; an LF now is its other half.
            text = text[1:] if text[0] == "\n" else text
            self._skip_lf = False
        self._buffer += text
        return self._drain()

    def _drain(self) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        buffer = self._buffer
        start = 0
        size = len(buffer)
        while start < size:
            lf = buffer.find("\n", start)
            cr = buffer.find("\r", start, lf if lf >= 0 else size)
            if cr >= 0:
                end = cr
                if cr == size - 1:
                    next_start, self._skip_lf = size, True
                else:
                    next_start = cr + (2 if buffer[cr + 1] == "\n" else 1)
            elif lf >= 0:
                end, next_start = lf, lf + 1
            else:
                break
            event = self._line(buffer[start:end])
            if event is not None:
                events.append(event)
            start = next_start
        self._buffer = buffer[start:]
        return events

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            if not self._data:
                self._event = ""
                return None
            event = SSEEvent("\n".join(self._data), self._event or "message", self._id)
            self._data, self._event = [], ""
            return event
        if line[0] == ":":
            return None  # comment / keep-alive
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None  # "retry" and unknown fields are ignored

    @property
    def pending(self) -> bool:
        """True when bytes of an unfinished event are buffered (the body ended mid-event)."""
        return bool(self._data or self._buffer.strip())
