/**
 * Page entry: the shell is already painted by index.html; this wires it up and boots the agent worker.
 * `window.codeact` is the page's public handle (used by the UI, the CLI runner and the tests):
 *   codeact.agent            the agent worker (static/app/agent_host.mjs)
 *   codeact.start(task, {demo})   start a run from code, as the Run button does; returns the run id
 *   codeact.ui.renderEvent(event) feed one agent event through the same path as the worker's (test seam)
 *   codeact.ui.{timeline, settings, history, files, checkpoints, store}   the UI modules
 * The UI is usable before Python is ready: a run started during boot waits in the worker's queue.
 */
import { startAgentWorker } from "./agent_host.mjs";
import { logLevelFromUrl } from "./log_level.mjs";
import { mountSandboxFrame } from "../../wasm_sandbox/embed.mjs";
import { createLogControls } from "./ui/run_log.mjs";
import { createSettings } from "./ui/settings.mjs";
import { createTimeline } from "./ui/timeline.mjs";
import { setupTheme } from "./ui/theme.mjs";
import { openStore } from "./ui/store.mjs";
import { applyEvent, newRunRecord, toResume } from "./ui/run_record.mjs";
import { createHistory } from "./ui/history.mjs";
import { holdRunLock, watchAbandonedRuns } from "./ui/run_locks.mjs";
import { createFiles } from "./ui/files.mjs";
import { createCreatedTools } from "./ui/created_tools.mjs";
import { createCheckpoints } from "./ui/checkpoints.mjs";
import { openBlobs } from "./ui/checkpoint_blobs.mjs";
import { enableOffline, WORKER_RESOURCES_PY } from "./ui/offline.mjs";
import { askApproval } from "../embed/approval.mjs";
import { createAuthPrompts } from "./ui/auth_prompt.mjs";

performance.mark("shell-visible");

const $ = (id) => document.getElementById(id);
const bar = $("boot-progress");
const label = $("boot-label");
const STAGE_LABELS = {
  runtime: "Fetching Python…",
  compile: "Starting Python…",
  packages: "Loading the agent…",
  ready: "Python ready",
};

const agent = startAgentWorker({
  logLevel: logLevelFromUrl(),
  onProgress(stage, fraction) {
    bar.value = fraction;
    label.textContent = STAGE_LABELS[stage] ?? stage;
  },
});
let pythonReady = false;

// The sandbox iframe talks to the agent worker directly over this port: cells never hop through the main thread.
const sandbox = mountSandboxFrame();
agent.worker.postMessage({ type: "sandbox-port" }, [sandbox.port]);
sandbox.ready.catch((err) => console.error("the code sandbox failed to load:", err));

/** A short message in the notices area (read out by screen readers), gone after a while. */
function notice(text) {
  const item = document.createElement("p");
  item.textContent = text;
  $("notices").append(item);
  setTimeout(() => item.remove(), 6000);
}

// The response cache lives in the agent worker's Python (agent_py.models.cache, IndexedDB): cleared there.
const CLEAR_CACHE_PY = "import json\nfrom agent_py.models import clear_cache\njson.dumps(await clear_cache())";
const settings = createSettings($("settings"), {
  testConnection: (s) => agent.request("test-connection", { settings: s }),
  clearCache: async () => JSON.parse(await agent.execPython(CLEAR_CACHE_PY)),
  downloadLog: () => logs.download(),
});
// The log level from Settings, applied once Python is ready and on every save (a ?log= in the URL wins).
const logs = createLogControls(agent, { urlLevel: logLevelFromUrl() });
const applyLogLevel = () => logs.setLevel(settings.current().logLevel)
  .catch((err) => console.warn("log level not applied:", err.message));
settings.onChange(() => { if (pythonReady) applyLogLevel(); });
const timeline = createTimeline($("timeline"), { prices: () => settings.prices() });
setupTheme({ toggle: $("theme"), lightSheet: $("hljs-light"), darkSheet: $("hljs-dark") });

// --- files ---------------------------------------------------------------------------------------------------
const files = createFiles({
  dialog: $("files"), agent, onNotice: notice,
  onCountChange(count) {
    $("files-count").hidden = !count;
    $("files-count").textContent = String(count);
  },
});

