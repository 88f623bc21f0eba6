"""Fuzzing the two text boundaries of a step: the model's reply going in (code-block parsing) and the sandbox's
output going back (observation rendering, SECURITY-CASES 15 and 27). Inputs are biased toward the characters
that matter (fences, markers, think tags, newlines) so the generator reaches the interesting shapes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_py.errors import ParseError
from agent_py.parsing import extract_code, strip_reasoning
from agent_py.prompts import escape_untrusted, new_nonce, render_observation
from agent_py.sandbox_api import ExecError, ExecResult
from tests.tally import tally

PIECES = ["```", "```python", "```py\n", "```json\n", "\n```\n", "\n", " ", "\t", "<think>", "</think>",
          "<thinking>", "<code>", "</code>", "<<<", ">>>", "<", ">", "`", "print(1)", "x = 2", "é", "\r\n", "\x00"]
replies = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=40).map("".join)
markers = st.lists(st.one_of(st.sampled_from(["<", ">", "`", "<<<", ">>>", "```", "observation ", "end ", "\n",
                                              "\u200b"]),
                             st.text(max_size=6)), max_size=40).map("".join)
plain_code = st.text(st.characters(blacklist_characters="`<>\r", blacklist_categories=("Cs",)), max_size=80)


@settings(max_examples=1500, deadline=None)
@given(replies)
def test_any_reply_gives_code_from_the_reply_or_a_parse_error(reply: str) -> None:
    tally("fuzz inputs: code-block parsing")
    try:
        parsed = extract_code(reply)
    except ParseError as err:
        assert "```python" in str(err)  # the error restates the format
        return
    text, _ = strip_reasoning(reply)
    assert parsed.code.strip()
    for line in parsed.code.split("\n"):
        assert line in text  # nothing invented: every line of the code is the reply's own
    assert parsed.blocks >= 1


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40).filter(lambda t: "```" not in t and "<" not in t), plain_code.filter(str.strip))
def test_a_well_formed_reply_gives_back_exactly_its_code(thought: str, code: str) -> None:
    tally("fuzz inputs: code-block parsing")
    code = code.strip("\n")
    parsed = extract_code(f"{thought}\n```python\n{code}\n```\n")
    assert parsed.code == code and parsed.blocks == 1 and parsed.notes == []


@settings(max_examples=1500, deadline=None)
@given(markers, markers, markers)
def test_observation_cannot_contain_a_marker_or_fence_from_output(stdout: str, stderr: str, message: str) -> None:
    tally("fuzz inputs: observation framing")
    nonce = new_nonce()
    result = ExecResult(stdout=stdout, stderr=stderr, error=ExecError("ValueError", message, [message]))
    rendered = render_observation(result, nonce=nonce, output_limit=10_000)
    frame_open, frame_close = f"<<<observation {nonce}>>>", f"<<<end {nonce}>>>"
    assert rendered.count(frame_open) == 1 and rendered.count(frame_close) == 1
    body = rendered.replace(frame_open, "").replace(frame_close, "")
    assert "<<<" not in body and ">>>" not in body and "```" not in body


@settings(max_examples=500, deadline=None)
@given(markers)
def test_escaping_only_inserts_invisible_characters(text: str) -> None:
    tally("fuzz inputs: observation framing")
    assert escape_untrusted(text).replace("\u200b", "") == text.replace("\u200b", "")
