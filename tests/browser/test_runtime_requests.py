"""Page requests answered by the worker's Python runtime: typed replies, never a hang."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_connection_lists_the_endpoints_models(ready_page, model_server) -> None:
    settings = {"provider": "openai", "baseUrl": model_server.url + "/v1", "model": "scripted-model"}
    value = ready_page.evaluate("(s) => window.codeact.agent.request('test-connection', {settings: s})", settings)
    assert value["model_listed"] is True and "scripted-coder" in value["models"]


def test_connection_failure_is_a_typed_error_with_a_fix(ready_page) -> None:
    settings = {"provider": "ollama", "baseUrl": "http://127.0.0.1:9", "model": "qwen"}
    error = ready_page.evaluate("""(s) => window.codeact.agent.request('test-connection', {settings: s})
        .then(() => null, (e) => e.detail)""", settings)
    assert error["type"] in {"ModelConnectError", "CorsError"}
    assert "OLLAMA_ORIGINS" in error["fix"]


def test_bad_settings_name_the_field(ready_page) -> None:
    error = ready_page.evaluate("""() => window.codeact.agent.request('test-connection', {settings: {model: 'm'}})
        .then(() => null, (e) => e.detail)""")
    assert error == {"type": "ConfigError", "message": error["message"], "field": "baseUrl"}


def test_log_level_can_be_set_and_is_checked(ready_page) -> None:
    assert ready_page.evaluate("window.codeact.agent.request('set-log-level', {level: 'debug'})") == {"level": "debug"}
    error = ready_page.evaluate("""() => window.codeact.agent.request('set-log-level', {level: 'loud'})
        .then(() => null, (e) => e.detail)""")
    assert error["type"] == "ValueError"
