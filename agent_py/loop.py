"""The CodeAct loop: the model writes Python, the sandbox runs it, the observation goes back, until final_answer().

    agent = Agent(model, sandbox, limits=Limits(max_steps=10))
    record = await agent.run("What is the 20th Fibonacci number?", on_event=print)

Error policy (the one place it is decided, in `_classify`):
- The model's or the tools' mistakes are observations and the run goes on: a reply with no code (ParseError),
  an exception in the cell (including ToolError subclasses), a cell killed at its deadline (SandboxTimeout) or its
  memory cap (SandboxMemoryError / MemoryError).
- What the model cannot fix ends the run with status "failed" and a RunError event: the endpoint failed after the
  client's own retries (ModelError), the sandbox is gone or not isolated (SandboxCrashed, SandboxIsolationError),
  bad settings (ConfigError), and any bug of ours.
- Cancellation (Stop) marks the running step "interrupted", the run "cancelled", emits RunFinished, re-raises.
- Guardrails (steps, wall clock, tokens, cost, stagnation) end the run "stopped" with a best-effort summary.
- Hooks (agent_py.hooks) see every event; a veto of a step's code or of a tool call is an observation (and a
  Vetoed event) and the run goes on. Tool calls pass the agent's ToolGate: hooks, then the per-step cap.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from agent_py.errors import AgentError, ModelError, ParseError
from agent_py.events import (
    CodeReady,
    Event,
    ExecutionStarted,
    FinalAnswer,
    ModelDelta,
    Observation,
    ReasoningDelta,
    RunError,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
    ToolCall,
    UsageUpdate,
    Vetoed,
)
from agent_py.guardrails import Guard, Limits, StopReason
from agent_py.hooks import Veto, first_veto, notify
from agent_py.log import get_logger
from agent_py.memory import ActionStep, RunRecord, build_messages
from agent_py.parsing import extract_code, strip_reasoning
from agent_py.prompts import new_nonce, render_observation, system_prompt, truncate_middle
from agent_py.sandbox_api import ExecResult
from agent_py.sandbox_tools import ToolGate

__all__ = ["Agent"]

log = get_logger("agent")
EventSink = Callable[[Event], Any]
SUMMARY_TIMEOUT_S = 60.0
INTERRUPTED_NOTE = ("This step was interrupted before it finished (the page was reloaded or the run stopped); its "
                    "code may or may not have run. Check the state you need before going on.")


def _usage_dict(usage: Any) -> dict[str, Any]:
    if usage is None:
        return {}
    return usage.to_dict() if hasattr(usage, "to_dict") else dict(usage)


class Agent:
    def __init__(self, model: Any, sandbox: Any, *, limits: Limits | None = None, hooks: Sequence[Any] = (),
                 system_extra: str = "", clock: Callable[[], float] = time.monotonic, generation: Any = None,
                 research_tools: Sequence[str] = (), research_after_failures: int = 2, output_limit: int = 8000,
                 context_budget_tokens: int = 24_000, settings: dict[str, Any] | None = None,
                 untrusted_tools: Sequence[str] = ()) -> None:
        self.model = model
        self.sandbox = sandbox
        self.limits = limits or Limits()
        self.hooks = list(hooks)
        self.system_extra = system_extra
        self.clock = clock
        self.generation = generation
        self.research_tools = list(research_tools)
        self.research_after = research_after_failures
        self.output_limit = output_limit
        self.context_budget = context_budget_tokens
        self.settings = settings or {}
        self.untrusted_tools = set(untrusted_tools)  # their results are third-party text (SECURITY-CASES 26)
        self._sink: EventSink | None = None
        self._nonce = new_nonce()
        self._failures = 0
        self._messages: dict[int, tuple[list[dict[str, str]], int]] = {}  # step -> its messages, built once
        # The one gate every tool call of this agent's sandbox passes: the same hook list, the per-step cap.
        self.tool_gate = ToolGate(self.hooks, self.limits.max_tool_calls_per_step)
        use_gate = getattr(sandbox, "use_tool_gate", None)
        if use_gate is not None:
            use_gate(self.tool_gate)

    def register_hook(self, hook: Any) -> None:
        """Add a hook (see agent_py.hooks); it sees later events and may veto later code and tool calls."""
        self.hooks.append(hook)

    # --- events ---------------------------------------------------------------------------------------------

    async def _emit(self, event: Event) -> None:
        if self._sink is not None:
            result = self._sink(event)
            if asyncio.iscoroutine(result):
                await result
        if self.hooks:
            await notify(self.hooks, event)

    # --- the run --------------------------------------------------------------------------------------------

    async def run(self, task: str, *, run_id: str | None = None, resume: RunRecord | None = None,
                  on_event: EventSink | None = None) -> RunRecord:
        self._sink = on_event
        record = resume or RunRecord(run_id=run_id or uuid.uuid4().hex[:12], task=task, settings=self.settings)
        run_id = record.run_id
        resumed = resume is not None
        if resumed:
            for step in record.steps:
                # "running": the loop was cut there; "interrupted": the page found it cut (a reload, a closed tab).
                if step.status in ("running", "interrupted"):
                    step.status = "interrupted"
                    step.observation = step.observation or INTERRUPTED_NOTE
                    step.is_final = False  # its final_answer(), if any, was never delivered
            record.status = "running"
        self._nonce = new_nonce()
        self._failures = 0
        self._messages = {}
        guard = Guard(self.limits, self.clock())
        for step in record.steps:
            guard.note_step(step.code, step.error)
        await self._emit(RunStarted(run_id=run_id, task=record.task, settings=record.settings, resumed=resumed))
        step: ActionStep | None = None
        try:
            system = system_prompt(await self.sandbox.tools_listing(), extra=self.system_extra)
            while True:
                reason = guard.check(steps=len(record.steps), now=self.clock(),
                                     tokens=int(record.usage_total.get("total_tokens", 0)), cost=None)
                if reason is not None:
                    await self._stop(record, reason, system)
                    return record
                step = ActionStep(step=len(record.steps) + 1)
                record.steps.append(step)
                await self._emit(StepStarted(run_id=run_id, step=step.step))
                finished = await self._step(record, step, system, guard)
                step = None
                if finished:
                    return record
        except asyncio.CancelledError:
            if step is not None and step.status == "running":
                step.status = "interrupted"
                step.observation = INTERRUPTED_NOTE
            await self._finish(record, "cancelled", StopReason.CANCELLED)
            raise
        except Exception as err:  # noqa: BLE001 - the policy: what the model cannot fix ends the run, typed
            if step is not None:
                step.status = "failed"
            error = err.to_dict() if isinstance(err, AgentError) else {"type": type(err).__name__, "message": str(err)}
            log.warn("run failed", run_id=run_id, error=error["type"])
            await self._emit(RunError(run_id=run_id, step=step.step if step else 0, error=error))
            await self._finish(record, "failed", StopReason.ERROR)
            return record

    async def _call_model(self, record: RunRecord, step: ActionStep, messages: list[dict[str, str]]) -> Any:
        run_id = record.run_id

        async def forward(event: Any) -> None:
            kind = type(event).__name__
            if kind == "TextDelta":
                await self._emit(ModelDelta(run_id=run_id, step=step.step, text=event.text))
            elif kind == "ReasoningDelta":
                await self._emit(ReasoningDelta(run_id=run_id, step=step.step, text=event.text))

        started = self.clock()
        response = await self.model.complete(messages, self.generation, on_event=forward)
        step.model_ms = (self.clock() - started) * 1000
        step.usage = _usage_dict(getattr(response, "usage", None))
        totals = record.usage_total
        for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
            totals[key] = int(totals.get(key, 0)) + int(step.usage.get(key, 0) or 0)
        await self._emit(UsageUpdate(run_id=run_id, step=step.step, step_usage=step.usage, total=dict(totals),
                                     cached=bool(getattr(response, "cached", False))))
        return response

    async def _step(self, record: RunRecord, step: ActionStep, system: str, guard: Guard) -> bool:
        """One step; True when the run is finished (final answer)."""
        run_id = record.run_id
        messages = build_messages(system, record, budget_tokens=self.context_budget, cache=self._messages)
        response = await self._call_model(record, step, messages)
        text, reasoning = strip_reasoning(response.text)
        step.model_output = response.text
        step.reasoning = "\n".join(r for r in (getattr(response, "reasoning", "") or "", reasoning) if r)
        try:
            parsed = extract_code(response.text)
        except ParseError as err:
            self._failures += 1
            step.error = {"type": "ParseError", "message": err.message}
            step.observation = err.message
            guard.note_step("", step.error)
            return await self._close_step(record, step, stdout="")
        step.code = parsed.code
        await self._emit(CodeReady(run_id=run_id, step=step.step, code=parsed.code, thought=parsed.thought,
                                   notes=parsed.notes))
        veto = await first_veto(self.hooks, "before_code", step.step, parsed.code) if self.hooks else None
        if veto is not None:
            return await self._vetoed_code(record, step, veto, guard)
        await self._emit(ExecutionStarted(run_id=run_id, step=step.step, sandbox=getattr(self.sandbox, "name", "")))
        raw = await self.sandbox.run(parsed.code)
        result = raw if isinstance(raw, ExecResult) else ExecResult.from_dict(raw)
        step.exec_ms = result.duration_ms
        step.tool_calls = result.tool_calls
        for call in result.tool_calls:
            await self._emit(ToolCall(run_id=run_id, step=step.step, tool=str(call.get("tool", "")),
                                      arguments=call.get("arguments"), ok=call.get("ok", True) is not False,
                                      error=str(call.get("error", ""))))
            vetoed = call.get("vetoed")
            if isinstance(vetoed, dict):
                await self._emit(Vetoed(run_id=run_id, step=step.step, target="tool", tool=str(call.get("tool", "")),
                                        hook=str(vetoed.get("hook", "")), reason=str(vetoed.get("reason", ""))))
        step.error = ({"type": result.error.type, "message": result.error.message,
                       "traceback": result.error.traceback} if result.error else None)
        self._failures = self._failures + 1 if result.error else 0
        guard.note_step(parsed.code, step.error)
        notes = "\n".join(f"Note: {n}." for n in parsed.notes)
        step.observation = (notes + "\n" if notes else "") + render_observation(
            result, nonce=self._nonce, output_limit=self.output_limit, failures_in_a_row=self._failures,
            research_tools=self.research_tools, research_after=self.research_after,
            untrusted_tools=[str(c.get("tool")) for c in result.tool_calls if c.get("tool") in self.untrusted_tools])
        if result.final:
            step.is_final = True
            step.final_value = result.final_value
        return await self._close_step(record, step, stdout=result.stdout, duration=result.duration_ms,
                                      restored=result.restored)

    async def _vetoed_code(self, record: RunRecord, step: ActionStep, veto: Veto, guard: Guard) -> bool:
        """The code did not run: the model reads why (typed) and the run goes on; the same veto again and again is
        stagnation, so a model that keeps writing refused code is stopped by the guardrail."""
        await self._emit(Vetoed(run_id=record.run_id, step=step.step, target="code", hook=veto.hook,
                                reason=veto.reason))
        step.error = {"type": "Vetoed", "message": f"hook {veto.hook} refused this code: {veto.reason}"}
        step.observation = (f"Vetoed: hook {veto.hook} refused to run this step's code: {veto.reason}\n"
                            "The code did NOT run and nothing it would have done happened. Take another approach "
                            "that avoids what was refused, or answer with final_answer() if you can.")
        self._failures += 1
        guard.note_step(step.code, step.error)
        return await self._close_step(record, step, stdout="")

    async def _close_step(self, record: RunRecord, step: ActionStep, *, stdout: str, duration: float = 0.0,
                          restored: bool = False) -> bool:
        run_id = record.run_id
        step.stdout = truncate_middle(stdout, self.output_limit)
        step.status = "done"
        record.updated_at = time.time()
        await self._emit(Observation(run_id=run_id, step=step.step, observation=step.observation, stdout=step.stdout,
                                     error=step.error, duration_ms=duration, restored=restored))
        await self._emit(StepFinished(run_id=run_id, step=step.step, record=step.to_dict()))
        if step.is_final:
            record.final_answer = step.final_value
            await self._emit(FinalAnswer(run_id=run_id, step=step.step, value=step.final_value))
            await self._finish(record, "finished", StopReason.FINAL_ANSWER)
            return True
        return False

    # --- endings --------------------------------------------------------------------------------------------

    async def _stop(self, record: RunRecord, reason: StopReason, system: str) -> None:
        summary = await self._summary(record, reason, system)
        await self._finish(record, "stopped", reason, summary=summary)

    async def _summary(self, record: RunRecord, reason: StopReason, system: str) -> str:
        """Ask the model once, without code, for its best answer so far; else summarise the last steps."""
        messages = build_messages(system, record, budget_tokens=self.context_budget)
        messages.append({"role": "user", "content": (
            f"The run must stop now ({reason.value.replace('_', ' ')}). Do not write code. In a few sentences, give "
            "your best answer to the task from what you found so far, and say what is still uncertain.")})
        if reason not in (StopReason.TOKENS, StopReason.COST, StopReason.WALL_CLOCK):
            try:
                response = await asyncio.wait_for(self.model.complete(messages, self.generation),
                                                  SUMMARY_TIMEOUT_S)
                text, _ = strip_reasoning(response.text)
                if text.strip():
                    return text.strip()
            except (TimeoutError, ModelError) as err:
                log.info("no summary from the model", error=type(err).__name__)
        done = [s for s in record.steps if s.status == "done"]
        if not done:
            return f"Stopped ({reason.value}) before any step finished."
        last = done[-1]
        outcome = (f"{last.error['type']}: {last.error['message']}" if last.error
                   else (last.stdout.strip().splitlines() or ["(no output)"])[-1])
        return (f"Stopped ({reason.value}) after {len(record.steps)} steps without a final answer. "
                f"The last step printed or raised: {outcome[:500]}")

    async def _finish(self, record: RunRecord, status: str, reason: StopReason, *, summary: str = "") -> None:
        record.status = status
        record.stop_reason = reason.value
        record.summary = summary
        record.updated_at = time.time()
        await self._emit(RunFinished(run_id=record.run_id, step=len(record.steps), status=status,
                                     stop_reason=reason.value, final_answer=record.final_answer, summary=summary,
                                     steps=len(record.steps), usage=dict(record.usage_total)))
