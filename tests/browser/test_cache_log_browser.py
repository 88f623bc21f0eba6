"""The response cache and the logger in the real page's agent worker: CachingModel over the fetch transport against
the scripted model server, entries in IndexedDB (static/app/idb_kv.mjs registered as `codeact_idb`), and the
`?log=` level read by static/app/log_level.mjs.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from tests.browser.test_boot import wait_for_snapshot
from tests.servers.model_server import ModelServer

pytestmark = pytest.mark.browser

KEY = "sk-browser-cache-KEY-123456"
READY = "window.codeact && document.body.dataset.pythonReady === 'true'"

PRELUDE = """
import json, js
from pyodide.code import run_js
from agent_py import log
from agent_py.models import BrowserCacheStore, CachingModel, ModelClient, ModelConfig, cache_stats, clear_cache
from agent_py.models.cache import default_store
"""


def run_py(page: Any, code: str) -> Any:
    """Run `code` in the agent worker; its last expression must be a JSON string, returned decoded."""
    return json.loads(page.evaluate("code => window.codeact.agent.execPython(code)", PRELUDE + textwrap.dedent(code)))


def model_py(server: ModelServer, store: str = "") -> str:
    config = (f"ModelConfig(provider='openai', base_url={server.openai_base!r}, model='scripted-model', "
              f"api_key={KEY!r}, max_retries=0)")
    return f"CachingModel(ModelClient({config}){', ' + store if store else ''})"


ASK = """
events = []
model = {model}
messages = [{{"role": "user", "content": "cache me"}}]
response = await model.complete(messages, on_event=lambda e: events.append(e.to_dict()))
await model.aclose()
json.dumps({{"response": response.to_dict(), "events": events, "status": model.status(), "stats": await cache_stats(),
            "store": type(default_store()).__name__}})
