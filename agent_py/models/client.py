"""ModelClient: one streaming chat API over OpenAI-compatible servers and Ollama, with retries and typed errors.

    client = ModelClient(ModelConfig.from_preset("ollama", model="qwen3:8b"))
    async for event in client.stream(messages):        # TextDelta | ReasoningDelta | UsageEvent | FinishEvent
        ...
    response = await client.complete(messages, on_event=print)   # ModelResponse

Retries happen only while nothing has been delivered: once a delta went out, a retry would repeat it, so a cut
stream ends with StreamError(partial_text=...) from stream(), or a ModelResponse(partial=True) from complete().
The key goes into the Authorization header and nowhere else: logs name the URL and model (agent_py.log, logger
"model"), never a header, and error texts are redacted.
"""

from __future__ import annotations

import inspect
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from agent_py.errors import BadRequest, ModelConnectError, ModelError, ModelTimeout, StreamError
from agent_py.log import get_logger

from . import ollama, openai
from .config import GenerationOptions, ModelConfig
from .deadline import ReadDeadline
from .errormap import error_from_status, redact
from .fixes import connect_fix
from .retry import RetryPolicy, parse_retry_after
from .think import ThinkSplitter
from .types import FinishEvent, ModelEvent, ModelResponse, ReasoningDelta, TextDelta, Usage, UsageEvent
from .usage import estimated_usage
from .wire import ChatRequest, StreamDecoder

__all__ = ["ModelClient", "default_transport"]

ERROR_BODY_LIMIT = 64 * 1024  # an error page is read only this far: enough for any JSON error
log = get_logger("model")


def default_transport(config: ModelConfig) -> httpx.AsyncBaseTransport:
    """The browser's fetch in Pyodide (sockets do not exist there); real sockets under CPython."""
    if sys.platform == "emscripten":
        from .transport_fetch import FetchTransport

        return FetchTransport(config)
    return httpx.AsyncHTTPTransport(retries=0)  # retries are ours: they must respect what was already delivered


@dataclass(slots=True)
class _CallStats:
    attempts: int = 0


