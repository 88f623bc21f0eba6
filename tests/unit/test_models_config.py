"""ModelConfig, presets, usage/pricing helpers and the declared public API of agent_py.models."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

import agent_py.models as models
from agent_py.errors import ConfigError
from agent_py.models import (
    PRESETS,
    ModelConfig,
    PriceTable,
    RunUsage,
    Usage,
    estimate_prompt_tokens,
    is_context_overflow,
    parse_retry_after,
)

KEY = "sk-live-abcdefghijklmnop"


def test_public_api_is_declared_and_complete() -> None:
    public = {name for name in dir(models) if not name.startswith("_")}
    submodules = {"cache", "client", "config", "deadline", "detect", "errormap", "fixes", "ndjson", "ollama", "openai",
                  "pricing", "retry", "sse", "think", "types", "usage", "wire"}
    assert set(models.__all__) == public - submodules
    assert {"ModelClient", "ModelConfig", "GenerationOptions", "TextDelta", "ReasoningDelta", "UsageEvent",
            "FinishEvent", "Usage", "ModelResponse", "detect_ollama", "PRESETS"} <= set(models.__all__)


@pytest.mark.parametrize("name", ["openai", "vllm", "lmstudio", "llamacpp", "openrouter", "groq", "mistral", "gemini",
                                  "anthropic", "ollama"])
def test_every_preset_builds_a_config(name: str) -> None:
    config = ModelConfig.from_preset(name, model="x")
    assert config.preset == name and config.base_url.startswith("http")
    assert config.provider == ("ollama" if name == "ollama" else "openai")


def test_preset_quirks() -> None:
    assert set(PRESETS["openrouter"].extra_headers) == {"HTTP-Referer", "X-Title"}
    assert PRESETS["gemini"].base_url.endswith("/v1beta/openai")
    assert "anthropic-dangerous-direct-browser-access" in PRESETS["anthropic"].extra_headers
    assert not PRESETS["mistral"].stream_usage
    merged = ModelConfig.from_preset("openrouter", extra_headers={"X-Title": "mine"})
    assert merged.extra_headers["X-Title"] == "mine" and "HTTP-Referer" in merged.extra_headers


def test_key_is_not_in_repr_str_or_to_dict() -> None:
    config = ModelConfig.from_preset("openai", model="gpt", api_key=KEY, extra_headers={"x-api-key": KEY})
    for text in (repr(config), str(config), str(config.to_dict()), f"{config}"):
        assert KEY not in text
    assert "api_key" not in config.to_dict() and config.to_dict()["has_api_key"] is True
    assert config.to_dict()["extra_headers"]["x-api-key"] == "***"


@pytest.mark.parametrize("url", ["ftp://x", "localhost:11434", "http://h/v1?key=abc", "http://user:pw@h/v1", ""])
def test_bad_base_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        ModelConfig(provider="openai", base_url=url)


def test_unknown_provider_and_preset() -> None:
    with pytest.raises(ConfigError):
        ModelConfig(provider="bard", base_url="http://h")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="known"):
        ModelConfig.from_preset("nope")


def test_ollama_defaults() -> None:
    config = ModelConfig(provider="ollama")
    assert config.base_url == "http://127.0.0.1:11434" and config.num_ctx > 4096


def test_parse_retry_after() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-3") == 0.0
    now = time.time()
    assert 29 <= parse_retry_after(formatdate(now + 30, usegmt=True), now=now) <= 30
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_overflow_patterns_do_not_fire_on_ordinary_errors() -> None:
    for message in ("invalid api key", "model not found", "temperature must be <= 2", "rate limit reached"):
        assert not is_context_overflow(message)


def test_usage_estimate_and_run_totals() -> None:
    assert estimate_prompt_tokens([{"role": "user", "content": "x" * 40}]) == 4 + 10
    parts = [{"role": "user", "content": [{"type": "text", "text": "abcd"}]}]
    assert estimate_prompt_tokens(parts) == 5
    run = RunUsage()
    run.add(Usage(10, 5, 15))
    total = run.add(Usage(1, 1, 2, estimated=True))
    assert total == Usage(11, 6, 17, estimated=True) and run.to_dict()["calls"] == 2


def test_price_table_cost_prefix_match_and_unknown() -> None:
    table = PriceTable.from_dict({"gpt-4o": {"input": 2.5, "output": 10}, "gpt-4o-mini": {"input": 0.15,
                                                                                        "output": 0.6}})
    assert table.cost("gpt-4o-2024-08-06", Usage(1_000_000, 100_000, 0)) == pytest.approx(3.5)
    assert table.cost("gpt-4o-mini-2024", Usage(1_000_000, 0, 0)) == pytest.approx(0.15)
    assert table.cost("llama3", Usage(10, 10, 20)) is None
    assert PriceTable.from_dict(table.to_dict()) == table
