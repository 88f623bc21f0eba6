"""The page's settings JSON becomes typed settings; bad input names the field."""

from __future__ import annotations

import pytest

from agent_py.errors import ConfigError
from agent_py.settings import RunSettings


def test_preset_with_overrides_and_limits() -> None:
    settings = RunSettings.from_page({
        "preset": "groq", "model": "llama-3.3-70b", "apiKey": "sk-secret", "temperature": 0.3,
        "limits": {"maxSteps": 5, "maxWallClockS": 60}, "sandbox": {"timeoutMs": 2000, "memoryMb": 64},
    })
    assert settings.model.base_url == "https://api.groq.com/openai/v1"
    assert settings.model.api_key == "sk-secret"
    assert "sk-secret" not in repr(settings.model)
    assert settings.generation.temperature == 0.3
    assert (settings.limits.max_steps, settings.limits.max_wall_clock_s) == (5, 60.0)
    assert (settings.sandbox.timeout_ms, settings.sandbox.memory_mb) == (2000, 64)


def test_plain_openai_compatible_endpoint_and_ollama() -> None:
    openai = RunSettings.from_page({"provider": "openai", "baseUrl": "http://127.0.0.1:9/v1", "model": "m"})
    assert (openai.model.provider, openai.model.base_url) == ("openai", "http://127.0.0.1:9/v1")
    ollama = RunSettings.from_page({"provider": "ollama", "model": "qwen", "baseUrl": "http://127.0.0.1:11434",
                                    "numCtx": 16384})
    assert (ollama.model.provider, ollama.model.num_ctx) == ("ollama", 16384)


def test_demo_needs_no_model() -> None:
    settings = RunSettings.from_page({"demo": "compute"})
    assert settings.model is None and settings.demo == "compute"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"baseUrl": "http://x/v1"}, "model"),
        ({"model": "m"}, "baseUrl"),
        ({"model": "m", "baseUrl": "http://x", "temperature": "hot"}, "temperature"),
        ({"model": "m", "baseUrl": "http://x", "limits": {"maxSteps": 0}}, "maxSteps"),
        ({"model": "m", "baseUrl": "http://x", "limits": {"maxSteps": 2.5}}, "maxSteps"),
        ({"model": "m", "baseUrl": "http://x", "limits": []}, "limits"),
        ({"model": "m", "baseUrl": "http://x", "sandbox": {"memoryMb": True}}, "memoryMb"),
        ({"model": "m", "baseUrl": "http://x", "extraHeaders": {"X": 1}}, "extraHeaders"),
    ],
)
def test_bad_settings_name_the_field(data: dict, field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RunSettings.from_page(data)
    assert caught.value.field == field


def test_bad_url_and_unknown_preset_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="http"):
        RunSettings.from_page({"model": "m", "baseUrl": "ftp://x"})
    with pytest.raises(ConfigError, match="unknown preset"):
        RunSettings.from_page({"model": "m", "preset": "nope"})
    with pytest.raises(ConfigError, match="must be an object"):
        RunSettings.from_page(["not", "a", "dict"])  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "expected"), [
    (None, ""), ("", ""), ("json, re  math", "json, re, math"), (["json", "os.path", "json"], "json, os.path"),
    ("json, *", "*"),
])
def test_allowed_imports_is_the_import_policy(value, expected) -> None:  # noqa: ANN001
    sandbox = {} if value is None else {"allowedImports": value}
    assert RunSettings.from_page({"demo": "compute", "sandbox": sandbox}).sandbox.allowed_imports == expected


@pytest.mark.parametrize("value", ["json; import os", ["json", 3], 5])
def test_allowed_imports_must_be_module_names(value) -> None:  # noqa: ANN001
    with pytest.raises(ConfigError) as err:
        RunSettings.from_page({"demo": "compute", "sandbox": {"allowedImports": value}})
    assert err.value.field == "allowedImports"


def test_the_response_cache_is_opt_in_and_wraps_every_live_model() -> None:
    from agent_py.models import CachingModel, ModelClient

    plain = RunSettings.from_page({"model": "m", "baseUrl": "http://127.0.0.1:9/v1"})
    cached = RunSettings.from_page({"model": "m", "baseUrl": "http://127.0.0.1:9/v1", "cache": True})
    assert plain.cache is False and isinstance(plain.model_client(plain.model), ModelClient)
    assert isinstance(cached.model_client(cached.model), CachingModel)
    with pytest.raises(ConfigError) as err:
        RunSettings.from_page({"model": "m", "baseUrl": "http://127.0.0.1:9/v1", "cache": "yes"})
    assert err.value.field == "cache"