"""


def test_a_repeated_request_is_served_from_indexeddb_across_reloads_until_cleared(
    ready_page: Any, model_server: ModelServer
) -> None:
    model_server.enqueue({"deltas": ["from ", "the ", "model"], "reasoning": "think", "chunk_chars": 3}, "fresh")
    ask = ASK.format(model=model_py(model_server))
    first = run_py(ready_page, ask)
    second = run_py(ready_page, ask)
    assert first["store"] == "BrowserCacheStore" and first["status"]["enabled"], first
    assert len(model_server.chat_requests()) == 1  # the second answer never reached the server
    assert (first["response"]["cached"], second["response"]["cached"]) == (False, True)
    assert second["events"] == first["events"]
    assert [e["text"] for e in second["events"] if e["type"] == "TextDelta"] == ["from ", "the ", "model"]
    assert second["response"]["text"] == "from the model" and second["response"]["reasoning"] == "think"
    assert second["stats"]["entries"] == 1 and second["stats"]["bytes"] > 100

    # The reload restores the Python memory snapshot (the warm path users get): the cache modules, not imported
    # when the snapshot was taken, must import from the re-unpacked wheel, and IndexedDB must have survived.
    wait_for_snapshot(ready_page)
    ready_page.reload()
    ready_page.wait_for_function(READY, timeout=60_000)
    assert ready_page.evaluate("window.codeact.ready")["timings"].get("snapshot") == "restored"
    after_reload = run_py(ready_page, ask)
    assert after_reload["response"]["cached"] is True and after_reload["events"] == first["events"]
    assert len(model_server.chat_requests()) == 1
    stored = ready_page.evaluate("""async () => {
        const kv = await (await import(new URL("static/app/idb_kv.mjs", location.href))).open(
            "codeact-model-cache", "responses");
        const stats = await kv.stats();
        kv.close();
        return stats;
    }""")
    assert stored == after_reload["stats"]  # the page sees the same IndexedDB the worker wrote

    cleared = run_py(ready_page, "json.dumps(await clear_cache())")
    assert cleared == {"entries": 0, "bytes": 0}
    fresh = run_py(ready_page, ask)
    assert fresh["response"]["cached"] is False and fresh["response"]["text"] == "fresh"
    assert len(model_server.chat_requests()) == 2
    assert KEY not in json.dumps(fresh) and KEY not in "\n".join(ready_page.console_messages)


def test_without_indexeddb_the_cache_is_off_with_a_message_and_the_run_goes_on(
    ready_page: Any, model_server: ModelServer
) -> None:
    model_server.enqueue("one", "two")
    result = run_py(ready_page, f"""
        # As in a browser context without IndexedDB (some private modes, sandboxed origins).
        run_js("self.__idb = Object.getOwnPropertyDescriptor(self, 'indexedDB');"
               "Object.defineProperty(self, 'indexedDB', {{value: undefined, configurable: true}})")
        try:
            model = {model_py(model_server, "BrowserCacheStore('codeact-test-no-idb')")}
            texts = [(await model.complete([{{"role": "user", "content": "hi"}}])).text for _ in range(2)]
            warnings = [r.to_dict() for r in log.run_log().records() if r.level == "warn"]
        finally:
            run_js("if (self.__idb) Object.defineProperty(self, 'indexedDB', self.__idb); else delete self.indexedDB")
        json.dumps({{"texts": texts, "status": model.status(), "warnings": warnings}})
    """)
    assert result["texts"] == ["one", "two"] and len(model_server.chat_requests()) == 2
    assert result["status"]["enabled"] is False
    assert "IndexedDB is not available" in result["status"]["reason"]
    (warning,) = [w for w in result["warnings"] if "cache disabled" in w["message"]]
    assert "IndexedDB is not available" in warning["fields"]["reason"]
    assert any("response cache disabled" in m for m in ready_page.console_messages), ready_page.console_messages


def test_a_quota_error_is_typed_and_the_reply_still_arrives(ready_page: Any, model_server: ModelServer) -> None:
    model_server.enqueue("answer")
    result = run_py(ready_page, f"""
        import codeact_idb
        from agent_py.models import CacheFull
        full = run_js('''(KvError) => ({{
            get: async () => undefined,
            put: async () => {{ throw new KvError("IdbQuotaError", "storing: the storage quota is exceeded"); }},
            evict: async () => 0,
        }})''')(codeact_idb.KvError)
        store = BrowserCacheStore("codeact-test-quota")
        store._kv = full  # an IndexedDB that refuses every write, as a full disk does
        try:
            await store.put("k", {{"events": []}})
            typed = None
        except CacheFull as err:
            typed = err.to_dict()
        model = {model_py(model_server, "store")}
        response = await model.complete([{{"role": "user", "content": "hi"}}])
        json.dumps({{"typed": typed, "text": response.text, "status": model.status()}})
    """)
    assert result["typed"]["type"] == "CacheFull" and "quota" in result["typed"]["message"]
    assert result["text"] == "answer" and result["status"]["enabled"] and result["status"]["stored"] == 0


def test_idb_kv_evicts_the_oldest_and_types_its_errors(ready_page: Any) -> None:
    result = ready_page.evaluate("""async () => {
        const { open, toKvError, KvError } = await import(new URL("static/app/idb_kv.mjs", location.href));
        const kv = await open("codeact-test-kv", "things");
        await kv.clear();
        for (const key of ["a", "b", "c", "d"]) await kv.put(key, key.repeat(100));
        const removed = await kv.evict({ maxEntries: 3, maxBytes: 250 });
        const left = await Promise.all(["a", "b", "c", "d"].map(async (k) => (await kv.get(k)) !== undefined));
        const stats = await kv.stats();
        await kv.delete("d");
        const count = await kv.count();
        kv.close();
        let missing;
        try { await open("x", "y", { factory: null }); } catch (err) { missing = [err instanceof KvError, err.name]; }
        return {
            removed, left, stats, count, missing,
            quota: toKvError(new DOMException("full", "QuotaExceededError"), "storing").name,
            security: toKvError(new DOMException("no", "SecurityError"), "opening").name,
            other: toKvError(new Error("odd"), "reading").name,
        };
    }""")
    assert result["removed"] == 2 and result["left"] == [False, False, True, True]
    assert result["stats"] == {"entries": 2, "bytes": 200} and result["count"] == 1
    assert result["missing"] == [True, "IdbUnavailableError"]
    names = (result["quota"], result["security"], result["other"])
    assert names == ("IdbQuotaError", "IdbUnavailableError", "IdbError")


def test_log_level_from_the_page_url_and_debug_logging_in_the_worker(
    page: Any, app_url: str, model_server: ModelServer
) -> None:
    page.goto(f"{app_url}?log=debug")
    page.wait_for_function(READY, timeout=60_000)
    levels = page.evaluate("""async () => {
        const { logLevelFromUrl } = await import(new URL("static/app/log_level.mjs", location.href));
        return [logLevelFromUrl(), logLevelFromUrl("http://x/?log=WARNING"), logLevelFromUrl("http://x/?log=loud"),
                logLevelFromUrl("http://x/")];
    }""")
    assert levels == ["debug", "warn", None, None]
    assert any("?log=loud is not a log level" in m for m in page.console_messages)

    # The Python side: the level the page read, applied in the worker, makes the model client log at debug.
    model_server.enqueue("logged")
    result = run_py(page, f"""
        log.run_log().clear()
        log.set_level(log.level_from_url({page.url!r}))
        log.register_secret({KEY!r})
        model = ModelClient(ModelConfig(provider="openai", base_url={model_server.openai_base!r},
                                        model="scripted-model", api_key={KEY!r}))
        await model.complete([{{"role": "user", "content": "hi"}}])
        json.dumps({{"level": log.get_level(), "jsonl": log.run_log().to_jsonl()}})
    """)
    records = [json.loads(line) for line in result["jsonl"].splitlines()]
    assert result["level"] == "debug"
    assert {"model request", "model first byte", "model reply"} <= {r["message"] for r in records}
    assert KEY not in result["jsonl"]
    assert any("[model] model request" in m and m.startswith("debug") for m in page.console_messages), \
        page.console_messages


def test_the_worker_boots_at_the_level_of_the_page_url(page: Any, app_url: str) -> None:
    page.goto(f"{app_url}?log=debug")
    page.wait_for_function(READY, timeout=60_000)
    assert run_py(page, "json.dumps(log.get_level())") == "debug"
