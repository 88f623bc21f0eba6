"""Helpers for the page's UI tests (tests/browser/test_ui_*.py).

Most UI tests do not need Python: `ui_page` holds back Pyodide's wasm, so the agent worker never finishes booting
(and never burns a core), and drives the page through `window.codeact.ui.renderEvent`, the same path the worker's
events take. Messages the page posts to the worker are recorded by `spy_on_worker`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHOTS = Path(__file__).resolve().parents[2] / "test-results"
UI_READY = "document.body.dataset.uiReady === 'true'"
PYTHON_READY = "document.body.dataset.pythonReady === 'true'"
# Start a run from the page's API and keep its events in window.__runs[runId]; FINISHED waits for its end.
START_RUN = """([task, settings]) => {
  window.__runs = window.__runs || {};
  const events = [];
  const runId = window.codeact.agent.startRun(task, settings);
  window.__runs[runId] = events;
  window.codeact.agent.onEvent((e) => { if (e.run_id === runId) events.push(e); });
  return runId;
}"""
RUN_FINISHED = "id => (window.__runs[id] || []).some(e => e.type === 'RunFinished')"


@pytest.fixture
def ui_page(page, app_url):  # noqa: ANN001 - pytest-playwright's Page
    """The page with its UI wired and Python held back (the wasm request never answers)."""
    page.route("**/pyodide.asm.wasm", lambda route: None)
    page.goto(app_url)
    page.wait_for_function(UI_READY)
    return page


def spy_on_worker(page) -> None:  # noqa: ANN001
    """Record every message the page posts to the agent worker in `window.__posted` (structured-clone copies)."""
    page.evaluate("""() => {
      window.__posted = [];
      const worker = window.codeact.agent.worker;
      const post = worker.postMessage.bind(worker);
      worker.postMessage = (message, transfer) => {
        window.__posted.push(structuredClone(message));
        return post(message, transfer);
      };
    }""")


def posted(page, kind: str) -> list[dict]:  # noqa: ANN001
    return page.evaluate("(kind) => window.__posted.filter((m) => m.type === kind)", kind)


def reply_from_worker(page, message: dict) -> None:  # noqa: ANN001
    """Deliver `message` to the page as if the agent worker had posted it."""
    page.evaluate("(data) => window.codeact.agent.worker.onmessage({ data })", message)


def render(page, *events: dict) -> None:  # noqa: ANN001
    page.evaluate("(events) => events.forEach((e) => window.codeact.ui.renderEvent(e))", list(events))


def scripted_run(run_id: str = "run-1", task: str = "Sum the squares of 1..10", *, settings: dict | None = None,
                 finish: bool = True) -> list[dict]:
    """The events of a two-step run as agent_py/events.py emits them: code, output, an error, a chart, a table."""
    events = [
        {"type": "RunStarted", "run_id": run_id, "step": 0, "ts": 1.0, "task": task, "settings": settings or {},
         "resumed": False},
        {"type": "StepStarted", "run_id": run_id, "step": 1, "ts": 1.1},
        {"type": "ModelDelta", "run_id": run_id, "step": 1, "ts": 1.2, "text": "I will compute it.\n```py"},
        {"type": "ModelDelta", "run_id": run_id, "step": 1, "ts": 1.3, "text": "thon\nprint(sum(i*i for i in range(11)))"},
        {"type": "UsageUpdate", "run_id": run_id, "step": 1, "ts": 1.4,
         "step_usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200},
         "total": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}, "cached": False},
        {"type": "CodeReady", "run_id": run_id, "step": 1, "ts": 1.5, "thought": "I will **compute** it.",
         "code": "def square(i):\n    return i * i\nprint(sum(square(i) for i in range(11)))", "notes": []},
        {"type": "ExecutionStarted", "run_id": run_id, "step": 1, "ts": 1.6, "sandbox": "main"},
        {"type": "Observation", "run_id": run_id, "step": 1, "ts": 1.7, "observation": "385", "stdout": "385\n",
         "error": None, "duration_ms": 42.0, "restored": False},
        {"type": "StepFinished", "run_id": run_id, "step": 1, "ts": 1.8,
         "record": {"step": 1, "model_output": "...", "code": "print(385)", "status": "done", "model_ms": 1234.0,
                    "usage": {"total_tokens": 1200}}},
        {"type": "StepStarted", "run_id": run_id, "step": 2, "ts": 2.0},
        {"type": "CodeReady", "run_id": run_id, "step": 2, "ts": 2.1, "thought": "Chart it.",
         "code": "show_chart({'squares': [0, 1, 4, 9]}, kind='bar')\nundefined_name", "notes": []},
        {"type": "ExecutionStarted", "run_id": run_id, "step": 2, "ts": 2.2, "sandbox": "main"},
        {"type": "Display", "run_id": run_id, "step": 2, "ts": 2.3, "kind": "chart", "title": "Squares",
         "chart": "bar", "x": [0, 1, 2, 3], "series": {"squares": [0, 1, 4, 9]}},
        {"type": "Display", "run_id": run_id, "step": 2, "ts": 2.35, "kind": "table", "title": "Squares",
         "columns": ["i", "i²"], "rows": [[1, 1], [2, 4], [3, "<b>9</b>"]]},
        {"type": "Observation", "run_id": run_id, "step": 2, "ts": 2.4, "observation": "NameError", "stdout": "",
         "error": {"type": "NameError", "message": "name 'undefined_name' isn't defined", "traceback": []},
         "duration_ms": 1500.0, "restored": False},
        {"type": "UsageUpdate", "run_id": run_id, "step": 2, "ts": 2.5,
         "step_usage": {"prompt_tokens": 1500, "completion_tokens": 300, "total_tokens": 1800},
         "total": {"prompt_tokens": 2500, "completion_tokens": 500, "total_tokens": 3000}, "cached": False},
        {"type": "StepFinished", "run_id": run_id, "step": 2, "ts": 2.6,
         "record": {"step": 2, "code": "undefined_name", "status": "done", "model_ms": 800.0}},
    ]
    if finish:
        events += [
            {"type": "FinalAnswer", "run_id": run_id, "step": 2, "ts": 2.7,
             "value": "The sum is **385**.\n\n| n | sum |\n|---|---|\n| 10 | 385 |"},
            {"type": "RunFinished", "run_id": run_id, "step": 2, "ts": 2.8, "status": "finished",
             "stop_reason": "final_answer", "final_answer": "The sum is 385.", "summary": "", "steps": 2,
             "usage": {"prompt_tokens": 2500, "completion_tokens": 500, "total_tokens": 3000}},
        ]
    return events
