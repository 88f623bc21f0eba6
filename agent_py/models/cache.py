"""An opt-in response cache: the same request twice is answered once by the model and once from storage.

    model = CachingModel(ModelClient(config))              # the default store: IndexedDB in the page, memory in CPython
    response = await model.complete(messages, options)     # a hit replays the recorded stream; response.cached is True
    await clear_cache()                                    # Settings' "Clear cached replies"

The key is the sha256 of the canonical JSON of the exact request: provider, URL (so base_url) and the body the
client would send (model, messages, generation options, num_ctx...), with the runs' observation nonces left out.
The API key and headers are not part of it and an entry holds only the recorded events, never the request or the
key, so a cache can be inspected or exported.

Only a reply that finished cleanly (a FinishEvent arrived) is stored: a cut, partial or failed stream, or one the
caller stopped reading, is never replayed. A hit replays every event as it was recorded (the text in its original
chunking, reasoning, usage, finish), at once.

The cache must never cost a run: when the store fails (no IndexedDB, quota) the wrapper logs a warning, answers
from the model, and — if the store is unavailable for good — turns itself off (`status()` says why).
Stores: MemoryCacheStore (CPython, tests) and BrowserCacheStore (IndexedDB through static/app/idb_kv.mjs, which
the agent worker registers as the JS module `codeact_idb`). Both cap entries and bytes and evict the oldest first.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from agent_py.errors import AgentError
from agent_py.log import get_logger
from agent_py.prompts import NONCE_MARKER

from . import ollama, openai
from .client import ModelClient
from .config import GenerationOptions, ModelConfig
from .types import FinishEvent, ModelEvent, ModelResponse, ReasoningDelta, TextDelta, Usage, UsageEvent

__all__ = [
    "BrowserCacheStore",
    "CacheError",
    "CacheFull",
    "CacheStore",
    "CacheUnavailable",
    "CachingModel",
    "MemoryCacheStore",
    "cache_key",
    "cache_stats",
    "clear_cache",
    "default_store",
]

ENTRY_FORMAT = 1  # part of every key: a change of the entry layout starts a fresh cache instead of misreading it
DEFAULT_MAX_ENTRIES = 500
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
IDB_DATABASE = "codeact-model-cache"
IDB_STORE = "responses"

log = get_logger("model")


# --- errors ---------------------------------------------------------------------------------------------------


class CacheError(AgentError):
    """The cache store failed. Fields: store (its name). Never ends a run: CachingModel falls back to the model."""


class CacheUnavailable(CacheError):
    """The store cannot work here at all (no IndexedDB, the page did not register codeact_idb)."""


class CacheFull(CacheError):
    """The store refused an entry: the browser's quota is exceeded, or the entry alone is over the byte cap."""


# --- keys and entries -----------------------------------------------------------------------------------------


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def cache_key(config: ModelConfig, messages: list[dict[str, Any]], options: GenerationOptions | None = None) -> str:
    """sha256 (hex) of the exact request the client would send, without the key or any header."""
    wire = ollama if config.provider == "ollama" else openai
    request = wire.chat_request(config, messages, options)
    material = {"format": ENTRY_FORMAT, "provider": config.provider, "url": request.url, "body": request.body}
    # Each run fences its observations with a random nonce (agent_py.prompts): two runs of the same task differ by
    # it alone after step 1, so it is not part of the key; everything else in the request is.
    canonical = NONCE_MARKER.sub(lambda m: f"<<<{m.group(1)}>>>", _canonical(material))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _event_to_json(event: ModelEvent) -> list[Any]:
    if isinstance(event, TextDelta):
        return ["text", event.text]
    if isinstance(event, ReasoningDelta):
        return ["reasoning", event.text]
    if isinstance(event, UsageEvent):
        return ["usage", event.usage.to_dict()]
    return ["finish", event.reason]


