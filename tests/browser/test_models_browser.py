"""The model client in the real page's agent worker (Pyodide), over the browser's fetch, against the scripted
model server on another loopback port (so every call is cross-origin, with CORS, as with a real local server).

Cases 17-21 of SECURITY-CASES.md in the browser: streaming really streams, Stop aborts the fetch, a CORS refusal
says how to fix it, 401 is an AuthError without retry, 429 is retried after Retry-After.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from tests.servers.model_server import ModelServer

pytestmark = pytest.mark.browser

KEY = "sk-browser-KEY-1234567890"

PRELUDE = """
import asyncio, json, js, time
from agent_py.errors import ModelError
from agent_py.models import ModelClient, ModelConfig, RetryPolicy, TextDelta, ReasoningDelta, default_transport
"""


def run_py(page: Any, code: str) -> Any:
    """Run `code` in the agent worker; its last expression must be a JSON string, returned decoded."""
    source = PRELUDE + textwrap.dedent(code)
    return json.loads(page.evaluate("code => window.codeact.agent.execPython(code)", source))


def config_py(server: ModelServer, provider: str = "openai", **fields: Any) -> str:
    base = server.openai_base if provider == "openai" else server.url
    extra = "".join(f", {k}={v!r}" for k, v in fields.items())
    return f"ModelConfig(provider={provider!r}, base_url={base!r}, model='scripted-model', api_key={KEY!r}{extra})"


@pytest.mark.parametrize("provider", ["openai", "ollama"])
def test_streaming_really_streams_over_fetch(ready_page: Any, model_server: ModelServer, provider: str) -> None:
    model_server.enqueue({"deltas": ["first", " second", " third"], "reasoning": "hm", "chunk_delay_s": 0.4})
    result = run_py(ready_page, f"""
        config = {config_py(model_server, provider)}
        client = ModelClient(config)
        arrivals = []
        async for event in client.stream([{{"role": "user", "content": "hi"}}]):
            if isinstance(event, TextDelta | ReasoningDelta):
                arrivals.append([time.perf_counter() * 1000, type(event).__name__, event.text])
        transport = type(default_transport(config)).__name__
        await client.aclose()
        json.dumps({{"arrivals": arrivals, "transport": transport}})
    """)
    assert result["transport"] == "FetchTransport"
    arrivals = result["arrivals"]
    assert [a[2] for a in arrivals] == ["hm", "first", " second", " third"]
    # Each delta was handed to Python while the server was still sleeping before the next one (a buffered body
    # would deliver all four within a few ms). The first gap is not checked: the first chunk of a fresh worker pays
    # one-off import and warm-up costs.
    gaps = [b[0] - a[0] for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert arrivals[-1][0] - arrivals[0][0] >= 800 and all(gap >= 300 for gap in gaps[1:]), gaps
    (request,) = model_server.chat_requests()
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["origin"].startswith("http://127.0.0.1:")
    assert all(KEY not in v for k, v in request.headers.items() if k != "authorization")
    assert KEY.encode() not in request.body


def test_cancelling_the_task_aborts_the_fetch(ready_page: Any, model_server: ModelServer) -> None:
    model_server.enqueue({"text": "x" * 400, "chunk_chars": 1, "chunk_delay_s": 0.02})  # 8 s if not aborted
    result = run_py(ready_page, f"""
        client = ModelClient({config_py(model_server)})
        first = asyncio.Event()

        async def consume():
            async for event in client.stream([{{"role": "user", "content": "hi"}}]):
                first.set()

        task = asyncio.ensure_future(consume())
        await asyncio.wait_for(first.wait(), 10)
        task.cancel()
        try:
            await task
            outcome = "finished"
        except asyncio.CancelledError:
            outcome = "cancelled"
        json.dumps(outcome)
    """)
    assert result == "cancelled"
    (request,) = model_server.chat_requests()
    assert model_server.wait_for(lambda: request.client_disconnected, 5.0), "the server kept streaming"
    assert request.finished_at - request.first_body_at < 3.0


def test_cors_refusal_is_a_typed_error_with_the_fix(ready_page: Any, model_server: ModelServer) -> None:
    model_server.configure(allowed_origin="http://127.0.0.1:1")  # not the page's origin
    model_server.enqueue("must not be served")
    result = run_py(ready_page, f"""
        client = ModelClient({config_py(model_server, "ollama", max_retries=0)})
        try:
            await client.complete([{{"role": "user", "content": "hi"}}])
            error = None
        except ModelError as err:
            error = err.to_dict()
        json.dumps(error)
    """)
    origin = ready_page.evaluate("location.origin")
    assert result["type"] in ("CorsError", "ModelConnectError"), result
    assert f"OLLAMA_ORIGINS={origin}" in result["fix"]
    assert KEY not in json.dumps(result)
    # The server refused: either the preflight, or (with a preflight cached from an earlier test) the request itself.
    # Besides the chat call, only the transport's no-cors probe of "/" (no headers, no key) may have arrived.
    assert any(r.path == "/api/chat" for r in model_server.requests)
    others = [r for r in model_server.requests if r.path != "/api/chat"]
    assert all(r.path == "/" and "authorization" not in r.headers for r in others)
    assert model_server.pending_replies == 1 and not any(r.reply for r in model_server.requests)


def test_cors_refusal_of_a_reachable_server_is_cors_error(ready_page: Any, model_server: ModelServer) -> None:
    """When the server's answer is readable opaquely (CORP set), the probe proves it is up: a certain CorsError."""
    model_server.configure(allowed_origin="http://127.0.0.1:1", resource_policy="cross-origin")
    result = run_py(ready_page, f"""
        client = ModelClient({config_py(model_server, "openai", max_retries=0, preset="lmstudio")})
        try:
            await client.complete([{{"role": "user", "content": "hi"}}])
            error = None
        except ModelError as err:
            error = err.to_dict()
        json.dumps(error)
    """)
    assert result["type"] == "CorsError", result
    assert "LM Studio" in result["fix"]


