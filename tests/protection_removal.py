"""Take each protection out, once, and watch its test fail (issue #9: every case has a test that catches a removal).

    .venv/bin/python -m tests.protection_removal                 # the whole table (30-45 min on 2 loaded cores)
    .venv/bin/python -m tests.protection_removal --case 7 --case 20
    .venv/bin/python -m tests.protection_removal --list          # the table, each snippet checked, nothing run

A protection is an exact snippet of source that does the protecting, and a minimal replacement that disables it
(skip a check, drop a CSP directive, return early). For each one the harness:

1. checks the snippet occurs exactly once in its file: otherwise the entry is *stale* (the code moved on and the
   table must follow), reported as such, never as a pass;
2. copies the repository to a temporary directory (tracked files and the vendored runtime; the .venv, the
   pyodide-build venv and node_modules are linked, only read) and applies the mutation there: the real tree is never
   touched, and the copy is removed even on Ctrl-C;
3. rebuilds the vendored runtime there when the file is under agent_py/ or wasm_sandbox/ (what `make vendor` runs:
   `python -m codeact_host.build`, which rebuilds the agent wheel and the sandbox frame; the tests load that build);
4. runs the entry's tests with `-x -q -p no:cacheprovider` from the copy, where `agent_py` and `codeact_host` are
   imported from (the current directory comes first on sys.path, before the editable install's finder);
5. records *caught* when they fail (or hang past the entry's time limit: a test that never finishes does not pass),
   *MISSED* when they pass, *error* when they could not run (a build failure, a node id that collects nothing).

Results go to tests/protection_removal.json, like bench/results.json: the machine, the total time, one entry per
protection with its outcome, the first failure line as evidence, and seconds. `--baseline` runs the same tests on
an unmutated copy instead, to show they pass there (a test that fails anyway proves nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "tests" / "protection_removal.json"
# Linked into the copy, never written there: the build writes into static/vendor/ (copied), not these.
LINKED = (".venv", ".venv-build", "node_modules")
SKIPPED = {".git", "dist", "build", ".pytest_cache", "__pycache__", *LINKED}
REBUILT_UNDER = ("agent_py/", "wasm_sandbox/", "codeact_host/sandbox_build.py", "codeact_host/build.py")
DEFAULT_LIMIT_S = 600

U = "tests/unit/"
B = "tests/browser/"


class StaleProtection(Exception):
    """The entry's snippet is not in its file exactly once: the table no longer matches the code."""


@dataclass(frozen=True, slots=True)
class Protection:
    case: int
    name: str
    file: str
    snippet: str
    replacement: str
    tests: tuple[str, ...]
    limit_s: int = DEFAULT_LIMIT_S  # past this the run is stopped and counted as caught (the test hung)


