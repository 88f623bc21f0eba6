"""Headless runner: the real page in headless Chromium, driven from a terminal.

    python -m agent_py run "What is the 20th Fibonacci number?" --provider ollama --model qwen2.5-coder:7b
        --base-url http://127.0.0.1:11434 [--json run.json]
    python -m agent_py run --demo compute                 # a recorded demo, no model needed
    python -m agent_py batch tasks.jsonl --base-url ... --model ... --out results.jsonl

It starts the local server, opens the page in Chromium via Playwright, runs the task in the page's agent worker
(the same code path as a person clicking Run), prints the events as they happen, then the final answer.
Exit status: 0 with a final answer, 1 when the run stopped without one, 2 on a usage or set-up error.
The API key is read from an environment variable (--api-key-env), never from the command line, and never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from codeact_host.build import build
from codeact_host.chromium import CHROMIUM, CHROMIUM_ARGS
from codeact_host.paths import REPO_ROOT
from codeact_host.server import serving

READY = "window.codeact && document.body.dataset.pythonReady === 'true'"


class EventPrinter:
    """Turns run events into terminal lines: one per step phase, code and observations indented."""

    def __init__(self, stream=sys.stderr, verbose: bool = False) -> None:
        self.stream = stream
        self.verbose = verbose
        self.color = stream.isatty()
        self._deltas = 0

    def _line(self, text: str, code: str = "0") -> None:
        if self.color:
            text = f"\033[{code}m{text}\033[0m"
        print(text, file=self.stream, flush=True)

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("type", "?")
        step = event.get("step", "")
        if kind == "ModelDelta":
            self._deltas += 1
            if self.verbose:
                print(event.get("text", ""), end="", file=self.stream, flush=True)
            return
        if kind == "CodeReady":
            self._line(f"── step {step}: code", "36")
            for line in str(event.get("code", "")).splitlines()[:40]:
                self._line(f"   {line}", "2")
        elif kind == "Observation":
            self._line(f"── step {step}: output", "33")
            for line in str(event.get("stdout") or "(no output)").splitlines()[:20]:
                self._line(f"   {line}")
            if event.get("error"):
                self._line(f"   {event['error'].get('type')}: {event['error'].get('message')}", "31")
        elif kind == "ToolCall":
            self._line(f"   tool {event.get('tool')}({json.dumps(event.get('arguments'))[:120]})", "35")
        elif kind == "FinalAnswer":
            self._line(f"── final answer (step {step})", "32;1")
        elif kind == "RunError":
            error = event.get("error") or {}
            self._line(f"── error: {error.get('type')}: {error.get('message')}", "31;1")
            if error.get("fix"):
                self._line(f"   how to fix: {error['fix']}", "31")
        elif kind == "RunFinished":
            self._line(f"── run finished: {event.get('status', '')} {event.get('stop_reason', '') or ''}", "1")
        elif kind == "UsageUpdate" and self.verbose:
            self._line(f"   tokens: {event.get('usage')}", "2")


def _settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "provider": args.provider,
        "preset": args.preset,
        "baseUrl": args.base_url,
        "model": args.model,
        "temperature": args.temperature,
        "limits": {"maxSteps": args.max_steps, "maxWallClockS": args.max_seconds},
    }
    if args.api_key_env:
        key = os.environ.get(args.api_key_env)
        if not key:
            raise SystemExit(f"error: environment variable {args.api_key_env} is empty")
        settings["apiKey"] = key
    if args.demo:
        settings["demo"] = args.demo
    return settings


# One evaluate per run: subscribe, start, stream each event out through the exposed function, resolve at the end.
RUN_IN_PAGE = """([task, settings, timeoutMs]) => new Promise((resolve) => {
  const events = [];
  const runId = window.codeact.agent.startRun(task, settings);
  const finish = () => { unsubscribe(); clearTimeout(timer); resolve(events); };
  const unsubscribe = window.codeact.agent.onEvent((event) => {
    if (event.run_id !== runId) return;
    events.push(event);
    window.__codeactCliEvent(event);
    if (event.type === "RunFinished") finish();
  });
  // Past the deadline: Stop (the run then ends itself as cancelled); give up waiting 5 s later.
  const timer = setTimeout(() => { window.codeact.agent.stopRun(runId); setTimeout(finish, 5000); }, timeoutMs);
})"""


def run_tasks(tasks: list[str], settings: dict[str, Any], *, on_event, timeout_s: float,
              chromium: str | None = None) -> list[dict[str, Any]]:
    """Run each task in one page, one after another; returns each run's events and its RunFinished event."""
    from playwright.sync_api import sync_playwright

    build()
    results: list[dict[str, Any]] = []
    with serving(REPO_ROOT) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium or CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.expose_function("__codeactCliEvent", on_event)
            page.goto(base_url)
            page.wait_for_function(READY, timeout=120_000)
            for task in tasks:
                events = page.evaluate(RUN_IN_PAGE, [task, settings, int(timeout_s * 1000)])
                finished = next((e for e in reversed(events) if e.get("type") == "RunFinished"), None)
                results.append({"task": task, "finished": finished, "events": events})
        finally:
            browser.close()
    return results


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", default="openai", choices=["openai", "ollama"])
    parser.add_argument("--preset", default=None, help="openai, vllm, lmstudio, llamacpp, openrouter, groq, ...")
    parser.add_argument("--base-url", default="", help="e.g. http://127.0.0.1:11434 or https://.../v1")
    parser.add_argument("--model", default="")
    parser.add_argument("--api-key-env", default=None, help="name of the environment variable holding the key")
    parser.add_argument("--temperature", type=float, default=0.2)
    parser.add_argument("--max-steps", type=int, default=12)
    parser.add_argument("--max-seconds", type=float, default=300)
    parser.add_argument("--demo", default=None, help="run a recorded demo trace instead of a model")
    parser.add_argument("--chromium", default=None, help="path to Chromium (default: /usr/bin/chromium)")
    parser.add_argument("-v", "--verbose", action="store_true", help="stream the model's text too")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent_py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="run one task and print its final answer")
    run_parser.add_argument("task", nargs="?", default="")
    run_parser.add_argument("--json", type=Path, default=None, help="write the run's events as JSON here")
    _add_model_args(run_parser)
    batch_parser = sub.add_parser("batch", help="run every task of a JSONL file ({\"task\": ...} per line)")
    batch_parser.add_argument("tasks", type=Path)
    batch_parser.add_argument("--out", type=Path, required=True, help="JSONL results, one line per task")
    _add_model_args(batch_parser)
    args = parser.parse_args(argv)

    if args.command == "run" and not args.task and not args.demo:
        parser.error("give a task, or --demo NAME")
    if not args.demo and not (args.base_url and args.model):
        parser.error("--base-url and --model are needed (or --demo NAME)")
    settings = _settings_from_args(args)
    printer = EventPrinter(verbose=args.verbose)
    timeout_s = args.max_seconds + 60

    if args.command == "run":
        [result] = run_tasks([args.task], settings, on_event=printer, timeout_s=timeout_s, chromium=args.chromium)
        if args.json:
            args.json.write_text(json.dumps(result, indent=1))
        finished = result["finished"] or {}
        if finished.get("status") == "finished":
            answer = finished.get("final_answer")
            print(answer if isinstance(answer, str) else json.dumps(answer))
            return 0
        print(f"no final answer: {finished.get('status', 'timed out')} ({finished.get('stop_reason', '')})"
              + (f"\n{finished['summary']}" if finished.get("summary") else ""), file=sys.stderr)
        return 1

    tasks = [json.loads(line)["task"] for line in args.tasks.read_text().splitlines() if line.strip()]
    results = run_tasks(tasks, settings, on_event=printer, timeout_s=timeout_s, chromium=args.chromium)
    with args.out.open("w") as out:
        for result in results:
            finished = result["finished"] or {}
            out.write(json.dumps({"task": result["task"], "status": finished.get("status"),
                                  "final_answer": finished.get("final_answer"),
                                  "steps": finished.get("steps"), "usage": finished.get("usage")}) + "\n")
    return 0 if all((r["finished"] or {}).get("status") == "finished" for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
