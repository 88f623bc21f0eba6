"""HTML -> readable text with the stdlib parser (no lxml in Pyodide's default set, nothing to install).

Kept: headings (as "# ", "## ", ...), paragraphs and list items on their own lines, links as "text (url)" with the
URL made absolute, table cells separated by " | ", <pre> as is. Dropped: script, style, nav, noscript, template,
svg, iframe, form controls and everything in <head> but the title. Hidden text is not shown either (the
`hidden` attribute, aria-hidden="true", style display:none), because prompt injections like to hide there.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

__all__ = ["extract_text"]

_SKIP = {"script", "style", "nav", "noscript", "template", "svg", "iframe", "head", "select", "button", "object",
         "canvas"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_BLOCK = {"p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote", "ul", "ol", "dl",
          "dt", "dd", "table", "tr", "figure", "figcaption", "details", "summary", "address", "hr", "form"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


class _TextParser(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.parts: list[str] = []
        self.title = ""
        self._skip_stack: list[str] = []  # open elements whose content is dropped
        self._in_title = False
        self._pre = 0
        self._link: tuple[str, int] | None = None  # (href, index in parts where the link text starts)
        self._pending = 0  # line breaks owed before the next text: blocks ask for them, text pays them once

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self._skip_stack[1:]:
            self._in_title = True
            return
        if self._skip_stack:
            if tag not in _VOID:
                self._skip_stack.append(tag)
            return
        attributes = dict(attrs)
        hidden = ("hidden" in attributes or (attributes.get("aria-hidden") or "").lower() == "true"
                  or bool(_HIDDEN_STYLE.search(attributes.get("style") or "")))
        if (tag in _SKIP or hidden) and tag not in _VOID:
            self._skip_stack.append(tag)
            return
        if tag in _HEADINGS:
            self._newline(2)
            self._emit("#" * _HEADINGS[tag] + " ")
        elif tag == "li":
            self._newline(1)
            self._emit("- ")
        elif tag == "br":
            self._newline(1)
        elif tag == "tr":
            self._newline(1)
        elif tag in ("td", "th"):
            self._emit("| " if self._pending or not self.parts else " | ")
        elif tag == "pre":
            self._newline(2)
            self._pre += 1
        elif tag == "a" and attributes.get("href"):
            self._link = (urljoin(self.base_url, attributes["href"] or ""), len(self.parts))
        elif tag == "img" and attributes.get("alt"):
            self._emit(f"[image: {attributes['alt']}]")
        elif tag in _BLOCK:
            self._newline(2)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            return
        if self._skip_stack:
            # Pop to the matching open tag: unclosed children inside a dropped element must not leak text.
            if tag in self._skip_stack:
                while self._skip_stack and self._skip_stack.pop() != tag:
                    pass
            return
        if tag == "tr":
            self._newline(1)
        elif tag in _HEADINGS or tag in _BLOCK or tag == "pre":
            self._newline(2)
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag == "li":
            self._newline(1)
        elif tag == "a" and self._link is not None:
            href, start = self._link
            self._link = None
            text = "".join(self.parts[start:]).strip()
            if href and not href.startswith(("javascript:", "data:")) and href != text:
                self._emit(f" ({href})" if text else href)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
            return
        if self._skip_stack:
            return
        text = data if self._pre else re.sub(r"\s+", " ", data)
        if self._pending and not self._pre:
            text = text.lstrip()
            if not text:
                return  # whitespace between blocks
        self._emit(text)

    def _newline(self, count: int) -> None:
        if self.parts:
            self._pending = max(self._pending, count)

    def _emit(self, text: str) -> None:
        if self._pending:
            self.parts.append("\n" * self._pending)
            self._pending = 0
        self.parts.append(text)


def extract_text(html: str, base_url: str = "") -> tuple[str, str]:
    """(title, text) of an HTML document."""
    parser = _TextParser(base_url)
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    # Outside <pre> whitespace runs are already one space, so a line starting with exactly one space is an
    # artefact of the joins; more than one can only be <pre> indentation, which code samples need.
    lines = [line.rstrip() for line in text.split("\n")]
    lines = [line[1:] if line.startswith(" ") and not line.startswith("  ") else line for line in lines]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return re.sub(r"\s+", " ", parser.title).strip(), text
