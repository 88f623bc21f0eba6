"""Find the code in a model's reply, as real models write it.

Handles ```python / ```py / ```python3 / bare ``` fences, several blocks (joined in order), a last fence never
closed, <code>...</code> tags, and reasoning in <think>/<thinking> blocks (dropped, closed or not). Blocks fenced
as another language (```json, ```text, ```output) are not code unless nothing else is there. No code at all is a
ParseError whose message restates the format, so the model's next step can fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent_py.errors import ParseError

__all__ = ["ParsedReply", "extract_code", "strip_reasoning", "FORMAT_REMINDER"]

FORMAT_REMINDER = (
    "Reply with a short thought, then exactly one Python code block:\n"
    "```python\n# your code here\n```\n"
    "Call final_answer(value) in the code when the task is done."
)
_THINK = re.compile(r"<(think|thinking|reasoning)>.*?(</\1>|\Z)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+.-]*)[^\n]*\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)", re.DOTALL | re.MULTILINE)
_CODE_TAG = re.compile(r"<code>(.*?)(?:</code>|\Z)", re.DOTALL | re.IGNORECASE)
_PYTHON = {"python", "py", "python3", "py3", "pycon", "ipython", ""}


@dataclass(slots=True)
class ParsedReply:
    thought: str
    code: str
    blocks: int = 1
    notes: list[str] = field(default_factory=list)


def strip_reasoning(reply: str) -> tuple[str, str]:
    """(reply without reasoning blocks, the reasoning text)."""
    reasoning = [m.group(0) for m in _THINK.finditer(reply)]
    text = _THINK.sub("", reply)
    # A reply that closes a think block it never opened (the server ate the opening tag).
    if "</think>" in text and "<think>" not in text:
        head, text = text.split("</think>", 1)
        reasoning.insert(0, head)
    cleaned = [re.sub(r"</?(think|thinking|reasoning)>", "", r, flags=re.IGNORECASE).strip() for r in reasoning]
    return text.strip(), "\n".join(r for r in cleaned if r)


def extract_code(reply: str) -> ParsedReply:
    text, _ = strip_reasoning(reply)
    notes: list[str] = []
    fences = list(_FENCE.finditer(text))
    python = [m for m in fences if m.group(1).lower() in _PYTHON]
    chosen = python or fences
    if chosen:
        last = chosen[-1]
        if not re.search(r"^[ \t]*```[ \t]*$", last.group(0).rstrip("\n").rsplit("\n", 1)[-1], re.MULTILINE):
            notes.append("the last code block was not closed; it was taken to the end of the reply")
        blocks = [m.group(2).strip("\n") for m in chosen if m.group(2).strip()]
        if not python:
            notes.append(f"no python block; ran the ```{chosen[0].group(1)} block")
        thought = text[: chosen[0].start()].strip()
    else:
        blocks = [m.group(1).strip("\n") for m in _CODE_TAG.finditer(text) if m.group(1).strip()]
        thought = _CODE_TAG.split(text)[0].strip() if blocks else text
    if not blocks:
        raise ParseError("Your reply had no code to run. " + FORMAT_REMINDER)
    if len(blocks) > 1:
        notes.append(f"{len(blocks)} code blocks were joined and run in order")
    return ParsedReply(thought=thought, code="\n\n".join(blocks), blocks=len(blocks), notes=notes)