P = Protection
PROTECTIONS: list[Protection] = [
    # --- 1-5: limits of the sandbox ---------------------------------------------------------------------------
    P(1, "the frame's deadline kills a running cell", "wasm_sandbox/frame.js",
      "if (done || holds > 0) return;\n        // The watchdog's clock",
      "if (true) return;\n        // The watchdog's clock",
      (B + "test_sandbox.py::test_timeouts_kill_at_the_deadline_and_restore[isolated-chromium-busy_loop]",),
      limit_s=300),
    P(2, "the deadline is the session's timeoutMs (a sleeping cell, a tool that never answers)",
      "wasm_sandbox/frame.js",
      "let deadline = started + session.options.timeoutMs;", "let deadline = started + 3_600_000;",
      (B + "test_sandbox.py::test_timeouts_kill_at_the_deadline_and_restore[plain-chromium-sleep]",),
      limit_s=300),
    P(3, "the worker refuses heap growth past the memory cap", "wasm_sandbox/worker_runtime.js",
      "if (this.buffer.byteLength + pages * PAGE > capBytes) {", "if (false) {",
      (B + "test_sandbox.py::test_memory_bombs[isolated-chromium]",)),
    P(3, "a cell that caught a MemoryError is never replayed", "wasm_sandbox/frame.js",
      "const entry = { code, async: Boolean(isAsync), toolResults: result.toolResults, skip };",
      "const entry = { code, async: Boolean(isAsync), toolResults: result.toolResults, skip: null };",
      (B + "test_sandbox.py::test_cells_that_caught_a_memory_error_are_not_replayed[isolated-chromium]",)),
    # Not the pystack size: at 64 M words MicroPython's own C-stack check raises the same RuntimeError (seen MISSED).
    P(4, "the runner reports what the cell raised (recursion depth too) as the cell's error", "wasm_sandbox/prelude.py",
      "except BaseException as exc:  # noqa: B036 - every failure of the cell is the model's",
      "except KeyboardInterrupt as exc:  # noqa: B036 - every failure of the cell is the model's",
      (B + "test_sandbox.py::test_deep_recursion_is_a_runtime_error[isolated-chromium]",)),
    P(5, "stdout is capped to head + tail with a marker", "wasm_sandbox/worker_runtime.js",
      "  outputLimit = options.outputLimit ?? 20000;\n  stdout = new CappedOutput(outputLimit);",
      "  outputLimit = options.outputLimit ?? 20000;\n  stdout = new CappedOutput(32 * 1024 * 1024);",
      (B + "test_sandbox.py::test_ten_megabytes_of_output_is_truncated_with_a_marker[isolated-chromium]",)),
    P(5, "the observation is cut in the middle to its limit", "agent_py/prompts.py",
      "output = truncate_middle(output, output_limit)", "output = output",
      (U + "test_parsing_prompts_memory.py::test_observation_escapes_markers_and_fences_and_truncates",)),
    # --- 6-10: isolation ---------------------------------------------------------------------------------------
    P(6, "the sandbox iframe is sandboxed without allow-same-origin (opaque origin)", "wasm_sandbox/embed.mjs",
      'frame.setAttribute("sandbox", "allow-scripts");',
      'frame.setAttribute("sandbox", "allow-scripts allow-same-origin");',
      (B + "test_sandbox_escape.py::test_no_way_out_reaches_a_canary_or_a_secret[isolated-chromium]",)),
    P(7, "the frame's CSP: default-src 'none', connect-src 'none'", "codeact_host/sandbox_build.py",
      "\"default-src 'none'; base-uri 'none'; form-action 'none'; \"\n"
      "    \"script-src 'sha256-{hash}' 'wasm-unsafe-eval'; worker-src blob:; connect-src 'none'\"",
      "\"base-uri 'none'; form-action 'none'; \"\n"
      "    \"script-src 'sha256-{hash}' 'wasm-unsafe-eval'; worker-src blob:\"",
      (B + "test_sandbox_escape.py::test_no_way_out_reaches_a_canary_or_a_secret[plain-chromium]",)),
    P(8, "opaque origin: no storage of the app's origin (plain hosting)", "wasm_sandbox/embed.mjs",
      'frame.setAttribute("sandbox", "allow-scripts");',
      'frame.setAttribute("sandbox", "allow-scripts allow-same-origin");',
      (B + "test_sandbox_escape.py::test_no_way_out_reaches_a_canary_or_a_secret[plain-chromium]",)),
    P(9, "the widget takes its port only from its parent window", "static/embed/bridge.mjs",
      'if (event.source !== win.parent) return reject("connect from a window that is not the parent");',
      "",
      (B + "test_widget_security.py::test_forged_messages_from_the_sandbox_frame_are_ignored",)),
    P(9, "the widget takes its port only from the configured host origin", "static/embed/bridge.mjs",
      "if (event.origin !== hostOrigin) return reject(`connect from ${event.origin}, not ${hostOrigin}`);", "",
      (B + "test_widget_security.py::test_a_host_of_another_origin_gets_no_hello_and_cannot_connect",)),
    P(10, "the frame ignores worker messages about another run id", "wasm_sandbox/frame.js",
      "if (!isObject(data) || data.runId !== runId) return;", "if (!isObject(data)) return;",
      (B + "test_sandbox_escape.py::test_forged_messages_fail_only_their_own_run[chromium-isolated]",)),
    P(10, "a crash between cells keeps the cell that left the crashing callback out of replay",
      "wasm_sandbox/frame.js",
      "entry.skip ??= `left code running that ${what} after the cell ended`;", "",
      (B + "test_escape_respawn.py::test_callbacks_left_behind_get_nothing_out_across_kills_replays_and_terminate"
       "[chromium-isolated]",)),
    P(2, "a file request to a worker that never answers times out (typed) and the worker is replaced",
      "wasm_sandbox/frame.js",
      "timer = setTimeout(() => {\n        handle.onStuck?.();",
      "timer = setTimeout(() => {\n        return;\n        handle.onStuck?.();",
      (B + "test_escape_respawn.py::test_a_callback_that_never_returns_times_file_requests_out_and_the_state_comes_back"
       "[chromium]",), limit_s=240),
    P(10, "the frame refuses a worker result over 4 MB", "wasm_sandbox/frame.js",
      "if (!isObject(data.result) || approxSize(data.result) > MAX_WORKER_MESSAGE) {",
      "if (!isObject(data.result)) {",
      (B + "test_sandbox_escape.py::test_forged_messages_fail_only_their_own_run[chromium-plain]",)),
    P(10, "widget messages over 1 MB are refused", "static/embed/protocol.mjs",
      "if (size > MAX_MESSAGE_BYTES) {", "if (false) {",
      (B + "test_widget_security.py::test_forged_host_messages_are_refused",)),
    P(10, "widget message types are looked up as own keys only", "static/embed/protocol.mjs",
      "Object.hasOwn(table, message.type) ? table[message.type] : undefined",
      "table[message.type]",
      (B + "test_fuzz_browser.py::test_widget_protocol_validators_refuse_or_pass_typed",)),
    # --- 11-14: tools and final_answer -------------------------------------------------------------------------
    P(11, "final_answer raises a BaseException", "wasm_sandbox/prelude.py",
      "class _FinalAnswerSignal(BaseException):", "class _FinalAnswerSignal(Exception):",
      (B + "test_sandbox.py::test_final_answer_survives_except_exception_and_base_exception[isolated-chromium]",)),
    P(12, "a failed tool call raises its own ToolError class in the sandbox", "wasm_sandbox/prelude.py",
      'raise _TOOL_ERRORS.get(error.get("type"), ToolError)(error.get("message", "the tool failed"))',
      'raise RuntimeError(error.get("message", "the tool failed"))',
      (B + "test_sandbox.py::test_tool_errors_are_error_name_and_message[isolated-chromium]",)),
    # Not error_reply's "ToolError" for other exceptions: the prelude maps an unknown type to ToolError anyway.
    P(12, "whatever a tool raises becomes a typed error reply (the call is recorded)", "agent_py/sandbox_tools.py",
      "except Exception as err:  # noqa: BLE001 - every failure becomes",
      "except ToolError as err:  # noqa: BLE001 - every failure becomes",
      (B + "test_sandbox.py::test_tool_errors_are_error_name_and_message[plain-chromium]",)),
    P(13, "arguments are checked against the schema before the tool runs", "agent_py/sandbox_tools.py",
      "arguments = check_arguments(tool, json.loads(args_json))", "arguments = json.loads(args_json)",
      (B + "test_sandbox.py::test_argument_errors_name_the_tool_and_signature[isolated-chromium]",)),
    P(13, "missing required arguments are refused", "agent_py/sandbox_tools.py",
      'missing = [name for name in tool.required if arguments.get(name) is None]', "missing = []",
      (U + "test_sandbox_tools.py::test_bad_arguments_name_the_tool_and_the_signature",)),
    P(14, "tool results must be JSON (no NaN, bytes, objects)", "agent_py/sandbox_tools.py",
      'return json.dumps({"ok": True, "value": _json_safe(value)}, allow_nan=False)',
      'return json.dumps({"ok": True, "value": value}, default=repr)',
      (U + "test_sandbox_tools.py::test_results_that_json_cannot_carry_are_tool_result_errors",
       B + "test_sandbox.py::test_non_json_results_are_tool_result_errors[isolated-chromium-nan]")),
    # --- 15-16: the model's side of the loop -------------------------------------------------------------------
    P(15, "no code is a ParseError that restates the format", "agent_py/parsing.py",
      'raise ParseError("Your reply had no code to run. " + FORMAT_REMINDER)',
      'raise ParseError("Your reply had no code to run.")',
      (U + "test_parsing_prompts_memory.py::test_no_code_is_a_parse_error_restating_the_format",
       U + "test_loop.py::test_a_reply_without_code_becomes_an_observation_restating_the_format")),
    P(15, "an unclosed last fence is taken to the end of the reply", "agent_py/parsing.py",
      r'(?:^[ \t]*```[ \t]*$|\Z)", re.DOTALL | re.MULTILINE)',
      r'(?:^[ \t]*```[ \t]*$)", re.DOTALL | re.MULTILINE)',
      (U + "test_parsing_prompts_memory.py::test_code_is_found_in_real_reply_shapes",)),
    P(16, "max steps", "agent_py/guardrails.py",
      "if steps >= self.limits.max_steps:", "if False:",
      (U + "test_loop.py::test_guardrails_stop_with_a_typed_reason_and_a_summary",)),
    P(16, "stagnation (the same code or error again and again)", "agent_py/guardrails.py",
      "return n > 1 and len(recent) == n and len(set(recent)) == 1", "return False",
      (U + "test_loop.py::test_guardrails_stop_with_a_typed_reason_and_a_summary",)),
    P(16, "wall clock", "agent_py/guardrails.py",
      "if now - self.started_at >= self.limits.max_wall_clock_s:", "if False:",
      (U + "test_loop.py::test_wall_clock_limit",)),
    # --- 17-22: the model endpoint -----------------------------------------------------------------------------
    P(17, "a refused connection is a typed ModelConnectError", "agent_py/models/client.py",
      "except httpx.ConnectError as err:\n            raise ModelConnectError(",
      "except httpx.ConnectError as err:\n            raise\n            raise ModelConnectError(",
      (U + "test_models_server.py::test_unreachable_server_is_a_connect_error_and_detect_says_none",)),
    P(17, "a reachable server that fails the fetch is a CorsError", "agent_py/models/transport_fetch.py",
      "if reachable:\n            return CorsError(", "if False:\n            return CorsError(",
      (B + "test_models_browser.py::test_cors_refusal_of_a_reachable_server_is_cors_error",)),
    P(18, "a stream that ends without its finish is a cut", "agent_py/models/client.py",
      "if not decoder.finished:", "if False:",
      (U + "test_models_client.py::test_clean_end_without_finish_is_a_cut",)),
    P(18, "a stream cut after text keeps it and is not retried", "agent_py/models/client.py",
      "if text or reasoning:\n                    err.add_fields(", "if False:\n                    err.add_fields(",
      (U + "test_models_client.py::test_cut_stream_after_text_keeps_partial_and_does_not_retry",)),
    P(19, "retryable errors (429, 5xx) are retried within the budget", "agent_py/models/retry.py",
      "if not error.retryable or retries_done >= self.max_retries:", "if True:",
      (U + "test_models_client.py::test_500_then_success_uses_exponential_backoff",
       U + "test_models_client.py::test_429_honours_retry_after_seconds_then_succeeds")),
    P(19, "Retry-After is honoured", "agent_py/models/retry.py",
      "return max(float(retry_after), backoff)", "return backoff",
      (U + "test_models_client.py::test_429_honours_retry_after_seconds_then_succeeds",)),
    P(20, "401 is not retried", "agent_py/errors.py",
      "class AuthError(ModelError):\n    pass", "class AuthError(ModelError):\n    retryable = True",
      (B + "test_models_browser.py::test_401_is_auth_error_without_retry",)),
    P(20, "a key the server echoes is redacted from the error", "agent_py/models/errormap.py",
      'return text.replace(secret, "[redacted]") if secret and len(secret) >= 4 else text', "return text",
      (U + "test_models_server.py::test_echoed_key_is_redacted_from_the_auth_error",)),
    P(21, "the key goes to sessionStorage unless 'remember' is ticked", "static/app/ui/keys.mjs",
      'const kind = remember ? "local" : "session";', 'const kind = "local";',
      (B + "test_ui.py::test_settings_persist_without_the_key_and_the_key_stays_in_session_storage",)),
    P(21, "redirects are not followed (the key stays with its origin)", "agent_py/models/client.py",
      "follow_redirects=False)", "follow_redirects=True)",
      (U + "test_models_client.py::test_redirect_is_not_followed",)),
    P(22, "a context-length 400 is a typed ContextOverflow", "agent_py/models/errormap.py",
      "if status not in (408,) and is_context_overflow(detail):", "if False:",
      (U + "test_models_client.py::test_context_overflow_from_each_provider",)),
    # --- 23-25: Stop, two runs, reload ---------------------------------------------------------------------------
    P(23, "Stop marks the running step interrupted", "agent_py/loop.py",
      'if step is not None and step.status == "running":\n                step.status = "interrupted"',
      'if False:\n                step.status = "interrupted"',
      (U + "test_loop.py::test_cancel_mid_model_call_marks_the_step_interrupted",)),
    P(24, "each run has a sandbox of its own", "agent_py/session.py",
      'BrowserSandbox.create(f"run-{run_id}",', 'BrowserSandbox.create("run-shared",',
      (B + "test_tools_in_runs.py::test_case_24_two_runs_at_once_keep_their_own_tools_and_gates",)),
    P(25, "a resumed run marks the cut step interrupted", "agent_py/loop.py",
      'if step.status in ("running", "interrupted"):', "if False:",
      (U + "test_loop.py::test_resume_keeps_finished_steps_and_marks_the_running_one_interrupted",)),
    # --- 26-28: untrusted text -----------------------------------------------------------------------------------
    P(26, "a third-party tool's output is labelled as data", "agent_py/prompts.py",
      "if untrusted_tools:", "if False:",
      (U + "test_run_tools.py::test_observations_of_untrusted_tools_are_fenced_and_labelled",)),
    P(26, "before_tool hooks (an approval) are asked before every tool call", "agent_py/sandbox_tools.py",
      'veto = await first_veto(gate.hooks, "before_tool", name, arguments)', "veto = None",
      (U + "test_hooks.py::test_an_injection_in_a_tool_result_is_fenced_data_and_an_approval_hook_still_refuses",)),
    P(27, "marker and fence look-alikes in output are escaped", "agent_py/prompts.py",
      'return _LOOKALIKE.sub(lambda m: m.group(0) + "\\u200b", text)', "return text",
      (U + "test_loop.py::test_sandbox_output_cannot_forge_an_observation_or_a_fence",
       U + "test_parsing_prompts_memory.py::test_observation_escapes_markers_and_fences_and_truncates")),
    P(28, "Markdown is sanitized by DOMPurify", "static/app/ui/markdown.mjs",
      "return DOMPurify.sanitize(html, CONFIG);",
      'const t = document.createElement("template");\n  t.innerHTML = html;\n  return t.content;',
      (B + "test_ui.py::test_markdown_from_the_model_is_sanitized",)),
    P(28, "remote images in Markdown are not loaded", "static/app/ui/markdown.mjs",
      'if (node.tagName === "IMG" && !SAFE_IMAGE.test(', 'if (false && !SAFE_IMAGE.test(',
      (B + "test_ui_timeline.py::test_markdown_in_answers_is_sanitized_and_nothing_leaves_loopback",)),
    # --- 29-30: long runs, storage -------------------------------------------------------------------------------
    P(29, "old steps are digested past the token budget", "agent_py/memory.py",
      "if used <= budget_tokens or len(steps) <= keep_last:", "if True:",
      (U + "test_loop.py::test_a_200_step_run_keeps_the_prompt_bounded",
       U + "test_parsing_prompts_memory.py::test_history_is_digested_past_the_budget")),
    P(30, "a failed IndexedDB write switches the history to memory", "static/app/ui/store.mjs",
      "fail(err); // quota or a dead connection: keep going in memory, and say so", "throw err;",
      (B + "test_ui_history.py::test_a_full_quota_switches_to_memory_and_says_so",)),
    P(30, "no IndexedDB: the history is kept in memory", "static/app/ui/store.mjs",
      "} catch (err) {\n    problem = describe(err);\n  }", "} catch (err) {\n    throw err;\n  }",
      (B + "test_ui_history.py::test_without_indexeddb_runs_still_work_and_the_user_is_told",)),
]