def test_unreachable_server_is_a_connect_error(ready_page: Any) -> None:
    with ModelServer() as server:
        url = server.url  # a port that was just closed: nothing listens there
    result = run_py(ready_page, f"""
        client = ModelClient(ModelConfig(provider="ollama", base_url={url!r}, model="m", max_retries=0))
        try:
            await client.complete([{{"role": "user", "content": "hi"}}])
            error = None
        except ModelError as err:
            error = err.to_dict()
        json.dumps(error)
    """)
    assert result["type"] == "ModelConnectError", result
    assert "ollama serve" in result["fix"]


def test_401_is_auth_error_without_retry(ready_page: Any, model_server: ModelServer) -> None:
    model_server.enqueue({"status": 401, "message": "Incorrect API key provided: {auth}"}, "never sent")
    result = run_py(ready_page, f"""
        client = ModelClient({config_py(model_server)})
        try:
            await client.complete([{{"role": "user", "content": "hi"}}])
            error = None
        except ModelError as err:
            error = err.to_dict()
        json.dumps(error)
    """)
    assert result["type"] == "AuthError" and result["status"] == 401
    assert KEY not in json.dumps(result)
    assert len(model_server.chat_requests()) == 1 and model_server.pending_replies == 1


def test_429_is_retried_after_retry_after(ready_page: Any, model_server: ModelServer) -> None:
    model_server.enqueue({"fault": "429", "retry_after": 1}, "after the wait")
    result = run_py(ready_page, f"""
        client = ModelClient({config_py(model_server)})
        response = await client.complete([{{"role": "user", "content": "hi"}}])
        json.dumps({{"text": response.text, "attempts": response.attempts, "delays": client.retry.delays}})
    """)
    assert result["text"] == "after the wait" and result["attempts"] == 2
    assert result["delays"][0] >= 1.0
    first, second = model_server.chat_requests()
    assert second.received_at - first.received_at >= 0.95  # the browser really waited


def test_cut_stream_keeps_partial_text(ready_page: Any, model_server: ModelServer) -> None:
    # With real pacing (0.25 s between chunks, so a loaded CI machine still reads each chunk before the reset):
    # Chrome drops bytes that arrive in the same read as the connection error.
    model_server.enqueue({"text": "abcdefghij", "chunk_chars": 2, "chunk_delay_s": 0.25, "fault": "cut",
                          "after_chars": 6}, "never sent")
    result = run_py(ready_page, f"""
        response = await ModelClient({config_py(model_server)}).complete([{{"role": "user", "content": "hi"}}])
        json.dumps(response.to_dict())
    """)
    assert result["partial"] is True and result["text"] == "abcdef", result
    assert result["error"]["type"] == "StreamError" and model_server.pending_replies == 1