class ModelClient:
    def __init__(
        self,
        config: ModelConfig,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.config = config
        self.retry = retry or RetryPolicy(config.max_retries, config.backoff_base_s, config.backoff_max_s)
        self._transport = transport
        self._clock = clock
        self._http: httpx.AsyncClient | None = None
        self._wire = ollama if config.provider == "ollama" else openai

    def __repr__(self) -> str:
        return f"ModelClient({self.config!r})"

    async def __aenter__(self) -> ModelClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- public API -------------------------------------------------------------------------------------------

    async def stream(
        self, messages: list[dict[str, Any]], options: GenerationOptions | None = None
    ) -> AsyncIterator[ModelEvent]:
        """Stream one reply. Ends with UsageEvent then FinishEvent; raises a ModelError subclass on failure."""
        async for event in self._stream(messages, options, _CallStats()):
            yield event

    async def complete(
        self,
        messages: list[dict[str, Any]],
        options: GenerationOptions | None = None,
        on_event: Callable[[ModelEvent], Awaitable[object] | object] | None = None,
    ) -> ModelResponse:
        """Consume the stream into a ModelResponse; `on_event` sees every event as it arrives (sync or async)."""
        stats = _CallStats()
        started = self._clock()
        text: list[str] = []
        reasoning: list[str] = []
        first_token_ms: float | None = None
        usage: Usage | None = None
        finish = ""
        try:
            async for event in self._stream(messages, options, stats):
                if isinstance(event, TextDelta | ReasoningDelta):
                    if first_token_ms is None:
                        first_token_ms = (self._clock() - started) * 1000
                    (text if isinstance(event, TextDelta) else reasoning).append(event.text)
                elif isinstance(event, UsageEvent):
                    usage = event.usage
                elif isinstance(event, FinishEvent):
                    finish = event.reason
                if on_event is not None:
                    result = on_event(event)
                    if inspect.isawaitable(result):
                        await result
        except StreamError as err:
            if not (text or reasoning):
                raise
            return ModelResponse(
                text="".join(text), reasoning="".join(reasoning),
                usage=estimated_usage(messages, "".join(text) + "".join(reasoning)),
                finish_reason="error", latency_ms=(self._clock() - started) * 1000, first_token_ms=first_token_ms,
                partial=True, model=self.config.model, attempts=stats.attempts, error=err.to_dict(),
            )
        return ModelResponse(
            text="".join(text), reasoning="".join(reasoning), usage=usage or Usage(), finish_reason=finish,
            latency_ms=(self._clock() - started) * 1000, first_token_ms=first_token_ms, partial=False,
            model=self.config.model, attempts=stats.attempts,
        )

    async def list_models(self) -> list[str]:
        """Model names the server offers (/v1/models, or Ollama's /api/tags)."""
        url = self._wire.models_url(self.config)
        retries = 0
        while True:
            try:
                body = await self._get_json(url)
                return self._wire.parse_models(body)
            except ModelError as err:
                delay = self.retry.delay_for(err, retries)
                if delay is None:
                    raise
            await self.retry.wait(delay)
            retries += 1

    # --- one call, with retries -------------------------------------------------------------------------------

    async def _stream(
        self, messages: list[dict[str, Any]], options: GenerationOptions | None, stats: _CallStats
    ) -> AsyncIterator[ModelEvent]:
        request = self._wire.chat_request(self.config, messages, options)
        retries = 0
        while True:
            stats.attempts += 1
            text: list[str] = []
            reasoning: list[str] = []
            try:
                async for event in self._attempt(request, messages, text, reasoning):
                    yield event
                return
            except ModelError as err:
                if text or reasoning:
                    err.add_fields(partial_text="".join(text), partial_reasoning="".join(reasoning))
                    log.warn("stream cut after delivery; not retried", url=request.url, error=type(err).__name__,
                             delivered_chars=sum(map(len, text)) + sum(map(len, reasoning)), reason=err.message)
                    raise
                delay = self.retry.delay_for(err, retries)
                if delay is None:
                    log.warn("model call failed", url=request.url, model=self.config.model, error=type(err).__name__,
                             status=err.status, attempts=stats.attempts, reason=err.message)
                    raise
                log.warn("retrying model call", url=request.url, wait_s=round(delay, 3), error=type(err).__name__,
                         status=err.status, attempt=stats.attempts, reason=err.message)
            await self.retry.wait(delay)
            retries += 1

    async def _attempt(
        self, request: ChatRequest, messages: list[dict[str, Any]], text: list[str], reasoning: list[str]
    ) -> AsyncIterator[ModelEvent]:
        """One HTTP exchange. Appends what it yields to `text`/`reasoning` so the caller knows what was delivered."""
        timed = log.enabled("debug")  # the clock is read only when someone will see the times
        started = self._clock() if timed else 0.0
        if timed:
            log.debug("model request", url=request.url, model=self.config.model, provider=self.config.provider,
                      messages=len(messages))
        http = self._client()
        accept = "application/x-ndjson" if self.config.provider == "ollama" else "text/event-stream"
        built = http.build_request("POST", request.url, json=request.body, headers=self._headers(accept))
        deadline = ReadDeadline(self.config.read_timeout_s)
        try:
            response = await self._guard(deadline, http.send(built, stream=True), request.url, before_body=True)
        except BaseException:
            deadline.close()
            raise
        try:
            if timed:
                log.debug("model response headers", url=request.url, status=response.status_code,
                          after_ms=round((self._clock() - started) * 1000, 1))
            if response.status_code >= 300:
                raise await self._status_error(response, request.url)
            decoder: StreamDecoder = (
                ollama.OllamaStreamDecoder(request.url) if self.config.provider == "ollama"
                else openai.OpenAIStreamDecoder(request.url)
            )
            think = ThinkSplitter()
            chunks = response.aiter_bytes().__aiter__()
            while True:
                try:
                    chunk = await self._guard(deadline, chunks.__anext__(), request.url, before_body=False)
                except StopAsyncIteration:
                    break
                if timed:
                    timed = False
                    first_byte_ms = round((self._clock() - started) * 1000, 1)
                    log.debug("model first byte", url=request.url, first_byte_ms=first_byte_ms)
                for raw in decoder.feed(chunk):
                    for event in self._route(raw, think, text, reasoning):
                        yield event
            for raw in decoder.finish():
                for event in self._route(raw, think, text, reasoning):
                    yield event
            for is_reasoning, piece in think.flush():
                (reasoning if is_reasoning else text).append(piece)
                yield ReasoningDelta(piece) if is_reasoning else TextDelta(piece)
            if not decoder.finished:
                raise StreamError("the stream ended before the model finished (connection cut)", url=request.url,
                                  cut=True)
            usage = decoder.usage or estimated_usage(messages, "".join(text) + "".join(reasoning))
            if log.enabled("info"):
                log.info("model reply", model=self.config.model, finish=decoder.finish_reason or "stop",
                         prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                         estimated=usage.estimated, chars=sum(map(len, text)) + sum(map(len, reasoning)))
            yield UsageEvent(usage)
            yield FinishEvent(decoder.finish_reason or "stop")
        finally:
            deadline.close()
            await response.aclose()

    @staticmethod
    def _route(
        raw: TextDelta | ReasoningDelta, think: ThinkSplitter, text: list[str], reasoning: list[str]
    ) -> list[ModelEvent]:
        if isinstance(raw, ReasoningDelta):
            reasoning.append(raw.text)
            return [raw]
        out: list[ModelEvent] = []
        for is_reasoning, piece in think.feed(raw.text):
            if is_reasoning:
                reasoning.append(piece)
                out.append(ReasoningDelta(piece))
            else:
                text.append(piece)
                out.append(TextDelta(piece) if piece is not raw.text else raw)
        return out

    # --- HTTP plumbing ----------------------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            timeout = httpx.Timeout(self.config.read_timeout_s, connect=self.config.connect_timeout_s)
            transport = self._transport or default_transport(self.config)
            # follow_redirects=False: a redirect could carry the request (and the key) to another origin.
            self._http = httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False)
        return self._http

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, **self.config.extra_headers}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        return headers

    async def _guard(self, deadline: ReadDeadline, awaitable: Awaitable[Any], url: str, *, before_body: bool) -> Any:
        """Await with the read timeout, and turn transport exceptions into typed errors (never with headers)."""
        try:
            return await deadline.read(awaitable)
        except ModelError:
            raise
        except (TimeoutError, httpx.TimeoutException) as err:
            if isinstance(err, httpx.ConnectTimeout):
                raise ModelConnectError(f"could not connect to {url} (timed out)", url=url,
                                        fix=connect_fix(self.config)) from None
            what = "an answer" if before_body else "the next chunk of the stream"
            raise ModelTimeout(f"no {what} from {url} within {self.config.read_timeout_s:g} s", url=url,
                               fix="the model may be loading or overloaded; raise read_timeout_s or retry") from None
        except httpx.ConnectError as err:
            raise ModelConnectError(f"could not connect to {url}: {redact(str(err), self.config.api_key)}", url=url,
                                    fix=connect_fix(self.config)) from None
        except (httpx.TransportError, httpx.StreamError) as err:
            if before_body:
                raise ModelConnectError(f"the connection to {url} dropped before an answer: {type(err).__name__}",
                                        url=url, fix=connect_fix(self.config)) from None
            raise StreamError(f"the stream from {url} was cut: {type(err).__name__}", url=url, cut=True) from None

    async def _status_error(self, response: httpx.Response, url: str) -> ModelError:
        if response.status_code < 400:
            location = response.headers.get("location", "")
            return BadRequest(f"the server redirected ({response.status_code}) to {location!r}; requests are not "
                              "followed so the key cannot leave for another origin", url=url,
                              status=response.status_code, fix="set the base URL to the address it redirects to")
        body = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= ERROR_BODY_LIMIT:
                    break
        except (httpx.TransportError, httpx.StreamError):
            pass  # the status says enough
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return error_from_status(response.status_code, bytes(body), url=url, model=self.config.model,
                                 retry_after_s=retry_after, secret=self.config.api_key)

    async def _get_json(self, url: str) -> Any:
        http = self._client()
        built = http.build_request("GET", url, headers=self._headers("application/json"))
        deadline = ReadDeadline(self.config.read_timeout_s)
        try:
            response = await self._guard(deadline, http.send(built, stream=True), url, before_body=True)
            try:
                if response.status_code >= 300:
                    raise await self._status_error(response, url)
                body = await self._guard(deadline, response.aread(), url, before_body=False)
            finally:
                await response.aclose()
        finally:
            deadline.close()
        try:
            return json.loads(body)
        except ValueError:
            raise StreamError(f"{url} did not answer JSON: {body[:120]!r}", url=url) from None
