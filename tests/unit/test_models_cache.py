"""CachingModel over real sockets to the scripted model server: hits replay the stream and reach no server, only
clean replies are stored, keys are the exact request without the key, stores evict the oldest, failures never
cost the reply."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent_py import log as agent_log
from agent_py.errors import ModelError, StreamError
from agent_py.models import (
    CacheFull,
    CacheUnavailable,
    CachingModel,
    FinishEvent,
    GenerationOptions,
    MemoryCacheStore,
    ModelClient,
    ModelConfig,
    ModelEvent,
    ModelResponse,
    ReasoningDelta,
    TextDelta,
    UsageEvent,
    cache_key,
    clear_cache,
)
from agent_py.models import cache as cache_module
from tests.servers.model_server import ModelServer

pytestmark = pytest.mark.anyio
KEY = "sk-cache-SECRET-0123456789"
MESSAGES = [{"role": "user", "content": "What is 6 * 7?"}]


@pytest.fixture(autouse=True)
def empty_run_log() -> None:
    agent_log.run_log().clear()  # tests below look for the cache's own warnings


def config(server: ModelServer, provider: str = "openai", **fields: Any) -> ModelConfig:
    base = server.openai_base if provider == "openai" else server.url
    fields.setdefault("max_retries", 0)
    return ModelConfig(provider=provider, base_url=base, model="scripted-model", api_key=KEY, **fields)  # type: ignore[arg-type]


def caching(server: ModelServer, store: Any = None, **fields: Any) -> CachingModel:
    return CachingModel(ModelClient(config(server, **fields)), store if store is not None else MemoryCacheStore())


async def collect(model: CachingModel, messages: list[dict[str, Any]] = MESSAGES) -> list[ModelEvent]:
    return [event async for event in model.stream(messages)]


@pytest.mark.parametrize("provider", ["openai", "ollama"])
async def test_second_identical_request_is_replayed_without_reaching_the_server(
    model_server: ModelServer, provider: str
) -> None:
    model_server.enqueue({"deltas": ["The ", "answer", " is 42"], "reasoning": "six sevens", "chunk_chars": 4,
                          "usage": {"prompt_tokens": 11, "completion_tokens": 5}, "finish_reason": "length"})
    model = CachingModel(ModelClient(config(model_server, provider)), MemoryCacheStore())
    first_events: list[ModelEvent] = []
    first = await model.complete(MESSAGES, on_event=first_events.append)
    second_events: list[ModelEvent] = []
    second = await model.complete(MESSAGES, on_event=second_events.append)
    await model.aclose()

    assert len(model_server.chat_requests()) == 1
    assert second_events == first_events  # the original chunking, reasoning, usage and finish
    assert [e.text for e in second_events if isinstance(e, TextDelta)] == ["The ", "answer", " is 42"]
    assert any(isinstance(e, ReasoningDelta) for e in second_events)
    assert (first.cached, second.cached) == (False, True)
    assert (second.text, second.reasoning, second.usage, second.finish_reason) == (
        first.text, first.reasoning, first.usage, "length")
    assert second.usage.prompt_tokens == 11 and second.attempts == 0 and not second.partial
    assert second.to_dict()["cached"] is True and first.to_dict()["cached"] is False
    assert (model.hits, model.misses, model.stored) == (1, 1, 1)


async def test_stream_hit_replays_the_same_events(model_server: ModelServer) -> None:
    model_server.enqueue({"text": "abcdefghij", "chunk_chars": 3})
    model = caching(model_server)
    first = await collect(model)
    assert not model.last_cached
    second = await collect(model)
    assert model.last_cached and second == first
    assert isinstance(second[-2], UsageEvent) and isinstance(second[-1], FinishEvent)
    assert len(model_server.chat_requests()) == 1


async def test_cut_stream_is_not_stored(model_server: ModelServer) -> None:
    model_server.enqueue({"text": "abcdefghij", "chunk_chars": 2, "fault": "cut", "after_chars": 6}, "the full answer")
    model = caching(model_server)
    partial = await model.complete(MESSAGES)
    assert partial.partial and partial.text == "abcdef"
    again = await model.complete(MESSAGES)
    assert again.text == "the full answer" and not again.cached
    assert len(model_server.chat_requests()) == 2 and model.stored == 1


@pytest.mark.parametrize("fault", [{"fault": "truncate", "after_chars": 4}, {"fault": "error_event", "after_chars": 4},
                                   {"fault": "truncate", "after_chars": 0}, {"status": 400, "message": "bad"}])
async def test_a_reply_that_did_not_finish_cleanly_is_not_stored(model_server: ModelServer,
                                                                 fault: dict[str, Any]) -> None:
    model_server.enqueue({"text": "abcdefgh", "chunk_chars": 2, **fault}, "second")
    store = MemoryCacheStore()
    model = caching(model_server, store)
    with pytest.raises(ModelError):
        await collect(model)
    assert (await store.stats())["entries"] == 0
    events = await collect(model)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "second"
    assert len(model_server.chat_requests()) == 2


async def test_a_stream_the_caller_stopped_reading_is_not_stored(model_server: ModelServer) -> None:
    model_server.enqueue({"text": "abcdefgh", "chunk_chars": 2}, "full")
    store = MemoryCacheStore()
    model = caching(model_server, store)
    stream = model.stream(MESSAGES)
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()
    assert (await store.stats())["entries"] == 0
    assert "".join(e.text for e in await collect(model) if isinstance(e, TextDelta)) == "full"


async def test_a_caller_that_stops_at_the_finish_still_gets_it_stored(model_server: ModelServer) -> None:
    model_server.enqueue("done")
    model = caching(model_server)
    stream = model.stream(MESSAGES)
    async for event in stream:
        if isinstance(event, FinishEvent):
            break
    await stream.aclose()
    await collect(model)
    assert model.last_cached and len(model_server.chat_requests()) == 1


async def test_the_key_is_in_neither_the_cache_key_nor_the_entry(model_server: ModelServer) -> None:
    model_server.enqueue("stored answer")
    store = MemoryCacheStore()
    model = caching(model_server, store)
    await model.complete(MESSAGES)
    (text,) = store._entries.values()
    assert KEY not in text and "6 * 7" not in text  # neither the key nor the request is kept, only the reply
    entry = json.loads(text)
    assert set(entry) == {"format", "model", "stored_at", "latency_ms", "first_token_ms", "events"}
    other_key = ModelConfig(provider="openai", base_url=model_server.openai_base, model="scripted-model",
                            api_key="sk-another-key-99999999", max_retries=0)
    assert cache_key(other_key, MESSAGES) == cache_key(model.config, MESSAGES)
    # Another key still hits: the cache is about what was asked, not who asked.
    assert (await CachingModel(ModelClient(other_key), store).complete(MESSAGES)).cached


def test_keys_follow_every_part_of_the_request() -> None:
    base = ModelConfig(provider="openai", base_url="http://127.0.0.1:9/v1", model="m", api_key=KEY)
    reference = cache_key(base, MESSAGES, GenerationOptions(temperature=0.2))
    assert len(reference) == 64 and int(reference, 16) >= 0
    same = [
        cache_key(base, [{"content": "What is 6 * 7?", "role": "user"}], GenerationOptions(temperature=0.2)),
        cache_key(ModelConfig(provider="openai", base_url="http://127.0.0.1:9/v1/", model="m"), MESSAGES,
                  GenerationOptions(temperature=0.2)),
    ]
    assert same == [reference, reference]
    assert cache_key(base, MESSAGES, None) == cache_key(base, MESSAGES, GenerationOptions())
    different = [
        cache_key(base, MESSAGES, GenerationOptions(temperature=0.3)),
        cache_key(base, MESSAGES, GenerationOptions(temperature=0.2, max_tokens=10)),
        cache_key(base, MESSAGES, GenerationOptions(temperature=0.2, seed=1)),
        cache_key(base, MESSAGES, GenerationOptions(temperature=0.2, stop=["\n"])),
        cache_key(base, MESSAGES, GenerationOptions(temperature=0.2, extra={"top_p": 0.9})),
        cache_key(base, [{"role": "user", "content": "What is 6 * 8?"}], GenerationOptions(temperature=0.2)),
        cache_key(base.with_model("m2"), MESSAGES, GenerationOptions(temperature=0.2)),
        cache_key(ModelConfig(provider="openai", base_url="http://127.0.0.1:10/v1", model="m"), MESSAGES,
                  GenerationOptions(temperature=0.2)),
        cache_key(ModelConfig(provider="ollama", base_url="http://127.0.0.1:9/v1", model="m"), MESSAGES,
                  GenerationOptions(temperature=0.2)),
    ]
    assert reference not in different and len(set(different)) == len(different)


async def test_different_options_reach_the_server_again(model_server: ModelServer) -> None:
    model_server.enqueue("cold", "warm")
    model = caching(model_server)
    cold = await model.complete(MESSAGES, GenerationOptions(temperature=0.0))
    warm = await model.complete(MESSAGES, GenerationOptions(temperature=1.0))
    assert (cold.text, warm.text, cold.cached, warm.cached) == ("cold", "warm", False, False)
    assert (await model.complete(MESSAGES, GenerationOptions(temperature=0.0))).text == "cold"
    assert len(model_server.chat_requests()) == 2


async def test_memory_store_evicts_the_oldest_by_entries_and_bytes() -> None:
    store = MemoryCacheStore(max_entries=2, max_bytes=10_000)
    for name in ("a", "b", "c"):
        await store.put(name, {"v": name})
    assert await store.get("a") is None and await store.get("b") == {"v": "b"} and await store.get("c") == {"v": "c"}
    assert (await store.stats())["entries"] == 2

    store = MemoryCacheStore(max_entries=100, max_bytes=250)
    for name in ("a", "b", "c"):
        await store.put(name, {"v": name * 100})  # ~110 bytes each: two fit
    stats = await store.stats()
    assert await store.get("a") is None and stats["entries"] == 2 and 200 < stats["bytes"] <= 250
    await store.put("b", {"v": "again"})  # replacing an entry makes it the newest
    await store.put("d", {"v": "d" * 130})  # c, b and d are over the cap: c, now the oldest, goes
    assert await store.get("c") is None and await store.get("b") == {"v": "again"}
    with pytest.raises(CacheFull):
        await store.put("huge", {"v": "x" * 1000})
    await store.clear()
    assert await store.stats() == {"entries": 0, "bytes": 0}


async def test_a_reply_over_the_byte_cap_is_answered_and_not_stored(model_server: ModelServer) -> None:
    model_server.enqueue("y" * 500, "y" * 500)
    model = caching(model_server, MemoryCacheStore(max_bytes=300))
    first = await model.complete(MESSAGES)
    second = await model.complete(MESSAGES)
    assert first.text == second.text == "y" * 500 and not second.cached
    assert model.stored == 0 and model.status()["enabled"]  # a full cache is not a broken one
    assert any(r.message.startswith("response cache write failed") for r in agent_log.run_log().records())


class BrokenStore:
    name = "broken"

    def __init__(self, error: Exception) -> None:
        self.error, self.calls = error, 0

    async def get(self, key: str) -> dict[str, Any] | None:
        self.calls += 1
        raise self.error

    async def put(self, key: str, entry: dict[str, Any]) -> None:
        self.calls += 1
        raise self.error

    async def clear(self) -> None:
        raise self.error

    async def stats(self) -> dict[str, int]:
        raise self.error


async def test_an_unavailable_store_turns_the_cache_off_and_the_reply_still_comes(model_server: ModelServer) -> None:
    model_server.enqueue("one", "two")
    store = BrokenStore(CacheUnavailable("IndexedDB is not available in this browser context", store="broken"))
    model = caching(model_server, store)
    assert (await model.complete(MESSAGES)).text == "one"
    assert (await model.complete(MESSAGES)).text == "two"
    assert store.calls == 1  # turned off after the first failure, not retried on every call
    status = model.status()
    assert status["enabled"] is False and "IndexedDB is not available" in status["reason"]
    warnings = [r for r in agent_log.run_log().records() if r.level == "warn" and "cache disabled" in r.message]
    assert warnings and "IndexedDB is not available" in warnings[0].fields["reason"]


async def test_an_unreadable_entry_is_a_miss(model_server: ModelServer) -> None:
    model_server.enqueue("fresh")
    store = MemoryCacheStore()
    model = caching(model_server, store)
    await store.put(cache_key(model.config, MESSAGES), {"format": 1, "events": [["text", "no finish"]]})
    response = await model.complete(MESSAGES)
    assert response.text == "fresh" and not response.cached
    assert (await model.complete(MESSAGES)).cached  # and the good reply replaced it


async def test_errors_pass_through_unchanged(model_server: ModelServer) -> None:
    model_server.enqueue({"fault": "cut", "after_chars": 0})
    with pytest.raises(StreamError):
        await caching(model_server).complete(MESSAGES)


async def test_clear_cache_empties_the_default_store(model_server: ModelServer, monkeypatch: Any) -> None:
    monkeypatch.setattr(cache_module, "_default_store", None)
    model_server.enqueue("first", "after clear")
    model = CachingModel(ModelClient(config(model_server)))
    assert isinstance(model.store, MemoryCacheStore) and model.store is cache_module.default_store()
    await model.complete(MESSAGES)
    assert (await model.complete(MESSAGES)).cached
    assert await clear_cache() == {"entries": 0, "bytes": 0}
    response = await model.complete(MESSAGES)
    assert response.text == "after clear" and not response.cached


def test_model_response_is_not_cached_by_default() -> None:
    assert ModelResponse(text="x").to_dict()["cached"] is False


def test_the_runs_observation_nonce_is_not_part_of_the_key() -> None:
    """Two runs of one task differ by their nonce alone after step 1: the second must hit the first's entries."""
    from agent_py.prompts import new_nonce

    base = ModelConfig(provider="openai", base_url="http://127.0.0.1:9/v1", model="m")

    def step_two(nonce: str, output: str = "42") -> list[dict[str, str]]:
        return [*MESSAGES, {"role": "assistant", "content": "```python\nprint(6 * 7)\n```"},
                {"role": "user", "content": f"<<<observation {nonce}>>>\n{output}\n<<<end {nonce}>>>"}]

    first, second = new_nonce(), new_nonce()
    assert first != second
    assert cache_key(base, step_two(first)) == cache_key(base, step_two(second))
    assert cache_key(base, step_two(first)) != cache_key(base, step_two(second, output="43"))
