"""Fuzzing the stream framings a model server controls (SSE, NDJSON) and the decoders above them: any bytes, split
anywhere, give the same result as one read, and a malformed or hostile body is a typed ModelError, never a crash
of ours (SECURITY-CASES 18)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_py.errors import ModelError
from agent_py.models.ndjson import NDJSONSplitter
from agent_py.models.ollama import OllamaStreamDecoder
from agent_py.models.openai import OpenAIStreamDecoder
from agent_py.models.sse import SSEParser
from agent_py.models.types import ReasoningDelta, TextDelta
from tests.tally import tally

FRAMING = [b"data:", b"data: ", b"event: x", b"id: 1", b":", b"\n", b"\r", b"\r\n", b"\n\n", b"[DONE]", b"{", b"}",
           "é".encode(), "é".encode()[:1], b"\xff", b"\x00", b" "]
raw_bodies = st.lists(st.one_of(st.sampled_from(FRAMING), st.binary(max_size=8)), max_size=40).map(b"".join)
cuts = st.lists(st.integers(min_value=0, max_value=400), max_size=8)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8)
# Chunks shaped like the real ones, with any value in any slot: what a buggy or hostile server can send.
openai_chunks = st.one_of(
    json_values,
    st.fixed_dictionaries({"choices": st.one_of(json_values, st.lists(st.one_of(json_values, st.fixed_dictionaries(
        {"delta": st.one_of(json_values, st.fixed_dictionaries({"content": json_values,
                                                                "reasoning_content": json_values})),
         "finish_reason": json_values})), max_size=3))},
        optional={"usage": json_values, "error": json_values, "x_groq": json_values}))
ollama_chunks = st.one_of(
    json_values,
    st.fixed_dictionaries({"message": st.one_of(json_values, st.fixed_dictionaries(
        {"content": json_values, "thinking": json_values}))},
        optional={"done": json_values, "done_reason": json_values, "eval_count": json_values,
                  "prompt_eval_count": json_values, "error": json_values}))


def split_at(data: bytes, points: list[int]) -> list[bytes]:
    marks = sorted({p % (len(data) + 1) for p in points})
    return [data[a:b] for a, b in zip([0, *marks], [*marks, len(data)], strict=True)]


@settings(max_examples=1500, deadline=None)
@given(raw_bodies, cuts)
def test_sse_parser_takes_any_bytes_split_anywhere(body: bytes, points: list[int]) -> None:
    tally("fuzz inputs: SSE framing")
    whole = SSEParser().feed(body)
    parser = SSEParser()
    pieces = [event for piece in split_at(body, points) for event in parser.feed(piece)]
    assert pieces == whole
    assert all(isinstance(e.data, str) and isinstance(e.event, str) for e in whole)


@settings(max_examples=1500, deadline=None)
@given(raw_bodies, cuts)
def test_ndjson_splitter_takes_any_bytes_split_anywhere(body: bytes, points: list[int]) -> None:
    tally("fuzz inputs: NDJSON framing")
    one = NDJSONSplitter()
    whole = one.feed(body) + one.finish()
    many = NDJSONSplitter()
    pieces = [line for piece in split_at(body, points) for line in many.feed(piece)] + many.finish()
    assert pieces == whole
    assert all(line and "\n" not in line and line == line.strip() for line in whole)


def _decode(decoder: OpenAIStreamDecoder | OllamaStreamDecoder, pieces: list[bytes]) -> list:
    """Deltas, or the ModelError the body is: any other exception fails the test."""
    try:
        out = [delta for piece in pieces for delta in decoder.feed(piece)] + decoder.finish()
    except ModelError as err:
        assert err.message
        return [err]
    assert all(isinstance(d, TextDelta | ReasoningDelta) and isinstance(d.text, str) and d.text for d in out)
    return out


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.one_of(openai_chunks.map(lambda c: b"data: " + json.dumps(c).encode() + b"\n\n"),
                          st.sampled_from([b"data: [DONE]\n\n", b": ping\n\n", b"data: {\n\n"]), raw_bodies),
                max_size=6).map(b"".join), cuts)
def test_openai_decoder_gives_deltas_or_a_typed_error(body: bytes, points: list[int]) -> None:
    tally("fuzz inputs: OpenAI stream decoding")
    whole = _decode(OpenAIStreamDecoder("http://127.0.0.1/v1"), [body])
    split = _decode(OpenAIStreamDecoder("http://127.0.0.1/v1"), split_at(body, points))
    assert [type(x) for x in split] == [type(x) for x in whole]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.one_of(ollama_chunks.map(lambda c: json.dumps(c).encode() + b"\n"), raw_bodies), max_size=6)
       .map(b"".join), cuts)
def test_ollama_decoder_gives_deltas_or_a_typed_error(body: bytes, points: list[int]) -> None:
    tally("fuzz inputs: Ollama stream decoding")
    whole = _decode(OllamaStreamDecoder("http://127.0.0.1:11434"), [body])
    split = _decode(OllamaStreamDecoder("http://127.0.0.1:11434"), split_at(body, points))
    assert [type(x) for x in split] == [type(x) for x in whole]
