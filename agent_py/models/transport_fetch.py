"""An httpx transport over the browser's fetch(), for Pyodide (where sockets do not exist).

- The body is streamed: each `reader.read()` chunk of the ReadableStream is handed on as it arrives.
- Cancelling the Python task (or closing the response early) calls AbortController.abort(), so the browser
  drops the connection at once instead of downloading the rest of the reply.
- fetch() reports every network failure as "TypeError: Failed to fetch": a server that is down and one that
  refuses this page's origin (CORS) look the same. A `no-cors` probe of the server's origin tells them apart when
  the page may read opaque answers (it resolves if the server answered at all); when the probe cannot tell
  (a cross-origin-isolated page blocks opaque answers without a CORP header) the error names both causes.
- Redirects are not followed (`redirect: "manual"`), like the CPython client: the key must not travel elsewhere.
Only importable in Pyodide (`js`, `pyodide.ffi`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import js  # type: ignore[import-not-found]
from pyodide.ffi import JsException, to_js  # type: ignore[import-not-found]

from agent_py.errors import BadRequest, CorsError, ModelConnectError

from .config import ModelConfig
from .fixes import connect_fix, cors_fix

__all__ = ["FetchTransport"]

# Set by the browser itself (or forbidden to scripts); sending them would only add names to the CORS preflight.
_SKIP_REQUEST_HEADERS = {"host", "content-length", "connection", "accept-encoding", "user-agent", "transfer-encoding"}
# The browser has already decoded the body, so these describe bytes httpx will never see.
_SKIP_RESPONSE_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}
PROBE_TIMEOUT_MS = 3000


def _js_object(value: dict[str, Any]) -> Any:
    return to_js(value, dict_converter=js.Object.fromEntries)


def _page_origin() -> str:
    """This page's origin, for the CORS fix (the worker's location is the page's origin)."""
    try:
        return str(js.self.location.origin)
    except Exception:  # noqa: BLE001 - the origin only improves the wording
        return ""


class FetchByteStream(httpx.AsyncByteStream):
    def __init__(self, reader: Any, controller: Any) -> None:
        self._reader = reader
        self._controller = controller
        self._finished = reader is None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._reader is None:
            return
        while True:
            try:
                result = await self._reader.read()
            except asyncio.CancelledError:
                self._abort()
                raise
            except JsException as err:
                self._finished = True
                raise httpx.ReadError(f"the response body failed: {err}") from None
            if result.done:
                self._finished = True
                return
            yield result.value.to_bytes()

    def _abort(self) -> None:
        if not self._finished:
            self._finished = True
            self._controller.abort()

    async def aclose(self) -> None:
        self._abort()  # closing before the end means "stop downloading"


class FetchTransport(httpx.AsyncBaseTransport):
    """`config` only supplies the words of the fixes (which server, which switch)."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        self._config = config

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        controller = js.AbortController.new()
        url = str(request.url)
        init: dict[str, Any] = {
            "method": request.method,
            "headers": [[k, v] for k, v in request.headers.items() if k.lower() not in _SKIP_REQUEST_HEADERS],
            "signal": controller.signal,
            "redirect": "manual",
            "credentials": "omit",  # no cookies to model servers
            "cache": "no-store",
        }
        body = await request.aread()
        if body:
            try:
                init["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                init["body"] = to_js(body)
        try:
            response = await js.fetch(url, _js_object(init))
        except asyncio.CancelledError:
            controller.abort()
            raise
        except JsException as err:
            raise await self._network_error(url, str(err)) from None
        if response.type == "opaqueredirect":
            raise BadRequest(f"{url} answered with a redirect; requests are not followed so the key cannot leave "
                             "for another origin", url=url, fix="set the base URL to the address it redirects to")
        headers = [
            (str(pair[0]), str(pair[1]))
            for pair in response.headers.entries()
            if str(pair[0]).lower() not in _SKIP_RESPONSE_HEADERS
        ]
        reader = response.body.getReader() if response.body is not None else None
        return httpx.Response(response.status, headers=headers, stream=FetchByteStream(reader, controller),
                              request=request)

    async def _network_error(self, url: str, detail: str) -> Exception:
        config = self._config
        origin = _page_origin()
        cors_words = cors_fix(config, origin) if config else "the server must allow this page's origin (CORS)"
        connect_words = connect_fix(config) if config else f"check that the server at {url} is running"
        if "abort" in detail.lower():
            return ModelConnectError(f"the request to {url} was aborted", url=url, fix=connect_words)
        reachable = await self._probe(url)
        if reachable:
            return CorsError(f"the browser blocked the answer from {url}: the server does not allow this page's "
                             f"origin ({origin}) (CORS)", url=url, fix=cors_words, page_origin=origin)
        return ModelConnectError(
            f"could not reach {url} ({detail}); either nothing answers there, or the server refuses this page's "
            f"origin {origin} (the browser does not say which)",
            url=url, fix=f"{connect_words}; if it is running: {cors_words}", page_origin=origin, maybe_cors=True,
        )

    @staticmethod
    async def _probe(url: str) -> bool:
        """Did anything answer at the server's origin? An opaque no-cors answer proves the server is up."""
        origin = js.URL.new(url).origin
        try:
            await js.fetch(origin + "/", _js_object({
                "mode": "no-cors", "credentials": "omit", "cache": "no-store",
                "signal": js.AbortSignal.timeout(PROBE_TIMEOUT_MS),
            }))
        except JsException:
            return False
        return True