// --- tools the agent created (stored; sent with every run) ---------------------------------------------------
const createdTools = createCreatedTools({
  dialog: $("created-tools"), onNotice: notice,
  onCountChange(count) {
    $("tools-count").hidden = !count;
    $("tools-count").textContent = String(count);
  },
});

// --- workspace checkpoints: contents arrive once each, before the Checkpoint event that lists them ----------
const blobsReady = openBlobs({ onProblem: notice });
agent.worker.addEventListener("message", ({ data }) => {
  if (data?.type === "checkpoint-blobs" && Array.isArray(data.blobs)) {
    blobsReady.then((blobs) => blobs.put(String(data.runId), data.blobs));
  }
});
const checkpoints = createCheckpoints({ dialog: $("checkpoints"), agent, blobs: blobsReady, onNotice: notice });
let shownRunId = null; // the run whose checkpoints the panel lists: the live one, or the one opened from history

function showCheckpoints(record) {
  shownRunId = record?.id ?? null;
  checkpoints.show(record);
}

// --- runs and their records ---------------------------------------------------------------------------------
// Storage opens in the background: nothing waits for it, and when it is unavailable runs are kept in memory.
const storeReady = openStore();
storeReady.then((store) => store.onProblem((text) => {
  $("storage-note").textContent = text;
  $("storage-note").hidden = false;
}));
const records = new Map(); // run id -> record of a run this page is showing live
const saveTimers = new Map();
const URGENT = new Set(["RunStarted", "StepFinished", "FinalAnswer", "RunFinished", "RunError"]);

const runLocks = new Map(); // run id -> release(): this tab runs it (ui/run_locks.mjs; freed if the tab goes)

function saveNow(runId) {
  clearTimeout(saveTimers.get(runId));
  saveTimers.delete(runId);
  const record = records.get(runId);
  return record ? storeReady.then((store) => store.saveRun(record)) : Promise.resolve();
}

function scheduleSave(runId, urgent) {
  clearTimeout(saveTimers.get(runId));
  // Deltas arrive by the hundred: save after a pause, but at once when a step or the run ends.
  saveTimers.set(runId, setTimeout(() => saveNow(runId), urgent ? 0 : 500));
}

// Leaving (reload, close, tab switch on mobile): write what the debounce still holds, so the steps survive.
function flushSaves() {
  for (const runId of [...saveTimers.keys()]) saveNow(runId);
}
addEventListener("pagehide", flushSaves);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") flushSaves();
});

let currentRun = null;
function setRunning(runId) {
  currentRun = runId;
  $("stop").hidden = !runId;
  $("run").disabled = Boolean(runId);
  document.body.dataset.running = runId ? "true" : "false";
}

/** Every agent event, from the worker or the test seam: timeline, record, store, files. */
function onAgentEvent(event) {
  const runId = event?.run_id;
  if (!runId) return;
  createdTools.handleEvent(event);
  if (!records.has(runId)) {
    if (event.type !== "RunStarted") return;
    // A run started outside the Run button (the CLI, a test, another module): show and keep it too.
    const recorded = Boolean(event.settings?.demo);
    records.set(runId, newRunRecord({ id: runId, task: event.task, settings: event.settings, recorded }));
    if (!timeline.runs.has(runId)) timeline.startRun(runId, event.task, { recorded });
    $("welcome").hidden = true;
  }
  if (event.type === "RunStarted" && !runLocks.has(runId)) runLocks.set(runId, holdRunLock(runId));
  if (event.type === "RunFinished") {
    runLocks.get(runId)?.();
    runLocks.delete(runId);
  }
  const record = applyEvent(records.get(runId), event);
  records.set(runId, record);
  if (event.type === "RunStarted" || runId === shownRunId) showCheckpoints(record);
  if (event.type === "CheckpointsDropped") {
    checkpoints.dropped(event);
    const kept = new Set((record.checkpoints ?? []).flatMap((c) => c.files.map((f) => f.sha256)));
    blobsReady.then((blobs) => blobs.keepOnly(runId, kept));
  }
  timeline.render(event);
  timeline.attach(runId, event.step, files.handleEvent(event));
  timeline.attach(runId, event.step, checkpoints.cardNote(event));
  scheduleSave(runId, URGENT.has(event.type));
  if (event.type === "RunFinished" && runId === currentRun) setRunning(null);
  authPrompts.handleEvent(event);
}