@dataclass(slots=True)
class Outcome:
    case: int
    name: str
    file: str
    tests: list[str]
    outcome: str  # caught | MISSED | stale | error
    seconds: float
    evidence: str = ""


def check_snippet(protection: Protection, root: Path = REPO) -> str:
    """The file's text, once the snippet is found there exactly once; else StaleProtection."""
    path = root / protection.file
    if not path.is_file():
        raise StaleProtection(f"{protection.file} does not exist")
    text = path.read_text()
    count = text.count(protection.snippet)
    if count != 1:
        raise StaleProtection(f"the snippet occurs {count} times in {protection.file}, not once: "
                              f"{protection.snippet.splitlines()[0][:80]!r}")
    if protection.snippet == protection.replacement:
        raise StaleProtection("the replacement is the snippet itself: nothing is taken out")
    return text


def _ignore(root: Path):  # noqa: ANN202 - shutil.copytree's ignore callable
    def ignore(directory: str, names: list[str]) -> list[str]:
        at_top = Path(directory).resolve() == root
        return [n for n in names if n in ("__pycache__", ".pytest_cache") or (at_top and n in SKIPPED)]
    return ignore


@contextmanager
def repo_copy() -> Iterator[Path]:
    """A throwaway copy of the repository; removed however the block ends (Ctrl-C included)."""
    parent = Path(tempfile.mkdtemp(prefix="protection-removal-"))
    try:
        copy = parent / "repo"
        shutil.copytree(REPO, copy, ignore=_ignore(REPO), symlinks=True)
        for name in LINKED:
            if (REPO / name).exists():
                (copy / name).symlink_to(REPO / name)
        yield copy
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def _run(command: list[str], cwd: Path, limit_s: float) -> tuple[int | None, str]:
    """Exit code (None past the limit) and the combined output; the whole process group is stopped on timeout."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env, start_new_session=True)
    try:
        out, _ = process.communicate(timeout=limit_s)
        return process.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        return None, out
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


_FAILED = re.compile(r"^(FAILED|ERROR) .*$", re.MULTILINE)
_ASSERT = re.compile(r"^E +(.+)$", re.MULTILINE)


def _evidence(output: str) -> str:
    """The first `E` line and the short summary line of a failing pytest run."""
    parts = [m.group(1).strip() for m in _ASSERT.finditer(output)][:1]
    parts += [m.group(0) for m in _FAILED.finditer(output)][:1]
    return " | ".join(parts)[:400] or output.strip().splitlines()[-1][:400] if output.strip() else ""


def run_one(protection: Protection, *, baseline: bool = False) -> Outcome:
    started = time.monotonic()

    def done(outcome: str, evidence: str = "") -> Outcome:
        return Outcome(protection.case, protection.name, protection.file, list(protection.tests), outcome,
                       round(time.monotonic() - started, 1), evidence)

    try:
        text = check_snippet(protection)
    except StaleProtection as err:
        return done("stale", str(err))
    with repo_copy() as copy:
        if not baseline:
            target = copy / protection.file
            target.unlink()  # a new file, in case anything in the copy were a link to the real tree
            target.write_text(text.replace(protection.snippet, protection.replacement))
        if protection.file.startswith(REBUILT_UNDER):
            code, out = _run([sys.executable, "-m", "codeact_host.build"], copy, 600)
            if code != 0:
                return done("error", "the build failed: " + out.strip()[-300:])
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *protection.tests]
        code, out = _run(command, copy, protection.limit_s)
    if code is None:
        return done("caught", f"the tests did not finish within {protection.limit_s} s (stopped)")
    if code == 0:
        return done("passed" if baseline else "MISSED")
    if code == 1:
        return done("failed" if baseline else "caught", _evidence(out))
    return done("error", f"pytest exit {code}: {out.strip()[-300:]}")


def _machine() -> dict[str, object]:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}


def _write(results: list[Outcome], total_s: float, path: Path) -> None:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    document = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": "python -m tests.protection_removal " + " ".join(sys.argv[1:]),
        "machine": _machine(),
        "total_seconds": round(total_s, 1),
        "counts": counts,
        "cases_covered": sorted({r.case for r in results if r.outcome == "caught"}),
        "entries": [asdict(r) for r in results],
    }
    path.write_text(json.dumps(document, indent=1) + "\n")


def markdown(path: Path = RESULTS) -> str:
    """The results as the table of docs/SECURITY-CASES.md: case, protection removed, the test that caught it."""
    document = json.loads(path.read_text())
    rows = ["| # | protection removed (file) | outcome | test that caught it |", "|---|---|---|---|"]
    for e in document["entries"]:
        failed = [t for t in e["tests"] if re.search(rf"(FAILED|ERROR) {re.escape(t)}(\[| |$)", e["evidence"])]
        shown = failed[:1] or e["tests"]
        if e["outcome"] == "caught" and "did not finish" in e["evidence"]:
            shown = [f"{t} (hung: stopped at the time limit)" for t in shown]
        tests = ", ".join(f"`{t.removeprefix('tests/')}`" for t in shown)
        rows.append(f"| {e['case']} | {e['name']} (`{e['file']}`) | {e['outcome']} | {tests} |")
    counts = ", ".join(f"{n} {k}" for k, n in document["counts"].items())
    summed = sum(e["seconds"] for e in document["entries"]) / 60
    return (f"{len(document['entries'])} entries over {len(document['cases_covered'])} cases: {counts}; "
            f"{summed:.0f} min of entries on {document['machine']['cpus']} cores (last written "
            f"{document['generated']}).\n\n" + "\n".join(rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", type=int, action="append", help="only this case (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the table and check each snippet; run nothing")
    parser.add_argument("--baseline", action="store_true", help="run the tests on an unmutated copy instead")
    parser.add_argument("--out", type=Path, default=None, help=f"results file (default {RESULTS.name}; "
                        "a --case or --baseline run writes nothing unless given)")
    parser.add_argument("--update", action="store_true",
                        help=f"with --case: replace those cases' entries in {RESULTS.name}, keep the others")
    parser.add_argument("--markdown", action="store_true", help=f"print {RESULTS.name} as a Markdown table")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown())
        return 0
    chosen = [p for p in PROTECTIONS if not args.case or p.case in args.case]
    if args.list:
        stale = 0
        for p in chosen:
            try:
                check_snippet(p)
                state = "ok"
            except StaleProtection as err:
                state, stale = f"STALE: {err}", stale + 1
            print(f"{p.case:>2}  {p.name}  [{p.file}]  {state}\n      " + "\n      ".join(p.tests))
        missing = sorted(set(range(1, 31)) - {p.case for p in PROTECTIONS})
        print(f"{len(chosen)} entries, {stale} stale; cases without an entry: {missing or 'none'}")
        return 1 if stale or missing else 0
    out = args.out or (RESULTS if (not args.case or args.update) and not args.baseline else None)
    started = time.monotonic()
    results: list[Outcome] = []
    kept: list[Outcome] = []
    previous_s = 0.0
    if args.update and args.case and RESULTS.exists():
        earlier = json.loads(RESULTS.read_text())
        kept = [Outcome(**e) for e in earlier["entries"] if e["case"] not in args.case]
        previous_s = sum(e.seconds for e in kept)
    try:
        for i, protection in enumerate(chosen, 1):
            print(f"[{i}/{len(chosen)}] case {protection.case}: {protection.name} ...", flush=True)
            result = run_one(protection, baseline=args.baseline)
            results.append(result)
            print(f"      {result.outcome} in {result.seconds} s  {result.evidence[:160]}", flush=True)
            if out is not None:
                merged = sorted(kept + results, key=lambda r: r.case)  # stable: the table's order within a case
                # Written after each entry: a stopped run keeps what it measured.
                _write(merged, previous_s + time.monotonic() - started, out)
    except KeyboardInterrupt:
        print("interrupted: the temporary copy was removed; the real tree was never changed", file=sys.stderr)
        return 130
    total = time.monotonic() - started
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    print(f"{len(results)} entries in {total / 60:.1f} min: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    for result in results:
        if result.outcome not in ("caught", "passed"):
            print(f"  {result.outcome}: case {result.case} {result.name} ({result.file}) {result.evidence[:200]}")
    good = {"caught"} if not args.baseline else {"passed"}
    return 0 if all(r.outcome in good for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