def _event_from_json(item: list[Any]) -> ModelEvent:
    kind, value = item
    if kind == "text":
        return TextDelta(str(value))
    if kind == "reasoning":
        return ReasoningDelta(str(value))
    if kind == "usage":
        return UsageEvent(Usage(**value))
    if kind == "finish":
        return FinishEvent(str(value))
    raise ValueError(f"unknown cached event kind {kind!r}")


def _make_entry(model: str, events: list[ModelEvent], latency_ms: float | None,
                first_token_ms: float | None) -> dict[str, Any]:
    return {"format": ENTRY_FORMAT, "model": model, "stored_at": time.time(), "latency_ms": latency_ms,
            "first_token_ms": first_token_ms, "events": [_event_to_json(e) for e in events]}


def _entry_events(entry: dict[str, Any]) -> list[ModelEvent]:
    """The recorded events, or ValueError when the entry is not one we wrote (another format, damaged)."""
    if not isinstance(entry, dict) or entry.get("format") != ENTRY_FORMAT or not isinstance(entry.get("events"), list):
        raise ValueError("not a cache entry of this format")
    events = [_event_from_json(item) for item in entry["events"]]
    if not events or not isinstance(events[-1], FinishEvent):
        raise ValueError("a cache entry must end with its finish")
    return events


# --- stores ---------------------------------------------------------------------------------------------------


class CacheStore(Protocol):
    """Where entries live. Entries are JSON-ready dicts; a store may copy them (get returns an equal dict)."""

    name: str

    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def put(self, key: str, entry: dict[str, Any]) -> None: ...

    async def clear(self) -> None: ...

    async def stats(self) -> dict[str, int]:
        """{"entries": n, "bytes": b} (bytes of the stored JSON)."""
        ...


class MemoryCacheStore:
    """Entries as JSON text in a dict, oldest evicted first once max_entries or max_bytes is passed."""

    name = "memory"

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0

    async def get(self, key: str) -> dict[str, Any] | None:
        text = self._entries.get(key)
        return None if text is None else json.loads(text)

    async def put(self, key: str, entry: dict[str, Any]) -> None:
        text = _canonical(entry)
        size = len(text.encode())
        if size > self.max_bytes:
            raise CacheFull(f"an entry of {size} bytes is over the cache's cap of {self.max_bytes}", store=self.name)
        if key in self._entries:
            self._bytes -= len(self._entries.pop(key).encode())
        self._entries[key] = text
        self._bytes += size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _, oldest = self._entries.popitem(last=False)
            self._bytes -= len(oldest.encode())

    async def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    async def stats(self) -> dict[str, int]:
        return {"entries": len(self._entries), "bytes": self._bytes}


