"""Route `<think>...</think>` blocks in streamed text to reasoning.

Some servers (vLLM or llama.cpp without a reasoning parser, DeepSeek-R1 and Qwen3 distills) put the reasoning
inline in the content. The tags can be split across deltas ("<thi" + "nk>"), so a possible tag prefix at the end of
a piece is held back until the next piece shows whether it is a tag.
"""

from __future__ import annotations

__all__ = ["ThinkSplitter"]

OPEN, CLOSE = "<think>", "</think>"


class ThinkSplitter:
    def __init__(self) -> None:
        self._held = ""
        self._thinking = False
        self._after_close = False  # drop the blank lines models put between </think> and the answer

    def feed(self, text: str) -> list[tuple[bool, str]]:
        """Returns (is_reasoning, text) pieces, in order; empty pieces are omitted."""
        if not self._held and "<" not in text and not self._after_close:
            return [(self._thinking, text)] if text else []  # the common case: no tag in sight
        buffer = self._held + text
        self._held = ""
        out: list[tuple[bool, str]] = []
        while buffer:
            if self._after_close:
                buffer = buffer.lstrip("\r\n")
                if not buffer:
                    break
                self._after_close = False
            tag = CLOSE if self._thinking else OPEN
            index = buffer.find(tag)
            if index >= 0:
                self._emit(out, buffer[:index])
                buffer = buffer[index + len(tag):]
                self._after_close = self._thinking
                self._thinking = not self._thinking
                continue
            keep = _partial_tag_suffix(buffer, tag)
            self._emit(out, buffer[: len(buffer) - keep])
            self._held = buffer[len(buffer) - keep:]
            break
        return out

    def flush(self) -> list[tuple[bool, str]]:
        """At the end of the stream a held-back "<thi" was just text."""
        out: list[tuple[bool, str]] = []
        self._emit(out, self._held)
        self._held = ""
        return out

    def _emit(self, out: list[tuple[bool, str]], text: str) -> None:
        if text:
            out.append((self._thinking, text))


def _partial_tag_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that is a proper beginning of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0
