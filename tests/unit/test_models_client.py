"""ModelClient against httpx.MockTransport: every error path, retries, partial streams, usage, and the key."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from agent_py.errors import (
    AuthError,
    BadRequest,
    ContextOverflow,
    ModelConnectError,
    ModelError,
    ModelNotFound,
    ModelTimeout,
    RateLimited,
    ServerError,
    StreamError,
)
from agent_py.models import (
    FinishEvent,
    GenerationOptions,
    ModelClient,
    ModelConfig,
    RetryPolicy,
    TextDelta,
    Usage,
    UsageEvent,
    detect_ollama,
)

pytestmark = pytest.mark.anyio
KEY = "sk-test-SECRET-0123456789"
MESSAGES = [{"role": "user", "content": "What is 6 * 7?"}]


class Chunks(httpx.AsyncByteStream):
    """A response body delivered piece by piece; `fail` raises after the pieces (a cut connection)."""

    def __init__(self, pieces: list[bytes], fail: Exception | None = None, pause_s: float = 0.0) -> None:
        self.pieces, self.fail, self.pause_s, self.closed = pieces, fail, pause_s, False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            if self.pause_s:
                await asyncio.sleep(self.pause_s)
            yield piece
        if self.fail is not None:
            raise self.fail

    async def aclose(self) -> None:
        self.closed = True


def sse_body(*texts: str, finish: str = "stop", usage: dict | None = None, done: bool = True) -> list[bytes]:
    out = [b"data: " + json.dumps({"choices": [{"delta": {"content": t}, "finish_reason": None}]}).encode() + b"\n\n"
           for t in texts]
    if finish:
        out.append(b"data: " + json.dumps({"choices": [{"delta": {}, "finish_reason": finish}]}).encode() + b"\n\n")
    if usage:
        out.append(b"data: " + json.dumps({"choices": [], "usage": usage}).encode() + b"\n\n")
    if done:
        out.append(b"data: [DONE]\n\n")
    return out


class Script:
    """A MockTransport handler that answers each request with the next scripted response and records requests."""

    def __init__(self, *responses: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0)
        if isinstance(item, Exception):
            raise item
        return item(request) if callable(item) else item

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def stream_response(pieces: list[bytes], **kw: object) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Chunks(pieces, **kw))


def error_response(status: int, message: str, headers: dict | None = None, code: str | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, json={"error": {"message": message, "type": "x", "code": code}})


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_client(script: Script, *, provider: str = "openai", retries: int = 3, **config: object) -> ModelClient:
    sleep = FakeSleep()
    cfg = ModelConfig(provider=provider, base_url="http://model.test/v1" if provider == "openai"
                      else "http://ollama.test", model="m", api_key=KEY, max_retries=retries, **config)
    client = ModelClient(cfg, script.transport, retry=RetryPolicy(retries, 0.5, 30.0, sleep=sleep, random=lambda: 1.0))
    client.fake_sleep = sleep  # type: ignore[attr-defined]
    return client


async def collect(client: ModelClient, messages: list[dict] = MESSAGES) -> list[object]:
    return [event async for event in client.stream(messages)]


# --- streaming and the request ------------------------------------------------------------------------------

async def test_stream_events_in_order_with_server_usage() -> None:
    script = Script(stream_response(sse_body("6 * 7 ", "= 42", usage={"prompt_tokens": 9, "completion_tokens": 4,
                                                                       "total_tokens": 13})))
    events = await collect(make_client(script))
    assert events == [TextDelta("6 * 7 "), TextDelta("= 42"), UsageEvent(Usage(9, 4, 13)), FinishEvent("stop")]


async def test_request_body_headers_and_options() -> None:
    script = Script(stream_response(sse_body("ok")))
    client = make_client(script, extra_headers={"X-Title": "t"})
    options = GenerationOptions(temperature=0.2, max_tokens=50, stop=["```\n"], seed=7, extra={"top_p": 0.9})
    await client.complete(MESSAGES, options)
    request = script.requests[0]
    assert str(request.url) == "http://model.test/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["x-title"] == "t" and request.headers["accept"] == "text/event-stream"
    body = json.loads(request.content)
    assert body == {"model": "m", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True},
                    "temperature": 0.2, "max_tokens": 50, "stop": ["```\n"], "seed": 7, "top_p": 0.9}


async def test_preset_quirks_reach_the_body() -> None:
    script = Script(stream_response(sse_body("ok")), stream_response(sse_body("ok")))
    openai = ModelClient(ModelConfig.from_preset("openai", model="o4-mini", api_key=KEY), script.transport)
    await openai.complete(MESSAGES, GenerationOptions(max_tokens=5))
    mistral = ModelClient(ModelConfig.from_preset("mistral", model="m", api_key=KEY), script.transport)
    await mistral.complete(MESSAGES)
    first, second = (json.loads(r.content) for r in script.requests)
    assert first["max_completion_tokens"] == 5 and "max_tokens" not in first
    assert "stream_options" not in second


async def test_complete_collects_text_reasoning_usage_and_timing() -> None:
    reasoning = b"data: " + json.dumps({"choices": [{"delta": {"reasoning_content": "6*7..."}}]}).encode() + b"\n\n"
    script = Script(stream_response([reasoning, *sse_body("<think>check</think>\n\n", "42")]))
    seen: list[object] = []
    response = await make_client(script).complete(MESSAGES, on_event=seen.append)
    assert (response.text, response.reasoning, response.finish_reason) == ("42", "6*7...check", "stop")
    assert response.usage.estimated and response.usage.prompt_tokens > 0 and response.usage.completion_tokens > 0
    assert response.first_token_ms is not None and response.latency_ms >= response.first_token_ms
    assert not response.partial and response.attempts == 1
    assert [type(e).__name__ for e in seen] == ["ReasoningDelta", "ReasoningDelta", "TextDelta", "UsageEvent",
                                                "FinishEvent"]


async def test_async_on_event_is_awaited() -> None:
    seen: list[object] = []

    async def on_event(event: object) -> None:
        await asyncio.sleep(0)
        seen.append(event)

    await make_client(Script(stream_response(sse_body("a")))).complete(MESSAGES, on_event=on_event)
    assert len(seen) == 3


async def test_ollama_request_sets_num_ctx_and_maps_options() -> None:
    body = [json.dumps({"message": {"content": "hi", "thinking": "hm"}, "done": False}).encode() + b"\n",
            json.dumps({"message": {"content": ""}, "done": True, "done_reason": "stop", "prompt_eval_count": 5,
                        "eval_count": 1}).encode() + b"\n"]
    script = Script(httpx.Response(200, stream=Chunks(body)))
    client = make_client(script, provider="ollama", num_ctx=32768)
    options = GenerationOptions(temperature=0, max_tokens=9, stop=["x"], seed=1,
                                extra={"think": True, "options": {"top_k": 3}})
    response = await client.complete(MESSAGES, options)
    assert (response.text, response.reasoning, response.usage) == ("hi", "hm", Usage(5, 1, 6))
    sent = json.loads(script.requests[0].content)
    assert str(script.requests[0].url) == "http://ollama.test/api/chat"
    assert sent["think"] is True and sent["stream"] is True
    assert sent["options"] == {"num_ctx": 32768, "temperature": 0, "num_predict": 9, "stop": ["x"], "seed": 1,
                               "top_k": 3}


async def test_list_models_openai_and_ollama_and_detect() -> None:
    script = Script(httpx.Response(200, json={"data": [{"id": "b"}, {"id": "a"}]}),
                    httpx.Response(200, json={"models": [{"name": "qwen3:8b"}]}),
                    httpx.Response(200, json={"models": [{"name": "llama3.2"}]}),
                    httpx.ConnectError("refused"))
    assert await make_client(script).list_models() == ["a", "b"]
    assert await make_client(script, provider="ollama").list_models() == ["qwen3:8b"]
    assert await detect_ollama("http://ollama.test", transport=script.transport) == ["llama3.2"]
    assert await detect_ollama("http://ollama.test", transport=script.transport) is None
    assert [str(r.url) for r in script.requests][:2] == ["http://model.test/v1/models", "http://ollama.test/api/tags"]


# --- retries --------------------------------------------------------------------------------------------------

async def test_429_honours_retry_after_seconds_then_succeeds() -> None:
    script = Script(error_response(429, "slow down", {"Retry-After": "7"}), stream_response(sse_body("ok")))
    client = make_client(script)
    response = await client.complete(MESSAGES)
    assert response.text == "ok" and response.attempts == 2
    assert client.fake_sleep.calls == [7.0]  # max(Retry-After, jitter <= 0.5)


async def test_429_retry_after_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    script = Script(error_response(429, "slow down", {"Retry-After": when}), stream_response(sse_body("ok")))
    client = make_client(script)
    await client.complete(MESSAGES)
    assert 17 <= client.fake_sleep.calls[0] <= 20


@pytest.mark.parametrize(("message", "seconds"), [("Rate limit reached. Please try again in 1.5s.", 1.5),
                                                  ("Please try again in 250ms", 0.25),
                                                  ("retry after 4 seconds", 4.0)])
async def test_429_without_header_reads_the_wait_from_the_message(message: str, seconds: float) -> None:
    """In a browser Retry-After is unreadable unless exposed by CORS; OpenAI and Groq also say it in words."""
    script = Script(error_response(429, message), stream_response(sse_body("ok")))
    client = make_client(script)
    await client.complete(MESSAGES)
    assert client.fake_sleep.calls == [max(seconds, 0.5)]


async def test_429_retry_after_beyond_the_cap_raises_at_once() -> None:
    script = Script(error_response(429, "daily quota", {"Retry-After": "3600"}))
    client = make_client(script)
    with pytest.raises(RateLimited) as info:
        await client.complete(MESSAGES)
    assert info.value.retry_after_s == 3600 and client.fake_sleep.calls == []


async def test_500_then_success_uses_exponential_backoff() -> None:
    script = Script(error_response(500, "boom"), httpx.Response(502, text="<html>bad gateway</html>"),
                    stream_response(sse_body("ok")))
    client = make_client(script)
    assert (await client.complete(MESSAGES)).text == "ok"
    assert client.fake_sleep.calls == [0.5, 1.0]  # random() pinned to 1: full jitter's upper bound


async def test_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(10, base_delay_s=1.0, max_delay_s=8.0, random=lambda: 0.5)
    err = ServerError("x")
    assert [policy.delay_for(err, n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


async def test_5xx_exhausts_the_budget_then_raises_server_error() -> None:
    script = Script(*(error_response(503, "overloaded") for _ in range(3)))
    client = make_client(script, retries=2)
    with pytest.raises(ServerError) as info:
        await client.complete(MESSAGES)
    assert info.value.status == 503 and len(script.requests) == 3 and len(client.fake_sleep.calls) == 2


@pytest.mark.parametrize(("status", "error"), [(400, BadRequest), (401, AuthError), (403, AuthError),
                                               (404, ModelNotFound), (422, BadRequest)])
async def test_4xx_is_never_retried(status: int, error: type[ModelError]) -> None:
    script = Script(error_response(status, "no"), stream_response(sse_body("never")))
    client = make_client(script)
    with pytest.raises(error) as info:
        await client.complete(MESSAGES)
    assert info.value.status == status and len(script.requests) == 1 and client.fake_sleep.calls == []


async def test_404_names_the_model() -> None:
    script = Script(httpx.Response(404, json={"error": "model \"m\" not found, try pulling it first"}))
    with pytest.raises(ModelNotFound) as info:
        await make_client(script, provider="ollama").complete(MESSAGES)
    assert "'m'" in str(info.value) and info.value.model == "m"


async def test_connect_error_is_retried_then_typed_with_a_fix() -> None:
    script = Script(httpx.ConnectError("refused"), httpx.ConnectError("refused"))
    with pytest.raises(ModelConnectError) as info:
        await make_client(script, retries=1).complete(MESSAGES)
    assert "running" in info.value.fix and len(script.requests) == 2


async def test_drop_before_any_byte_is_retried() -> None:
    script = Script(httpx.RemoteProtocolError("Server disconnected without sending a response."),
                    stream_response(sse_body("ok")))
    assert (await make_client(script).complete(MESSAGES)).text == "ok"


# --- cut and malformed streams --------------------------------------------------------------------------------

async def test_cut_stream_after_text_keeps_partial_and_does_not_retry() -> None:
    cut = stream_response(sse_body("Hello ", "wor", finish="", done=False), fail=httpx.ReadError("reset"))
    script = Script(cut, stream_response(sse_body("never")))
    response = await make_client(script).complete(MESSAGES)
    assert response.partial and response.text == "Hello wor" and response.finish_reason == "error"
    assert response.error["type"] == "StreamError" and response.error["partial_text"] == "Hello wor"
    assert response.usage.estimated and len(script.requests) == 1


async def test_cut_stream_raises_from_stream_with_partial_text() -> None:
    script = Script(stream_response(sse_body("Hel", finish="", done=False), fail=httpx.RemoteProtocolError("x")))
    events: list[object] = []
    with pytest.raises(StreamError) as info:
        async for event in make_client(script).stream(MESSAGES):
            events.append(event)
    assert events == [TextDelta("Hel")] and info.value.partial_text == "Hel"


async def test_clean_end_without_finish_is_a_cut() -> None:
    script = Script(stream_response(sse_body("Hel", finish="", done=False)))
    response = await make_client(script).complete(MESSAGES)
    assert response.partial and response.text == "Hel" and response.error["cut"] is True


async def test_cut_before_any_delta_is_retried_once_budget_allows() -> None:
    script = Script(stream_response([b": ping\n\n"], fail=httpx.ReadError("reset")), stream_response(sse_body("ok")))
    client = make_client(script)
    response = await client.complete(MESSAGES)
    assert response.text == "ok" and not response.partial and response.attempts == 2


async def test_bad_json_before_text_retries_then_raises_stream_error() -> None:
    bad = [b"data: {not json\n\n"]
    script = Script(stream_response(bad), stream_response(bad))
    with pytest.raises(StreamError, match="malformed JSON"):
        await make_client(script, retries=1).complete(MESSAGES)
    assert len(script.requests) == 2


async def test_bad_json_after_text_is_partial() -> None:
    script = Script(stream_response([*sse_body("ok so", finish="", done=False), b"data: {\"choices\n\n"]))
    response = await make_client(script).complete(MESSAGES)
    assert response.partial and response.text == "ok so" and "malformed" in response.error["message"]


async def test_error_object_mid_stream_is_partial_with_its_message() -> None:
    error = b"data: " + json.dumps({"error": {"message": "upstream overloaded"}}).encode() + b"\n\n"
    script = Script(stream_response([*sse_body("Hi", finish="", done=False), error]))
    response = await make_client(script).complete(MESSAGES)
    assert response.partial and "upstream overloaded" in response.error["message"]


# --- context overflow: one pattern per provider ---------------------------------------------------------------

OVERFLOWS = [
    (400, "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
     "context_length_exceeded"),  # OpenAI
    (400, "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens", None),  # vLLM
    (400, "The prompt (total length 5000) is too long to fit into the model (context length 4096).", None),  # vLLM
    (400, "the request exceeds the available context size, try increasing it", "exceed_context_size_error"),  # llama
    (400, "Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum context length",
     None),  # Mistral
    (400, "Please reduce the length of the messages or completion.", "context_length_exceeded"),  # Groq
    (400, "prompt is too long: 208000 tokens > 200000 maximum", None),  # Anthropic
    (400, "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).", None),  # Gemini
    (400, "Trying to keep the first 5000 tokens when context the overflows. However, the model is loaded with "
     "context length of only 4096 tokens", None),  # LM Studio
    (500, "input length exceeds the context length", None),  # Ollama
    (413, "This endpoint's maximum context length is 131072 tokens.", None),  # OpenRouter
]


@pytest.mark.parametrize(("status", "message", "code"), OVERFLOWS)
async def test_context_overflow_from_each_provider(status: int, message: str, code: str | None) -> None:
    script = Script(error_response(status, message, code=code), stream_response(sse_body("never")))
    with pytest.raises(ContextOverflow) as info:
        await make_client(script).complete(MESSAGES)
    assert len(script.requests) == 1 and info.value.status == status


async def test_plain_bad_request_is_not_overflow() -> None:
    with pytest.raises(BadRequest) as info:
        await make_client(Script(error_response(400, "temperature must be <= 2"))).complete(MESSAGES)
    assert not isinstance(info.value, ContextOverflow)


# --- timeouts and cancellation --------------------------------------------------------------------------------

async def test_silence_past_the_read_timeout_is_model_timeout() -> None:
    slow = stream_response(sse_body("a"), pause_s=5)
    with pytest.raises(ModelTimeout):
        await make_client(Script(slow), retries=0, read_timeout_s=0.05).complete(MESSAGES)


async def test_stall_after_text_is_a_timeout_with_partial_text() -> None:
    class Stall(Chunks):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield sse_body("part", finish="", done=False)[0]
            await asyncio.sleep(5)

    script = Script(httpx.Response(200, stream=Stall([])))
    with pytest.raises(ModelTimeout) as info:
        await make_client(script, read_timeout_s=0.05).complete(MESSAGES)
    assert info.value.partial_text == "part" and len(script.requests) == 1


async def test_cancelling_the_task_closes_the_response() -> None:
    body = Chunks(sse_body(*["x"] * 100), pause_s=0.01)
    client = make_client(Script(httpx.Response(200, stream=body)))
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in client.stream(MESSAGES):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert body.closed


async def test_redirect_is_not_followed() -> None:
    script = Script(httpx.Response(307, headers={"Location": "http://elsewhere.test/v1/chat/completions"}))
    with pytest.raises(BadRequest, match="redirect"):
        await make_client(script).complete(MESSAGES)
    assert len(script.requests) == 1


# --- the key --------------------------------------------------------------------------------------------------

async def test_key_never_in_repr_str_to_dict_or_errors() -> None:
    script = Script(error_response(401, f"Incorrect API key provided: {KEY}"),
                    httpx.ConnectError(f"failed for {KEY}"))
    client = make_client(script, retries=0)
    texts = [repr(client.config), str(client.config), json.dumps(client.config.to_dict()), repr(client)]
    for _ in range(2):
        with pytest.raises(ModelError) as info:
            await client.complete(MESSAGES)
        texts += [str(info.value), repr(info.value), json.dumps(info.value.to_dict())]
    assert all(KEY not in text for text in texts)
    assert client.config.to_dict()["has_api_key"] is True
    assert all(KEY not in str(r.url) for r in script.requests)
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in script.requests)
    assert all(KEY not in v for r in script.requests for k, v in r.headers.items() if k != "authorization")
    assert all(KEY.encode() not in r.content for r in script.requests)


async def test_no_key_no_authorization_header() -> None:
    script = Script(stream_response(sse_body("ok")))
    cfg = ModelConfig(provider="openai", base_url="http://model.test/v1", model="m")
    await ModelClient(cfg, script.transport).complete(MESSAGES)
    assert "authorization" not in script.requests[0].headers


async def test_a_slow_consumer_is_not_a_read_timeout() -> None:
    """The read timeout counts only time spent waiting for the server, never the consumer's time at a yield."""
    script = Script(stream_response(sse_body("a", "b", "c")))
    client = make_client(script, retries=0, read_timeout_s=0.05)
    seen = []
    async for event in client.stream(MESSAGES):
        seen.append(event)
        await asyncio.sleep(0.12)
    assert [e.text for e in seen if isinstance(e, TextDelta)] == ["a", "b", "c"]
