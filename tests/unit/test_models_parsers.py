"""The stream framings (SSE, NDJSON) and <think> routing, fed in every way the network can split them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_py.errors import ContextOverflow, StreamError
from agent_py.models.ndjson import NDJSONSplitter
from agent_py.models.ollama import OllamaStreamDecoder
from agent_py.models.openai import OpenAIStreamDecoder
from agent_py.models.sse import SSEEvent, SSEParser
from agent_py.models.think import ThinkSplitter
from agent_py.models.types import ReasoningDelta, TextDelta, Usage


def feed_all(parser: SSEParser, pieces: list[bytes]) -> list[SSEEvent]:
    return [event for piece in pieces for event in parser.feed(piece)]


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


# --- SSE --------------------------------------------------------------------------------------------------------

def test_sse_multiline_data_joins_with_newlines_and_strips_one_space() -> None:
    events = SSEParser().feed(b"data: line one\ndata:line two\ndata:  indented\n\n")
    assert events == [SSEEvent("line one\nline two\n indented")]


def test_sse_comments_event_names_ids_and_unknown_fields() -> None:
    stream = b": keep-alive\nevent: ping\nid: 7\nretry: 100\nweird: x\ndata: {}\n\n: another\n\n"
    assert SSEParser().feed(stream) == [SSEEvent("{}", "ping", "7")]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_sse_accepts_every_line_ending(eol: bytes) -> None:
    stream = b"data: a" + eol + b"data: b" + eol + eol + b"data: c" + eol + eol
    assert [e.data for e in SSEParser().feed(stream)] == ["a\nb", "c"]


def test_sse_crlf_split_between_reads_is_one_line_end() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert [e.data for e in parser.feed(b"\n\r")] == ["a"]  # LF completes the CRLF; the next CR ends the event
    assert parser.feed(b"\n") == []  # ...and this LF is that CR's other half, not a second blank line
    assert [e.data for e in parser.feed(b"data: b\n\n")] == ["b"]


def test_sse_utf8_character_split_across_reads() -> None:
    data = "data: héllo ✓\n\n".encode()
    cut = data.index("✓".encode()) + 1
    assert [e.data for e in feed_all(SSEParser(), [data[:cut], data[cut:]])] == ["héllo ✓"]


def test_sse_unterminated_event_at_the_end_is_pending_not_emitted() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: {\"half\": ") == []
    assert parser.pending


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
       st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                        max_size=20), min_size=1, max_size=6),
       st.sampled_from([b"\n", b"\r\n", b"\r"]))
def test_sse_any_split_gives_the_same_events(cuts: list[int], payloads: list[str], eol: bytes) -> None:
    stream = b"".join(b"data: " + p.encode() + eol + b": c" + eol + eol for p in payloads)
    whole = SSEParser().feed(stream)
    assert [e.data for e in whole] == payloads
    assert feed_all(SSEParser(), split_at(stream, cuts)) == whole


# --- OpenAI chunks --------------------------------------------------------------------------------------------

def sse(*chunks: object) -> bytes:
    return b"".join(b"data: " + (c if isinstance(c, bytes) else json.dumps(c).encode()) + b"\n\n" for c in chunks)


def delta(**fields: object) -> dict:
    return {"choices": [{"index": 0, "delta": fields, "finish_reason": None}]}


def test_openai_decoder_text_reasoning_finish_usage_done() -> None:
    decoder = OpenAIStreamDecoder("u")
    body = sse(delta(role="assistant", content=""), delta(reasoning_content="think"), delta(reasoning="more"),
               delta(content="Hi"), {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]},
               {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}, b"[DONE]")
    events = decoder.feed(body)
    assert events == [ReasoningDelta("think"), ReasoningDelta("more"), TextDelta("Hi")]
    assert decoder.finished and decoder.finish_reason == "length"
    assert decoder.usage == Usage(3, 2, 5)


def test_openai_decoder_reads_groq_usage() -> None:
    decoder = OpenAIStreamDecoder("u")
    decoder.feed(sse({"choices": [{"delta": {}, "finish_reason": "stop"}],
                      "x_groq": {"usage": {"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5}}}))
    assert decoder.usage == Usage(4, 1, 5)


def test_openai_decoder_without_finish_is_not_finished() -> None:
    decoder = OpenAIStreamDecoder("u")
    decoder.feed(sse(delta(content="partial")))
    assert not decoder.finished


def test_openai_decoder_bad_json_is_a_stream_error() -> None:
    with pytest.raises(StreamError, match="malformed JSON"):
        OpenAIStreamDecoder("u").feed(b"data: {\"choices\": [\n\n")


def test_openai_decoder_error_object_mid_stream() -> None:
    decoder = OpenAIStreamDecoder("u")
    with pytest.raises(StreamError, match="overloaded") as info:
        decoder.feed(sse(delta(content="a"), {"error": {"message": "overloaded", "type": "server_error"}}))
    assert not isinstance(info.value, ContextOverflow)


def test_openai_decoder_overflow_error_object_is_context_overflow() -> None:
    with pytest.raises(ContextOverflow):
        OpenAIStreamDecoder("u").feed(sse({"error": {"message": "This model's maximum context length is 4096"}}))


# --- NDJSON / Ollama ------------------------------------------------------------------------------------------

def test_ndjson_lines_split_across_reads_and_blank_lines() -> None:
    splitter = NDJSONSplitter()
    assert splitter.feed(b'{"a": 1}\n\n{"b"') == ['{"a": 1}']
    assert splitter.feed(b': 2}\r\n{"c": 3}') == ['{"b": 2}']
    assert splitter.finish() == ['{"c": 3}']


def ollama_line(**fields: object) -> bytes:
    return json.dumps(fields).encode() + b"\n"


def test_ollama_decoder_content_thinking_done_and_counts() -> None:
    decoder = OllamaStreamDecoder("u")
    body = (ollama_line(message={"role": "assistant", "content": "", "thinking": "hmm"}, done=False)
            + ollama_line(message={"role": "assistant", "content": "Hi"}, done=False)
            + ollama_line(message={"role": "assistant", "content": ""}, done=True, done_reason="length",
                          prompt_eval_count=10, eval_count=2))
    events = [e for i in range(0, len(body), 7) for e in decoder.feed(body[i:i + 7])]
    assert events == [ReasoningDelta("hmm"), TextDelta("Hi")]
    assert decoder.finish_reason == "length" and decoder.usage == Usage(10, 2, 12)


def test_ollama_decoder_last_line_without_newline_counts() -> None:
    decoder = OllamaStreamDecoder("u")
    decoder.feed(json.dumps({"message": {"content": "x"}, "done": True}).encode())
    assert decoder.finish() == [TextDelta("x")] and decoder.finished


def test_ollama_decoder_half_last_line_is_a_cut_not_bad_json() -> None:
    decoder = OllamaStreamDecoder("u")
    decoder.feed(ollama_line(message={"content": "x"}, done=False) + b'{"message": {"cont')
    assert decoder.finish() == [] and not decoder.finished


def test_ollama_decoder_error_line() -> None:
    with pytest.raises(StreamError, match="out of memory"):
        OllamaStreamDecoder("u").feed(ollama_line(error="model runner: out of memory"))


# --- <think> --------------------------------------------------------------------------------------------------

def run_think(pieces: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    out = [p for piece in pieces for p in splitter.feed(piece)] + splitter.flush()
    return "".join(t for r, t in out if r), "".join(t for r, t in out if not r)


def test_think_block_routed_to_reasoning_and_blank_lines_after_it_dropped() -> None:
    assert run_think(["<think>plan</think>\n\nanswer"]) == ("plan", "answer")


def test_think_tags_split_across_deltas() -> None:
    assert run_think(["<th", "ink>pl", "an</th", "ink", ">\n", "\nans", "wer <"]) == ("plan", "answer <")


def test_think_lookalike_is_text() -> None:
    assert run_think(["a <thinking> b <", "/think c"]) == ("", "a <thinking> b </think c")


@given(st.text(alphabet="ab<>/thinkx\n", max_size=40), st.text(alphabet="ab<>x", max_size=40),
       st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_think_any_split_gives_the_same_result(reasoning: str, answer: str, cuts: list[int]) -> None:
    whole = f"<think>{reasoning}</think>{answer}"
    points = sorted({c % (len(whole) + 1) for c in cuts})
    pieces = [whole[a:b] for a, b in zip([0, *points], [*points, len(whole)], strict=True)]
    assert run_think(pieces) == run_think([whole])