/**
 * Start a run from the task box or a recorded demo (settings {demo}); with `resume`, continue a stored run.
 * @returns {string} the run id
 */
function start(task, { demo = null, resume = null } = {}) {
  const runSettings = demo ? { demo } : { ...settings.current(), createdTools: createdTools.forRun() };
  const runId = resume?.id ?? crypto.randomUUID();
  const title = task || (demo ? "Recorded demo" : "");
  $("welcome").hidden = true;
  if (!timeline.runs.has(runId)) timeline.startRun(runId, title, { recorded: Boolean(demo) });
  const record = resume ?? newRunRecord({ id: runId, task: title, settings: runSettings, recorded: Boolean(demo) });
  records.set(runId, record);
  showCheckpoints(record);
  if (!pythonReady) timeline.runs.get(runId).status.textContent = "Queued: starts as soon as Python is ready…";
  agent.startRun(task, runSettings, { runId, resume: resume ? toResume(resume) : null });
  setRunning(runId);
  return runId;
}

function stop() {
  if (!currentRun) return;
  agent.stopRun(currentRun);
  const run = timeline.runs.get(currentRun);
  if (run) run.status.textContent = "Stopping…";
}

agent.onEvent(onAgentEvent);

// --- "ask" approvals of the run's tools (agent_py/run_tools.py page_approver; static/app/worker_tool_approval.mjs)
// The worker's policy gate waits for the answer; a cancel (the cell's time limit, a stopped run) closes the dialog.
const approvals = new Map(); // "runId/callId" -> AbortController
agent.worker.addEventListener("message", async ({ data }) => {
  const id = `${data?.runId}/${data?.callId}`;
  if (data?.type === "tool-approval-cancel") {
    approvals.get(id)?.abort();
    return;
  }
  if (data?.type !== "tool-approval") return;
  const controller = new AbortController();
  approvals.set(id, controller);
  const approved = await askApproval({ tool: data.tool, arguments: data.arguments, origin: data.source,
    title: "Allow this tool call?", signal: controller.signal });
  approvals.delete(id);
  agent.worker.postMessage({ type: "tool-approval-result", runId: data.runId, callId: data.callId, approved });
});
agent.onEvent((event) => {
  if (event?.type !== "RunFinished") return;
  for (const [id, controller] of approvals) if (id.startsWith(`${event.run_id}/`)) controller.abort();
});

// --- history: open, replay, continue ------------------------------------------------------------------------
function showStored(record, badge) {
  timeline.clear();
  $("welcome").hidden = true;
  timeline.startRun(record.id, record.task, { badge, recorded: record.recorded });
  for (const event of record.events ?? []) timeline.render({ ...event, run_id: record.id });
  showCheckpoints(record);
}

let replayTimer = null;
function replay(record) {
  clearTimeout(replayTimer);
  timeline.clear();
  $("welcome").hidden = true;
  const id = `replay-${record.id}`;
  timeline.startRun(id, record.task, { badge: "replay", recorded: record.recorded });
  const events = record.events ?? [];
  let index = 0;
  const next = () => {
    if (index >= events.length) return;
    timeline.render({ ...events[index], run_id: id });
    index += 1;
    replayTimer = setTimeout(next, events[index - 1]?.type === "ModelDelta" ? 250 : 120);
  };
  next();
}

function continueRun(record) {
  if (currentRun) return notice("A run is in progress: stop it first.");
  if (!settings.configured()) {
    notice("Continuing a run needs a model: set one in Settings.");
    return settings.open();
  }
  showStored(record, "continued");
  return start(record.task, { resume: record });
}

// A refused key (SECURITY-CASES 20): the run asks for a valid one, and continues with it from its finished steps.
const authPrompts = createAuthPrompts({
  timeline,
  onOpenSettings: () => settings.open({ focus: "apiKey" }),
  async onRetry(runId, key) {
    settings.setKey(key);
    const record = records.get(runId) ?? (await (await storeReady).getRun(runId));
    if (record) continueRun(record);
  },
});

