/**
 * A run as the page keeps it: the events it produced (for open and replay) plus a summary (for the history list)
 * and the steps in agent_py's own shape (for continue). Built only from agent events, so a run recorded from
 * the worker and one imported from a file are the same thing.
 *
 * @example
 *   let record = newRunRecord({ id, task, settings, recorded: false });
 *   record = applyEvent(record, event);          // for every agent event of the run
 *   agent.startRun(record.task, settings, { runId: record.id, resume: toResume(record) });   // continue
 *   download(exportRun(record)); const again = importRun(text);
 */
import { withoutKeys } from "./keys.mjs";

export const EXPORT_FORMAT = "codeact-run";
export const EXPORT_VERSION = 1;

/**
 * @param {{id: string, task: string, settings?: object, recorded?: boolean}} start
 * @returns {object} a record with no events yet
 */
export function newRunRecord({ id, task, settings = {}, recorded = false }) {
  const now = Date.now();
  return {
    id, task, title: task, recorded, settings: withoutKeys(settings),
    createdAt: now, updatedAt: now, status: "running", stopReason: "", finalAnswer: null, summary: "",
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }, cost: null,
    steps: [], events: [], checkpoints: [],
  };
}

/**
 * The record after `event` (a new object; the input is not changed). Consecutive text deltas of one step are
 * merged into one event, so a long streamed reply stores as one string, not thousands of events.
 * @param {object} record @param {object} event an agent event dict (docs/ARCHITECTURE.md)
 */
export function applyEvent(record, event) {
  const next = { ...record, updatedAt: Date.now() };
  const last = record.events.at(-1);
  if ((event.type === "ModelDelta" || event.type === "ReasoningDelta") && last?.type === event.type
      && last.step === event.step) {
    next.events = [...record.events.slice(0, -1), { ...last, text: last.text + event.text }];
  } else if (event.type === "Checkpoint") {
    // The diffs are kept once, in record.checkpoints; the event stream keeps the rest.
    next.events = [...record.events, { ...event, changes: (event.changes ?? []).map(({ diff, ...change }) => change) }];
  } else {
    next.events = [...record.events, event];
  }
  switch (event.type) {
    case "RunStarted":
      if (event.task) next.task = event.task;
      if (!record.title || record.recorded) next.title = event.task || record.title;
      next.status = "running";
      break;
    case "UsageUpdate":
      next.usage = { ...event.total };
      break;
    case "StepFinished":
      next.steps = [...record.steps.filter((s) => s.step !== event.record?.step), event.record];
      break;
    case "FinalAnswer":
      next.finalAnswer = event.value;
      break;
    case "Checkpoint": // the workspace after a step (agent_py/workspace.py); contents are in ui/checkpoint_blobs.mjs
      next.checkpoints = [...(record.checkpoints ?? []).filter((c) => c.step !== event.step), {
        step: event.step, ts: event.ts, files: event.files ?? [], changes: event.changes ?? [],
        storedBytes: event.stored_bytes ?? 0, capBytes: event.cap_bytes ?? 0 }];
      break;
    case "CheckpointsDropped":
      next.checkpoints = (record.checkpoints ?? []).filter((c) => !(event.steps ?? []).includes(c.step));
      next.checkpointNotes = [...(record.checkpointNotes ?? []), String(event.message ?? "")].slice(-5);
      break;
    case "RunFinished":
      next.status = event.status;
      next.stopReason = event.stop_reason ?? "";
      next.summary = event.summary ?? "";
      if (event.usage && Object.keys(event.usage).length) next.usage = { ...event.usage };
      break;
    default:
      break;
  }
  return next;
}

/**
 * The record of a run whose tab went away mid-step (static/app/ui/run_locks.mjs): the finished steps as they were,
 * the cut step rebuilt from its events (what the model wrote, the code, the tool calls already made) with status
 * "interrupted", and the run "interrupted". Continuing it sends that step to the loop, which tells the model its
 * code may or may not have run; nothing of it runs again.
 * @param {object} record @returns {object}
 */
export function interruptedRecord(record) {
  const done = new Set((record.steps ?? []).map((s) => s.step));
  const started = record.events.filter((e) => e.type === "StepStarted").map((e) => e.step);
  const cut = started.filter((n) => !done.has(n)).at(-1);
  let next = record;
  if (cut !== undefined) {
    const of = (type) => record.events.filter((e) => e.step === cut && e.type === type);
    const code = of("CodeReady").at(-1);
    const step = {
      step: cut, status: "interrupted", observation: "",
      model_output: of("ModelDelta").map((e) => e.text).join(""),
      reasoning: of("ReasoningDelta").map((e) => e.text).join(""),
      code: code?.code ?? "",
      tool_calls: of("ToolCall").map(({ tool, arguments: args, ok, error }) => ({ tool, arguments: args, ok, error })),
    };
    next = { ...next, steps: [...next.steps, step].sort((a, b) => a.step - b.step) };
    next = applyEvent(next, { type: "StepInterrupted", run_id: record.id, step: cut, ts: Date.now() / 1000 });
  }
  return applyEvent(next, { type: "RunFinished", run_id: record.id, step: cut ?? record.steps.length,
    ts: Date.now() / 1000, status: "interrupted", stop_reason: "page_closed", steps: next.steps.length, summary: "" });
}

/**
 * The record in agent_py.memory.RunRecord's shape, for {type: "start-run", resume}. A run that was still
 * "running" when the page closed is resumed as it was; the loop marks its open step interrupted.
 * @param {object} record @returns {object}
 */
export function toResume(record) {
  return {
    run_id: record.id,
    task: record.task,
    settings: withoutKeys(record.settings ?? {}),
    steps: record.steps ?? [],
    status: ["running", "finished", "stopped", "failed", "cancelled"].includes(record.status) ? record.status : "stopped",
    stop_reason: record.stopReason ?? "",
    final_answer: record.finalAnswer ?? null,
    summary: record.summary ?? "",
    usage_total: record.usage ?? {},
    created_at: (record.createdAt ?? Date.now()) / 1000,
  };
}

/**
 * The JSON text of an export: the record without any key (scrubbed by name and by value).
 * @param {object} record @returns {string}
 */
export function exportRun(record) {
  return JSON.stringify({ format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: new Date().toISOString(),
    run: withoutKeys(record) }, null, 1);
}

/**
 * Parse an exported run; throws an Error saying what is wrong with the file.
 * @param {string} text @returns {object} the record, keys scrubbed
 */
export function importRun(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`the file is not JSON (${err.message})`);
  }
  if (data?.format !== EXPORT_FORMAT || typeof data.run !== "object" || data.run === null) {
    throw new Error("the file is not a CodeAct run export (format \"codeact-run\")");
  }
  const run = data.run;
  if (typeof run.id !== "string" || typeof run.task !== "string" || !Array.isArray(run.events)) {
    throw new Error("the run in the file needs an id, a task and a list of events");
  }
  if (!run.events.every((e) => e && typeof e.type === "string")) throw new Error("every event needs a type");
  if (run.steps != null && !Array.isArray(run.steps)) throw new Error("the run's steps must be a list");
  return withoutKeys({ ...newRunRecord({ id: run.id, task: run.task }), ...run, steps: run.steps ?? [] });
}
