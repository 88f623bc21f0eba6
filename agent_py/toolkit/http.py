"""HTTP plumbing the tool sources share: one httpx AsyncClient over the model layer's transport choice (real
sockets in CPython, the browser's fetch in Pyodide), whole-call deadlines, bounded reads, typed errors.

Deadlines cover the whole exchange (connect, headers and body) with one `asyncio.timeout`: httpx's own timeouts
are implemented by its socket transport and mean nothing to the fetch transport, and a server that drips bytes
forever must still end in ToolTimeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx

from agent_py.errors import (
    BadRequest,
    CorsError,
    ModelConnectError,
    ModelError,
    ToolConnectError,
    ToolCorsError,
    ToolError,
    ToolServerError,
    ToolTimeout,
)
from agent_py.models.client import default_transport
from agent_py.models.config import ModelConfig

__all__ = ["make_client", "deadline", "transport_error", "read_limited", "redact_url"]


def make_client(transport: httpx.AsyncBaseTransport | None = None, headers: dict[str, str] | None = None
                ) -> httpx.AsyncClient:
    """Redirects are not followed: a bearer token must not travel to another origin, and web.py checks every hop
    against its allowlist itself."""
    if transport is None:
        # The model layer's helper picks fetch in Pyodide and sockets in CPython; the config only words its CORS
        # hints, which tool errors word themselves (transport_error), so None is what the fetch transport takes.
        transport = default_transport(cast(ModelConfig, None))
    return httpx.AsyncClient(transport=transport, headers=headers or {}, follow_redirects=False,
                             timeout=httpx.Timeout(None))


@asynccontextmanager
async def deadline(seconds: float, message: str, **fields: Any) -> AsyncIterator[None]:
    """ToolTimeout(message, timeout_s=seconds, **fields) when the block takes longer than `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        raise ToolTimeout(message, timeout_s=seconds, **fields) from None


def redact_url(url: str) -> str:
    """The URL without user:password@ and without a query (tokens sometimes travel there)."""
    try:
        parts = httpx.URL(url)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as it was given, cut short
        return url[:200]
    return str(parts.copy_with(userinfo=b"", query=None, fragment=None))


def transport_error(err: Exception, url: str, *, tool: str, cors_fix: str) -> ToolError:
    """A transport failure (httpx under CPython, the fetch transport's ModelErrors in Pyodide) as a ToolError."""
    shown = redact_url(url)
    if isinstance(err, ToolError):
        return err
    if isinstance(err, CorsError):
        return ToolCorsError(f"the browser blocked the answer from {shown}: the server does not allow this page's "
                             f"origin (CORS)", tool=tool, url=shown, fix=cors_fix)
    if isinstance(err, ModelConnectError):
        maybe_cors = bool(getattr(err, "maybe_cors", False))
        fix = f"check that the server at {shown} is running" + (f"; if it is: {cors_fix}" if maybe_cors else "")
        cls = ToolCorsError if maybe_cors else ToolConnectError
        return cls(f"could not reach {shown}" + (" (or it refuses this page's origin: the browser does not say "
                                                 "which)" if maybe_cors else ""), tool=tool, url=shown, fix=fix)
    if isinstance(err, BadRequest | ModelError):
        return ToolServerError(f"{shown}: {err.message}", tool=tool, url=shown)
    if isinstance(err, httpx.TimeoutException):
        return ToolTimeout(f"{shown} did not answer in time", tool=tool, url=shown)
    if isinstance(err, httpx.ConnectError):
        return ToolConnectError(f"could not reach {shown}: {err}", tool=tool, url=shown,
                                fix=f"check that the server at {shown} is running")
    if isinstance(err, httpx.HTTPError):
        return ToolConnectError(f"the connection to {shown} failed: {type(err).__name__}: {err}", tool=tool,
                                url=shown)
    return ToolError(f"{tool}: request to {shown} failed: {type(err).__name__}: {err}", tool=tool, url=shown)


async def read_limited(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """At most `max_bytes` of the body, and whether more was there. Stops reading (and closes the response, which
    aborts the fetch in the browser) as soon as the limit is passed, so a huge page costs only `max_bytes`."""
    chunks: list[bytes] = []
    size = 0
    truncated = False
    async for chunk in response.aiter_bytes():
        if size + len(chunk) > max_bytes:
            chunks.append(chunk[: max_bytes - size])
            truncated = True
            break
        chunks.append(chunk)
        size += len(chunk)
    await response.aclose()
    return b"".join(chunks), truncated
