"""Fuzzing run and trace import (SECURITY-CASES 25): a stored or imported run is data from disk or a file the user
picked; any JSON is either a RunRecord / ReplayModel or a ConfigError saying what is wrong, never a crash."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_py.errors import ConfigError
from agent_py.memory import RunRecord
from agent_py.replay import ReplayModel
from tests.tally import tally

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10)
steps = st.fixed_dictionaries({"step": json_values | st.integers(0, 9)}, optional={
    "status": json_values | st.sampled_from(["done", "running", "interrupted"]), "model_output": json_values,
    "code": json_values, "error": json_values, "usage": json_values, "tool_calls": json_values})
runs = st.fixed_dictionaries({"run_id": json_values | st.text(max_size=5), "task": json_values | st.text(max_size=5)},
                             optional={"steps": json_values | st.lists(steps | json_values, max_size=3),
                                       "status": json_values | st.sampled_from(["finished", "running"]),
                                       "settings": json_values, "usage_total": json_values, "replies": json_values})


@settings(max_examples=1500, deadline=None)
@given(runs | json_values)
def test_any_stored_run_loads_or_is_a_config_error(data: Any) -> None:
    tally("fuzz inputs: run import")
    try:
        record = RunRecord.from_dict(data)
    except ConfigError as err:
        assert err.message
        return
    assert isinstance(record.run_id, str) and isinstance(record.task, str)
    assert RunRecord.from_dict(record.to_dict()).to_dict() == record.to_dict()  # what loads, round-trips


@settings(max_examples=1000, deadline=None)
@given(runs | json_values)
def test_any_trace_replays_or_is_a_config_error(data: Any) -> None:
    tally("fuzz inputs: trace import")
    try:
        model = ReplayModel.from_trace(data)
    except ConfigError as err:
        assert err.message
        return
    assert all(isinstance(reply, str) for reply in model.replies)
