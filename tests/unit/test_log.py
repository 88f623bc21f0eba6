"""agent_py.log: levels, redaction of secrets and contents, the run log and its exports, the URL level, and the
model client's log calls (never the key)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from agent_py import log
from agent_py.models import ModelClient, ModelConfig, RetryPolicy
from tests.servers.model_server import ModelServer

KEY = "sk-log-SECRET-abcdefghij"


@pytest.fixture(autouse=True)
def fresh_log() -> Iterator[None]:
    log.set_level("info")
    log.run_log().clear()
    log.clear_secrets()
    yield
    log.set_level("info")
    log.run_log().clear()
    log.clear_secrets()
    log.set_console(True)


def messages_logged() -> list[str]:
    return [r.message for r in log.run_log().records()]


def test_levels_filter_and_per_logger_override() -> None:
    agent, model = log.get_logger("agent"), log.get_logger("model")
    assert log.get_logger("agent") is agent
    agent.debug("hidden")
    agent.info("shown")
    agent.trace("hidden too")
    log.set_level("warn")
    agent.info("now hidden")
    agent.warn("warned")
    agent.error("failed")
    log.set_level("trace", logger="model")
    model.trace("model trace")
    agent.debug("still hidden")
    assert messages_logged() == ["shown", "warned", "failed", "model trace"]
    assert [r.level for r in log.run_log().records()] == ["info", "warn", "error", "trace"]
    assert (log.get_level(), log.get_level("model")) == ("warn", "trace")
    log.set_level("DEBUG")  # a global level clears per-logger overrides
    assert log.get_level("model") == "debug" and agent.enabled("debug") and not agent.enabled("trace")
    log.set_level("warning")
    assert log.get_level() == "warn"
    with pytest.raises(ValueError, match="unknown log level"):
        log.set_level("loud")


def test_below_the_threshold_nothing_is_formatted() -> None:
    formatted = []

    class Costly:
        def __repr__(self) -> str:
            formatted.append(1)
            return "costly"

    sandbox = log.get_logger("sandbox")
    sandbox.debug("killed", run_id="r1", thing=Costly())
    assert formatted == [] and len(log.run_log()) == 0
    log.set_level("debug")
    sandbox.debug("killed", run_id="r1", after_ms=412, thing=Costly())
    (record,) = log.run_log().records()
    assert formatted == [1] and record.fields == {"run_id": "r1", "after_ms": 412, "thing": "costly"}
    assert (record.logger, record.level, record.message) == ("sandbox", "debug", "killed")


def test_registered_secrets_and_key_patterns_are_never_recorded() -> None:
    log.register_secret(KEY)
    log.register_secret("abc")  # too short to be a secret: would redact ordinary words
    custom = "custom-token-value-7777"
    log.register_secret(custom)
    agent = log.get_logger("agent")
    agent.warn(f"auth failed with {KEY}", header=f"Bearer {KEY}", note=f"tried {custom} and abc",
               nested={"list": [f"x {KEY} y"], "other": "sk-proj-zzzzzzzzzzzz"})
    agent.info("raw", headers={"Authorization": "Bearer eyJhbGciOi.payload.sig"}, api_key="anything",
               has_api_key=True, prompt_tokens=12, max_tokens=100, token="t0k3n")
    dump = log.run_log().to_jsonl() + log.run_log().to_text()
    assert KEY not in dump and custom not in dump and "sk-proj-zzz" not in dump and "eyJhbGciOi" not in dump
    assert "t0k3n" not in dump and "anything" not in dump
    first, second = log.run_log().records()
    assert first.message == "auth failed with ***"
    assert first.fields["header"] == "Bearer ***" and first.fields["nested"]["list"] == ["x *** y"]
    assert first.fields["note"] == "tried *** and abc"
    assert second.fields["headers"] == {"Authorization": "***"}
    assert second.fields["api_key"] == "***" and second.fields["token"] == "***"
    kept = (second.fields["has_api_key"], second.fields["prompt_tokens"], second.fields["max_tokens"])
    assert kept == (True, 12, 100)
    log.clear_secrets()
    agent.info(custom)
    assert log.run_log().records()[-1].message == custom


def test_contents_are_replaced_by_their_size() -> None:
    log.get_logger("sandbox").info(
        "file written", path="/data/out.csv", content="a,b\n1,2\n", data=b"\x00" * 2048, bytes=bytearray(10),
        messages=[{"role": "user", "content": "my private prompt"}], files={"data": {"x": 1, "y": 2}},
    )
    (record,) = log.run_log().records()
    assert record.fields["path"] == "/data/out.csv"
    assert record.fields["content"] == "<8 chars>"
    assert record.fields["data"] == "<2048 bytes>" and record.fields["bytes"] == "<10 bytes>"
    assert record.fields["messages"] == [{"role": "user", "content": "<17 chars>"}]
    assert record.fields["files"] == {"data": "<2 items>"}
    assert "private prompt" not in log.run_log().to_jsonl()


def test_run_log_exports_text_and_jsonl_and_stays_bounded() -> None:
    model = log.get_logger("model")
    model.info("model reply", model="qwen3:8b", finish="stop", note="two words")
    model.error("model call failed", status=500)
    lines = log.run_log().to_jsonl().splitlines()
    parsed = [json.loads(line) for line in lines]
    assert [p["message"] for p in parsed] == ["model reply", "model call failed"]
    assert set(parsed[0]) == {"ts", "level", "logger", "message", "fields"}
    assert parsed[0]["fields"] == {"model": "qwen3:8b", "finish": "stop", "note": "two words"}
    text = log.run_log().to_text().splitlines()
    assert text[0].endswith('INFO  [model] model reply model=qwen3:8b finish=stop note="two words"')
    assert text[0][:4].isdigit() and "T" in text[0][:20] and text[0][23] == "Z"
    assert text[1].endswith("ERROR [model] model call failed status=500")

    small = log.RunLog(limit=3)
    for n in range(5):
        small(log.LogRecord(float(n), "info", "agent", f"m{n}"))
    assert [r.message for r in small.records()] == ["m2", "m3", "m4"] and small.dropped == 2
    assert small.to_text().startswith("... 2 earlier records dropped")


def test_console_sink_is_stderr_in_cpython_and_can_be_turned_off(capsys: pytest.CaptureFixture[str]) -> None:
    log.get_logger("agent").warn("to stderr", step=3)
    assert "WARN  [agent] to stderr step=3" in capsys.readouterr().err
    log.set_console(False)
    log.get_logger("agent").warn("quiet")
    assert capsys.readouterr().err == "" and messages_logged()[-1] == "quiet"


def test_extra_sinks_receive_records_and_a_broken_sink_breaks_nothing() -> None:
    log.set_console(False)
    seen: list[log.LogRecord] = []

    def broken(record: log.LogRecord) -> None:
        raise RuntimeError("sink down")

    remove_broken = log.add_sink(broken)
    remove = log.add_sink(seen.append)
    log.get_logger("agent").info("hello")
    remove()
    remove_broken()
    log.get_logger("agent").info("after")
    assert [r.message for r in seen] == ["hello"] and messages_logged() == ["hello", "after"]


@pytest.mark.parametrize(("url", "level"), [
    ("http://127.0.0.1:8000/?log=debug", "debug"),
    ("http://127.0.0.1:8000/index.html?demo=1&log=TRACE#top", "trace"),
    ("?log=warning", "warn"),
    ("log=error", "error"),
    ("/index.html?log=info", "info"),
    ("http://127.0.0.1:8000/?log=loud", None),
    ("http://127.0.0.1:8000/?logging=debug", None),
    ("http://127.0.0.1:8000/#log=debug", None),
    ("", None),
])
def test_level_from_url(url: str, level: str | None) -> None:
    assert log.level_from_url(url) == level


@pytest.mark.anyio
async def test_model_client_logs_request_first_byte_and_retry_but_never_the_key(model_server: ModelServer) -> None:
    log.set_console(False)
    log.set_level("debug")
    model_server.enqueue({"fault": "429", "retry_after": 0}, {"text": "hello there", "chunk_chars": 4})
    config = ModelConfig(provider="openai", base_url=model_server.openai_base, model="scripted-model", api_key=KEY)

    async def no_sleep(seconds: float) -> None:
        return None

    async with ModelClient(config, retry=RetryPolicy(max_retries=2, sleep=no_sleep, random=lambda: 0.0)) as client:
        response = await client.complete([{"role": "user", "content": "a private question"}])
    assert response.text == "hello there"
    records = log.run_log().records()
    by_message = {r.message: r for r in records}
    request = by_message["model request"]
    assert request.fields["url"] == f"{model_server.openai_base}/chat/completions"
    assert request.fields["model"] == "scripted-model" and request.fields["messages"] == 1
    retry = by_message["retrying model call"]
    assert retry.level == "warn" and retry.fields["error"] == "RateLimited" and retry.fields["wait_s"] == 0
    assert retry.fields["status"] == 429
    assert by_message["model first byte"].fields["first_byte_ms"] >= 0
    assert by_message["model reply"].fields["completion_tokens"] >= 1
    dump = log.run_log().to_jsonl()
    assert KEY not in dump and "a private question" not in dump and "Bearer" not in dump


@pytest.mark.anyio
async def test_model_client_at_info_skips_debug_records(model_server: ModelServer) -> None:
    log.set_console(False)
    model_server.enqueue("hi")
    config = ModelConfig(provider="ollama", base_url=model_server.url, model="scripted-model")
    async with ModelClient(config) as client:
        await client.complete([{"role": "user", "content": "x"}])
    assert messages_logged() == ["model reply"]


def test_record_fields_accept_any_object() -> None:
    class WithDict:
        def to_dict(self) -> dict[str, Any]:
            return {"api_key": KEY, "n": 1}

    log.get_logger("agent").info("objects", config=WithDict(), items=(1, 2), many={3})
    (record,) = log.run_log().records()
    assert record.fields == {"config": {"api_key": "***", "n": 1}, "items": [1, 2], "many": [3]}