class BrowserCacheStore:
    """Entries in IndexedDB (static/app/idb_kv.mjs as the JS module `codeact_idb`), so they survive reloads.

    The database opens on first use; JS failures come back typed: IdbUnavailableError -> CacheUnavailable,
    IdbQuotaError -> CacheFull, anything else -> CacheError.
    """

    name = "indexeddb"

    def __init__(self, db_name: str = IDB_DATABASE, store_name: str = IDB_STORE, *,
                 max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.db_name = db_name
        self.store_name = store_name
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._kv: Any = None

    async def _store(self) -> Any:
        if self._kv is None:
            try:
                import codeact_idb  # type: ignore[import-not-found]  # registered by static/app/agent_worker.mjs
            except ImportError:
                raise CacheUnavailable("the page did not register the IndexedDB module (codeact_idb)",
                                       store=self.name) from None
            self._kv = await self._call(codeact_idb.open(self.db_name, self.store_name))
        return self._kv

    async def _call(self, awaitable: Awaitable[Any]) -> Any:
        from pyodide.ffi import JsException  # type: ignore[import-not-found]

        try:
            return await awaitable
        except JsException as err:
            name = str(getattr(err, "name", ""))
            message = str(getattr(err, "message", "") or err)
            kind = {"IdbUnavailableError": CacheUnavailable, "IdbQuotaError": CacheFull}.get(name, CacheError)
            raise kind(message, store=self.name) from None

    async def get(self, key: str) -> dict[str, Any] | None:
        text = await self._call((await self._store()).get(key))
        return None if text is None else json.loads(str(text))

    async def put(self, key: str, entry: dict[str, Any]) -> None:
        import js  # type: ignore[import-not-found]
        from pyodide.ffi import to_js  # type: ignore[import-not-found]

        text = _canonical(entry)
        size = len(text.encode())
        if size > self.max_bytes:
            raise CacheFull(f"an entry of {size} bytes is over the cache's cap of {self.max_bytes}", store=self.name)
        kv = await self._store()
        await self._call(kv.put(key, text))
        caps = to_js({"maxEntries": self.max_entries, "maxBytes": self.max_bytes},
                     dict_converter=js.Object.fromEntries)
        await self._call(kv.evict(caps))

    async def clear(self) -> None:
        await self._call((await self._store()).clear())

    async def stats(self) -> dict[str, int]:
        stats = await self._call((await self._store()).stats())
        return {"entries": int(stats.entries), "bytes": int(stats.bytes)}


_default_store: CacheStore | None = None


def default_store() -> CacheStore:
    """The interpreter's shared store: IndexedDB in the browser, memory in CPython."""
    global _default_store
    if _default_store is None:
        _default_store = BrowserCacheStore() if sys.platform == "emscripten" else MemoryCacheStore()
    return _default_store


async def clear_cache(store: CacheStore | None = None) -> dict[str, int]:
    """Empty the cache (the default store unless given); returns its stats afterwards."""
    target = store or default_store()
    await target.clear()
    return await target.stats()


async def cache_stats(store: CacheStore | None = None) -> dict[str, int]:
    return await (store or default_store()).stats()


# --- the wrapper ----------------------------------------------------------------------------------------------

OnEvent = Callable[[ModelEvent], Awaitable[object] | object]


async def _deliver(on_event: OnEvent | None, event: ModelEvent) -> None:
    if on_event is not None:
        result = on_event(event)
        if inspect.isawaitable(result):
            await result


class CachingModel:
    """A ModelClient with a response cache in front: same methods, same events, `ModelResponse.cached` on hits.

    Counters hits / misses / stored, and `last_cached` (was the latest call answered from the cache) serve the UI
    and tests. `disabled` holds the CacheUnavailable that turned the cache off, if any.
    """

    def __init__(self, model: ModelClient, store: CacheStore | None = None, *,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.model = model
        self.store = store or default_store()
        self._clock = clock
        self.hits = 0
        self.misses = 0
        self.stored = 0
        self.last_cached = False
        self.disabled: CacheUnavailable | None = None

    @property
    def config(self) -> ModelConfig:
        return self.model.config

    def __repr__(self) -> str:
        return f"CachingModel({self.model!r}, store={self.store.name})"

    async def __aenter__(self) -> CachingModel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.model.aclose()

    async def list_models(self) -> list[str]:
        return await self.model.list_models()

    def status(self) -> dict[str, Any]:
        """For the UI: whether the cache is on (and if not, why), and this wrapper's counters."""
        return {"enabled": self.disabled is None, "reason": self.disabled.message if self.disabled else "",
                "store": self.store.name, "hits": self.hits, "misses": self.misses, "stored": self.stored}

    # --- the two call styles ----------------------------------------------------------------------------------

    async def stream(
        self, messages: list[dict[str, Any]], options: GenerationOptions | None = None
    ) -> AsyncIterator[ModelEvent]:
        self.last_cached = False
        key = self._key(messages, options)
        events = await self._lookup(key)
        if events is not None:
            for event in events:
                yield event
            return
        started = self._clock()
        first_token_ms: float | None = None
        recorded: list[ModelEvent] = []
        async for event in self.model.stream(messages, options):
            if first_token_ms is None and isinstance(event, TextDelta | ReasoningDelta):
                first_token_ms = (self._clock() - started) * 1000
            recorded.append(event)
            if isinstance(event, FinishEvent) and key is not None:
                # Stored before the finish goes out: a caller that stops reading at the finish still gets it cached.
                await self._save(key, recorded, (self._clock() - started) * 1000, first_token_ms)
            yield event

    async def complete(
        self,
        messages: list[dict[str, Any]],
        options: GenerationOptions | None = None,
        on_event: OnEvent | None = None,
    ) -> ModelResponse:
        self.last_cached = False
        key = self._key(messages, options)
        events = await self._lookup(key)
        if events is not None:
            return await self._replay(events, on_event)
        recorded: list[ModelEvent] = []

        async def record(event: ModelEvent) -> None:
            recorded.append(event)
            await _deliver(on_event, event)

        response = await self.model.complete(messages, options, on_event=record)
        if key is not None and not response.partial and recorded and isinstance(recorded[-1], FinishEvent):
            await self._save(key, recorded, response.latency_ms, response.first_token_ms)
        return response

    # --- plumbing ---------------------------------------------------------------------------------------------

    def _key(self, messages: list[dict[str, Any]], options: GenerationOptions | None) -> str | None:
        """The key, or None (no caching for this call) when the cache is off or the request is not plain JSON."""
        if self.disabled is not None:
            return None
        try:
            return cache_key(self.config, messages, options)
        except (TypeError, ValueError) as err:
            log.debug("cache skipped: request is not plain JSON", error=str(err))
            return None

    async def _lookup(self, key: str | None) -> list[ModelEvent] | None:
        if key is None:
            return None
        try:
            entry = await self.store.get(key)
        except CacheError as err:
            self._store_failed(err, "read")
            return None
        if entry is None:
            self.misses += 1
            log.debug("cache miss", key=key[:12], store=self.store.name)
            return None
        try:
            events = _entry_events(entry)
        except (ValueError, TypeError, KeyError) as err:
            self.misses += 1
            log.warn("cache entry unreadable, asking the model", key=key[:12], error=str(err))
            return None
        self.hits += 1
        self.last_cached = True
        log.info("cache hit", key=key[:12], store=self.store.name, events=len(events))
        return events

    async def _save(self, key: str, events: list[ModelEvent], latency_ms: float | None,
                    first_token_ms: float | None) -> None:
        if self.disabled is not None:  # turned off by the lookup of this very call
            return
        entry = _make_entry(self.config.model, events, latency_ms, first_token_ms)
        try:
            await self.store.put(key, entry)
        except CacheError as err:
            self._store_failed(err, "write")
            return
        self.stored += 1
        log.debug("cache stored", key=key[:12], store=self.store.name, events=len(events))

    def _store_failed(self, err: CacheError, doing: str) -> None:
        if isinstance(err, CacheUnavailable):
            self.disabled = err
            log.warn("response cache disabled: answers come from the model", store=self.store.name,
                     reason=err.message)
        else:
            log.warn(f"response cache {doing} failed; the reply is not affected", store=self.store.name,
                     error=type(err).__name__, reason=err.message)

    async def _replay(self, events: list[ModelEvent], on_event: OnEvent | None) -> ModelResponse:
        started = self._clock()
        text: list[str] = []
        reasoning: list[str] = []
        first_token_ms: float | None = None
        usage = Usage()
        finish = ""
        for event in events:
            if isinstance(event, TextDelta | ReasoningDelta):
                if first_token_ms is None:
                    first_token_ms = (self._clock() - started) * 1000
                (text if isinstance(event, TextDelta) else reasoning).append(event.text)
            elif isinstance(event, UsageEvent):
                usage = event.usage
            elif isinstance(event, FinishEvent):
                finish = event.reason
            await _deliver(on_event, event)
        # attempts=0: no request was made.
        return ModelResponse(
            text="".join(text), reasoning="".join(reasoning), usage=usage, finish_reason=finish,
            latency_ms=(self._clock() - started) * 1000, first_token_ms=first_token_ms, partial=False,
            model=self.config.model, attempts=0, cached=True,
        )