/** A run cut off by a reload or a closed tab: shown with its finished steps, the cut one marked, and Continue. */
function showInterrupted(record) {
  notice(`“${record.title || record.task}” was interrupted when the page closed; its finished steps are kept.`);
  if (currentRun || timeline.runs.size) return; // never replace what the user is looking at
  showStored(record, "interrupted");
  const run = timeline.runs.get(record.id);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.dataset.action = "continue";
  button.textContent = "Continue this run";
  button.addEventListener("click", async () => {
    const latest = (await (await storeReady).getRun(record.id)) ?? record;
    continueRun(latest);
  });
  run?.status.append(" ", button);
}

storeReady.then((store) => watchAbandonedRuns(store, { onInterrupted: showInterrupted, isLocal: (id) => runLocks.has(id) }));

// Deleting a run from history deletes its checkpoint contents too.
const withBlobCleanup = (store) => Object.assign(Object.create(store), {
  async deleteRun(id) {
    await store.deleteRun(id);
    await (await blobsReady).deleteRun(id);
  },
});
const historyReady = storeReady.then((store) => createHistory({
  dialog: $("history"), store: withBlobCleanup(store), onOpen: (r) => showStored(r, "from history"), onReplay: replay,
  onContinue: continueRun, onNotice: notice,
}));

// --- controls -------------------------------------------------------------------------------------------------
$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const task = $("task").value.trim();
  if (!task || currentRun) return;
  if (!settings.configured()) {
    notice("Choose a model first (or try a recorded demo).");
    settings.open();
    return;
  }
  start(task);
  $("task").value = "";
});
$("task").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
});
document.addEventListener("keydown", (event) => {
  // Esc closes an open dialog first (the browser does that); only with none open does it stop the run.
  if (event.key === "Escape" && currentRun && !document.querySelector("dialog[open]")) stop();
});
$("stop").addEventListener("click", stop);
$("open-settings").addEventListener("click", () => settings.open());
$("open-history").addEventListener("click", async () => (await historyReady).open());
$("open-files").addEventListener("click", () => files.open());
$("open-tools").addEventListener("click", () => createdTools.open());
$("open-checkpoints").addEventListener("click", () => checkpoints.open());
$("demos").addEventListener("click", (event) => {
  const button = event.target.closest("[data-demo]");
  if (button && !currentRun) start("", { demo: button.dataset.demo });
});

window.codeact = {
  agent, ready: agent.ready, sandbox, timeline, settings, start, stop,
  ui: {
    renderEvent: onAgentEvent, timeline, settings, files, createdTools, checkpoints, blobs: blobsReady,
    store: storeReady, history: historyReady, records,
  },
};
// Embed mode: the page is the iframe of a <codeact-agent> on another site (static/embed/embed_page.mjs).
if (new URLSearchParams(location.search).has("embed")) {
  await (await import("../embed/embed_page.mjs")).startEmbed(window.codeact);
}
document.body.dataset.uiReady = "true";
performance.mark("ui-interactive");

agent.ready.then(
  (info) => {
    pythonReady = true;
    performance.mark("python-ready");
    applyLogLevel();
    document.body.dataset.pythonReady = "true";
    $("boot").dataset.state = "ready";
    label.textContent = `Python ready · agent ${info.version}`;
    for (const [, run] of timeline.runs) {
      if (run.status.textContent.startsWith("Queued")) run.status.textContent = "Starting…";
    }
    // After the boot, never during it: caching the runtime must not compete with a cold start for the network.
    enableOffline({ workerResources: () => agent.execPython(WORKER_RESOURCES_PY) }).then(
      (result) => {
        document.body.dataset.offlineReady = String(result.failed.length === 0);
        if (result.failed.length) console.warn("offline: not cached:", result.failed.join("; "));
      },
      (err) => console.warn("offline use is not available:", err.message),
    );
  },
  (err) => {
    $("boot").dataset.state = "error";
    label.textContent = `Python failed to start: ${err.message.split("\n")[0]}`;
    console.error(err);
  },
);
