"""Team runs from Settings: the mode, and in planner mode the planner's own model config (another provider, key)."""

from __future__ import annotations

import pytest

from agent_py.errors import ConfigError
from agent_py.settings import RunSettings
from agent_py.team_session import team_models

MAIN = {"provider": "openai", "baseUrl": "http://127.0.0.1:9/v1", "model": "coder", "apiKey": "main-key"}


def test_planner_mode_has_a_model_of_its_own() -> None:
    settings = RunSettings.from_page({**MAIN, "mode": "planner", "planner": {
        "preset": "ollama", "baseUrl": "http://127.0.0.1:11434", "model": "thinker", "apiKey": "planner-key"}})
    assert settings.mode == "planner"
    assert (settings.planner.provider, settings.planner.model, settings.planner.api_key) == (
        "ollama", "thinker", "planner-key")
    assert (settings.model.model, settings.model.api_key) == ("coder", "main-key")
    models = team_models(settings, "planner")
    assert models["planner"].config.model == "thinker" and models["implementer"].config.model == "coder"


def test_single_and_two_sandboxes_need_no_planner() -> None:
    assert RunSettings.from_page(MAIN).mode == "single"
    settings = RunSettings.from_page({**MAIN, "mode": "two_sandboxes", "planner": {"model": ""}})
    assert settings.planner is None
    assert team_models(settings, "two_sandboxes")["processing"].config.model == "coder"


@pytest.mark.parametrize(("data", "field"), [
    ({**MAIN, "mode": "swarm"}, "mode"),
    ({**MAIN, "mode": "planner"}, "planner.model"),
    ({**MAIN, "mode": "planner", "planner": {"model": "m"}}, "planner.baseUrl"),
    ({**MAIN, "mode": "planner", "planner": "thinker"}, "planner"),
])
def test_bad_team_settings_name_the_field(data: dict, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        RunSettings.from_page(data)
    assert info.value.field == field


def test_a_demo_keeps_its_recorded_models() -> None:
    models = team_models(RunSettings.from_page({"demo": "planner"}), "planner")
    assert {type(m).__name__ for m in models.values()} == {"ReplayModel"}


def test_managed_mode_uses_the_main_model_and_a_helper_step_budget() -> None:
    settings = RunSettings.from_page({**MAIN, "mode": "managed", "helperMaxSteps": 3})
    assert (settings.mode, settings.helper_max_steps) == ("managed", 3)
    assert RunSettings.from_page({**MAIN, "mode": "managed"}).helper_max_steps == 5
    assert team_models(settings, "managed")["manager"].config.model == "coder"
    with pytest.raises(ConfigError) as caught:
        RunSettings.from_page({**MAIN, "mode": "managed", "helperMaxSteps": 0})
    assert caught.value.field == "helperMaxSteps"
