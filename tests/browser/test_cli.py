"""The headless CLI runs a task in the real page and exits by the outcome."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from codeact_host.paths import REPO_ROOT

pytestmark = pytest.mark.browser


def test_cli_runs_the_recorded_demo_and_prints_the_answer(tmp_path, vendored_runtime) -> None:
    out = tmp_path / "run.json"
    result = subprocess.run([sys.executable, "-m", "agent_py", "run", "--demo", "compute", "--json", str(out)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("15 years between 2000 and 2100")
    assert "step 1: code" in result.stderr and "final answer" in result.stderr
    events = json.loads(out.read_text())["events"]
    assert events[-1]["type"] == "RunFinished" and events[-1]["status"] == "finished"


def test_cli_exits_nonzero_with_the_typed_error_when_the_endpoint_is_down(vendored_runtime) -> None:
    result = subprocess.run([sys.executable, "-m", "agent_py", "run", "2+2?", "--provider", "ollama",
                             "--base-url", "http://127.0.0.1:9", "--model", "m", "--max-seconds", "60"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "ModelConnectError" in result.stderr or "CorsError" in result.stderr
    assert "OLLAMA_ORIGINS" in result.stderr
