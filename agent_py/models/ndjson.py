"""An incremental newline-delimited JSON splitter (Ollama's stream format): lines may be split across reads."""

from __future__ import annotations

import codecs

__all__ = ["NDJSONSplitter"]


class NDJSONSplitter:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""

    def feed(self, chunk: bytes) -> list[str]:
        """Returns the complete, non-blank lines (JSON text, not yet parsed)."""
        self._buffer += self._decoder.decode(chunk)
        if "\n" not in self._buffer:
            return []
        *lines, self._buffer = self._buffer.split("\n")
        return [line for line in (raw.strip() for raw in lines) if line]

    def finish(self) -> list[str]:
        """The last line, when the body ended without a newline after it."""
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []
