"""The scripted model server, driven by the real ModelClient over real loopback sockets (CPython httpx).

These prove both sides: the server streams, faults and records as documented, and the client holds up on real
connections (chunked bodies cut mid-way, a slow first byte, a dropped connection, a cancelled request).
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from agent_py.errors import AuthError, ModelConnectError, ModelTimeout, RateLimited, StreamError
from agent_py.models import ModelClient, ModelConfig, RetryPolicy, TextDelta, detect_ollama
from tests.servers.model_server import ModelServer

pytestmark = pytest.mark.anyio
KEY = "sk-scripted-KEY-9876543210"
MESSAGES = [{"role": "user", "content": "hi"}]


class NoSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def client_for(server: ModelServer, provider: str = "openai", **config: object) -> ModelClient:
    base = server.openai_base if provider == "openai" else server.url
    cfg = ModelConfig(provider=provider, base_url=base, model="scripted-model", api_key=KEY, **config)
    return ModelClient(cfg, retry=RetryPolicy(cfg.max_retries, sleep=NoSleep(), random=lambda: 0.0))


@pytest.mark.parametrize("provider", ["openai", "ollama"])
async def test_streams_text_reasoning_and_usage(model_server: ModelServer, provider: str) -> None:
    model_server.enqueue({"text": "The answer is 42.", "reasoning": "6*7", "chunk_chars": 4})
    async with client_for(model_server, provider) as client:
        response = await client.complete(MESSAGES)
    assert (response.text, response.reasoning, response.finish_reason) == ("The answer is 42.", "6*7", "stop")
    assert not response.usage.estimated and response.usage.completion_tokens == 5
    (request,) = model_server.chat_requests()
    assert request.json["messages"] == MESSAGES and request.json["model"] == "scripted-model"


async def test_deltas_arrive_as_the_server_writes_them(model_server: ModelServer) -> None:
    model_server.enqueue({"deltas": ["first", " second"], "chunk_delay_s": 0.3})
    arrivals: list[float] = []
    async with client_for(model_server) as client:
        async for event in client.stream(MESSAGES):
            if isinstance(event, TextDelta):
                arrivals.append(time.monotonic())
    assert len(arrivals) == 2 and arrivals[1] - arrivals[0] >= 0.25  # the first did not wait for the second


async def test_key_goes_only_in_the_authorization_header(model_server: ModelServer) -> None:
    model_server.enqueue("ok")
    async with client_for(model_server) as client:
        await client.complete(MESSAGES)
        await client.list_models()
    assert len(model_server.requests) == 2
    for request in model_server.requests:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        assert KEY not in request.path and KEY.encode() not in request.body
        assert all(KEY not in value for name, value in request.headers.items() if name != "authorization")


async def test_echoed_key_is_redacted_from_the_auth_error(model_server: ModelServer) -> None:
    model_server.enqueue({"status": 401, "message": "Incorrect API key provided: {auth}"}, "never")
    async with client_for(model_server) as client:
        with pytest.raises(AuthError) as info:
            await client.complete(MESSAGES)
    assert KEY not in str(info.value.to_dict()) and "[redacted]" in str(info.value)
    assert len(model_server.chat_requests()) == 1 and model_server.pending_replies == 1


async def test_429_with_retry_after_then_success(model_server: ModelServer) -> None:
    model_server.enqueue({"fault": "429", "retry_after": 2}, "after the wait")
    async with client_for(model_server) as client:
        response = await client.complete(MESSAGES)
        assert client.retry.sleep.calls == [2.0]  # type: ignore[attr-defined]
    assert response.text == "after the wait" and response.attempts == 2


async def test_429_budget_exhausted_is_rate_limited(model_server: ModelServer) -> None:
    model_server.enqueue(*[{"fault": "429", "retry_after": 1}] * 3)
    async with client_for(model_server, max_retries=2) as client:
        with pytest.raises(RateLimited) as info:
            await client.complete(MESSAGES)
    assert info.value.retry_after_s == 1.0 and len(model_server.chat_requests()) == 3


@pytest.mark.parametrize("provider", ["openai", "ollama"])
async def test_500_then_success(model_server: ModelServer, provider: str) -> None:
    model_server.enqueue({"fault": "500"}, {"fault": "503"}, "third time lucky")
    async with client_for(model_server, provider) as client:
        assert (await client.complete(MESSAGES)).text == "third time lucky"


@pytest.mark.parametrize("provider", ["openai", "ollama"])
async def test_cut_mid_body_keeps_partial_text(model_server: ModelServer, provider: str) -> None:
    model_server.enqueue({"text": "abcdefghijkl", "chunk_chars": 2, "fault": "cut", "after_chars": 6}, "never")
    async with client_for(model_server, provider) as client:
        response = await client.complete(MESSAGES)
    assert response.partial and response.text == "abcdef" and response.error["type"] == "StreamError"
    assert model_server.pending_replies == 1  # text had arrived: no retry


async def test_truncated_body_is_a_cut(model_server: ModelServer) -> None:
    model_server.enqueue({"text": "abcdef", "fault": "truncate", "after_chars": 3})
    async with client_for(model_server, "ollama") as client:
        response = await client.complete(MESSAGES)
    assert response.partial and response.text == "abc"


async def test_bad_json_and_error_event(model_server: ModelServer) -> None:
    model_server.enqueue({"text": "abcdef", "fault": "bad_json", "after_chars": 2},
                         {"text": "abcdef", "fault": "error_event", "after_chars": 4, "message": "GPU fell over"})
    async with client_for(model_server) as client:
        bad = await client.complete(MESSAGES)
        event = await client.complete(MESSAGES)
    assert bad.partial and bad.text == "ab" and "malformed" in bad.error["message"]
    assert event.partial and event.text == "abcd" and "GPU fell over" in event.error["message"]


async def test_cut_before_any_text_is_retried(model_server: ModelServer) -> None:
    model_server.enqueue({"text": "xyz", "fault": "cut", "after_chars": 0}, {"fault": "drop"}, "recovered")
    async with client_for(model_server) as client:
        response = await client.complete(MESSAGES)
    assert response.text == "recovered" and response.attempts == 3


async def test_slow_first_byte_times_out(model_server: ModelServer) -> None:
    model_server.enqueue({"fault": "slow_first_byte", "delay_s": 1.0})
    async with client_for(model_server, max_retries=0, read_timeout_s=0.2) as client:
        with pytest.raises(ModelTimeout):
            await client.complete(MESSAGES)


async def test_unreachable_server_is_a_connect_error_and_detect_says_none() -> None:
    with ModelServer() as server:
        url = server.url
    async with ModelClient(ModelConfig(provider="ollama", base_url=url, model="m", max_retries=1),
                           retry=RetryPolicy(1, sleep=NoSleep())) as client:
        with pytest.raises(ModelConnectError) as info:
            await client.complete(MESSAGES)
    assert "ollama serve" in info.value.fix
    assert await detect_ollama(url) is None


async def test_detect_ollama_lists_models(model_server: ModelServer) -> None:
    assert await detect_ollama(model_server.url) == ["scripted-coder", "scripted-model"]


async def test_cancel_disconnects_from_the_server(model_server: ModelServer) -> None:
    model_server.enqueue({"text": "x" * 200, "chunk_chars": 1, "chunk_delay_s": 0.02})
    client = client_for(model_server)
    got_one = asyncio.Event()

    async def consume() -> None:
        async for _ in client.stream(MESSAGES):
            got_one.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_one.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await client.aclose()
    (request,) = model_server.chat_requests()
    assert model_server.wait_for(lambda: request.client_disconnected, 3.0)
    assert request.finished_at - request.first_body_at < 2.0  # the full reply would take 4 s


async def test_cors_preflight_allowed_and_refused(model_server: ModelServer) -> None:
    preflight = {"Origin": "http://app.test", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}
    async with httpx.AsyncClient(base_url=model_server.url) as http:
        allowed = await http.options("/v1/chat/completions", headers=preflight)
        model_server.configure(allowed_origin="http://other.test")
        refused = await http.options("/v1/chat/completions", headers=preflight)
        plain = await http.get("/v1/models", headers={"Origin": "http://app.test"})
    assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == "*"
    assert allowed.headers["access-control-allow-headers"] == "authorization,content-type"
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in plain.headers


async def test_empty_queue_fails_loudly(model_server: ModelServer) -> None:
    async with client_for(model_server, max_retries=0) as client:
        with pytest.raises(Exception, match="no reply was enqueued"):
            await client.complete(MESSAGES)


async def test_http_control_api(model_server: ModelServer) -> None:
    async with httpx.AsyncClient(base_url=model_server.url) as http:
        await http.post("/_control/enqueue", json=[{"text": "via http"}])
        await http.post("/_control/settings", json={"chunk_chars": 3})
        async with client_for(model_server) as client:
            assert (await client.complete(MESSAGES)).text == "via http"
        recorded = (await http.get("/_control/requests")).json()
    assert model_server.chunk_chars == 3
    assert [r["path"] for r in recorded][-1] == "/v1/chat/completions"


def test_unknown_setting_is_rejected() -> None:
    with pytest.raises(TypeError, match="unknown setting"):
        ModelServer(chunk_size=3)


async def test_stream_error_type_exported_for_loop_use(model_server: ModelServer) -> None:
    model_server.enqueue({"text": "abc", "fault": "cut", "after_chars": 2})
    events = []
    async with client_for(model_server) as client:
        with pytest.raises(StreamError) as info:
            async for event in client.stream(MESSAGES):
                events.append(event)
    assert info.value.partial_text == "ab" and events
