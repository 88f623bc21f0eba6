/**
 * The agent worker: Pyodide + agent_py, off the main thread so the UI stays smooth while Python boots and runs.
 *
 * Messages in (from the page):
 *   {type: "exec-python", id, code}        run Python (top-level await allowed); answers "exec-result"
 *   {type: "sandbox-port"}, ports[0]       a MessagePort straight to the sandbox iframe (see wasm_sandbox/)
 *   {type: "call", id, method, args}       call a function registered by agent_py with `expose()` (the UI API)
 * Messages out:
 *   {type: "progress", stage, fraction}    boot progress, fraction in [0, 1]
 *   {type: "ready", version, timings}      Python is up and agent_py is imported
 *   {type: "boot-error", message}          boot failed; nothing is half-loaded silently
 *   {type: "exec-result", id, ok, value | error}
 *   {type: "event", event}                 agent events, forwarded as plain JSON
 *   {type: "checkpoint-blobs", runId, blobs: [[sha256, Uint8Array]]}   contents of a run's checkpoints, each once,
 *                                          posted before the Checkpoint event that needs them
 * Workspace files (docs/ARCHITECTURE.md, "Files"): put-file {name, bytes}, get-file {path}, restore-files
 * {files: [{path, bytes}]}, each answered {type: "reply", id, ok, value | error}; bytes are never logged.
 */

import { fetchWheels } from "./wheels.mjs";
import { SandboxClient } from "../../wasm_sandbox/client.mjs";
import { dropSnapshot, loadSnapshot, saveSnapshot } from "./snapshot_cache.mjs";
import * as idbKv from "./idb_kv.mjs";
import { createHostTools } from "../embed/worker_host_tools.mjs";
import { createToolApproval } from "./worker_tool_approval.mjs";

const VENDOR = new URL("../vendor/", import.meta.url);
const PYODIDE_INDEX = new URL("pyodide/", VENDOR).href;
// agent_py imports with nothing else, so it is all a cold boot waits for. The model layer's transport (httpx and
// its dependencies) loads right after "ready": a run needs it seconds later at the earliest.
const BOOT_PACKAGES = ["agent_py"];
const MODEL_PACKAGES = ["httpx"];
const MODEL_IMPORTS = "import agent_py, httpx";

// `?log=debug` on the page reaches here as a parameter of this worker's URL (see agent_host.mjs).
const LOG_LEVEL = new URL(import.meta.url).searchParams.get("log");

const t0 = performance.now();
const timings = {};
let pyodide = null;
/** Resolves when the model layer is imported; a failure rejects it loudly (runs then fail with it). */
let modelLayerReady = null;
const pending = []; // messages that arrived before Python was ready

function progress(stage, fraction) {
  timings[stage] = Math.round(performance.now() - t0);
  postMessage({ type: "progress", stage, fraction });
}

async function fetchJson(url) {
  const response = await fetch(url, { cache: "no-cache" });
  if (!response.ok) throw new Error(`${url} failed to load: HTTP ${response.status}`);
  return response.json();
}

/**
 * Boot in one of two ways:
 * - warm: a memory snapshot of a previous boot of this same build is in Cache Storage -> restore it; agent_py and
 *   httpx are already imported.
 * - cold: boot Pyodide while the wheels download in parallel, unpack and import agent_py ("ready"), then import
 *   the model layer and snapshot the heap for the next visit. The snapshot is taken before any user code runs,
 *   so it holds nothing of the user's.
 */
async function boot() {
  progress("runtime", 0.05);
  const [{ loadPyodide }, lock, build] = await Promise.all([
    import(new URL("pyodide.mjs", PYODIDE_INDEX).href),
    fetchJson(new URL("pyodide-lock.json", PYODIDE_INDEX)),
    fetchJson(new URL("BUILD.json", VENDOR)).catch(() => ({ inputs: "" })),
  ]);
  const stamp = build.inputs;
  const options = { indexURL: PYODIDE_INDEX, lockFileContents: lock, packageBaseUrl: PYODIDE_INDEX };
  const snapshot = stamp ? await loadSnapshot(stamp) : null;
  // Wheels download while Pyodide boots, on either path: a snapshot holds the heap but not the file system, so a
  // restored interpreter needs the package files again for every module not yet imported.
  const wheels = fetchWheels(lock, PYODIDE_INDEX, [...BOOT_PACKAGES, ...MODEL_PACKAGES]);
  wheels.catch(() => {}); // awaited below; this only keeps an early failure from being reported twice
  progress("compile", 0.15);
  if (snapshot) {
    try {
      pyodide = await loadPyodide({ ...options, _loadSnapshot: snapshot });
      for (const wheel of await wheels) pyodide.unpackArchive(wheel.bytes, "wheel");
      timings.snapshot = "restored";
      useRealJsGlobals();
      return announceReady(Promise.resolve());
    } catch (err) {
      console.warn("Python snapshot unusable, booting normally:", err);
      await dropSnapshot(stamp);
    }
  }
  pyodide = await loadPyodide({ ...options, _makeSnapshot: Boolean(stamp) });
  progress("packages", 0.85);
  const all = await wheels;
  const bootNames = new Set(BOOT_PACKAGES.map((n) => n.replace(/_/g, "-")));
  for (const wheel of all.filter((w) => bootNames.has(w.name))) pyodide.unpackArchive(wheel.bytes, "wheel");
  pyodide.runPython("import agent_py");
  return announceReady(loadModelLayer(all.filter((w) => !bootNames.has(w.name)), stamp));
}

function announceReady(modelLayer) {
  // codeact_idb: IndexedDB for agent_py.models.cache. Registered after the snapshot, which must not hold JS objects.
  modelLayerReady = modelLayer.then(() => {
    pyodide.registerJsModule("codeact_idb", idbKv);
    if (LOG_LEVEL) pyodide.runPython(`import agent_py.log; agent_py.log.set_level(${JSON.stringify(LOG_LEVEL)})`);
  });
  modelLayerReady.catch((err) => postMessage({ type: "boot-error", message: String(err) }));
  const version = pyodide.runPython("import agent_py; agent_py.__version__");
  progress("ready", 1);
  postMessage({ type: "ready", version, timings, crossOriginIsolated: self.crossOriginIsolated });
}

async function loadModelLayer(wheels, stamp) {
  await new Promise((resolve) => setTimeout(resolve, 0)); // let "ready" reach the page first
  for (const wheel of wheels) pyodide.unpackArchive(wheel.bytes, "wheel");
  pyodide.runPython(MODEL_IMPORTS);
  timings.modelLayer = Math.round(performance.now() - t0);
  if (stamp) {
    const bytes = pyodide.makeMemorySnapshot();
    timings.snapshotBytes = bytes.byteLength;
    saveSnapshot(stamp, bytes).then((saved) => { timings.snapshot = saved ? "saved" : "not saved"; });
  }
  useRealJsGlobals();
}

/**
 * A boot that can be snapshotted hands Python a recording Proxy of globalThis as `js`, and getters called through
 * it throw "Illegal invocation" (js.location, js.performance...). Once the snapshot is taken (or restored), give
 * Python the real global scope. Nothing imported `js` before this point, so no module holds the proxy.
 */
function useRealJsGlobals() {
  pyodide.registerJsModule("js", self);
  pyodide.runPython("import sys; sys.modules.pop('js', None)");
}

async function execPython({ id, code }) {
  try {
    await modelLayerReady;
    const result = await pyodide.runPythonAsync(code);
    let value = result;
    if (result && typeof result.toJs === "function") {
      value = result.toJs({ dict_converter: Object.fromEntries });
      result.destroy();
    }
    postMessage({ type: "exec-result", id, ok: true, value: JSON.parse(JSON.stringify(value ?? null)) });
  } catch (err) {
    postMessage({ type: "exec-result", id, ok: false, error: String(err && err.message ? err.message : err) });
  }
}

let runtime = null;
/** The Python side of the worker (agent_py.web_runtime.WebRuntime), made once the model layer is up. */
async function getRuntime() {
  await modelLayerReady;
  if (!runtime) {
    const { WebRuntime } = pyodide.pyimport("agent_py.web_runtime");
    runtime = WebRuntime(
      (eventJson) => postMessage({ type: "event", event: JSON.parse(eventJson) }),
      (runId, blobs) => postMessage({ type: "checkpoint-blobs", runId, blobs }, blobs.map(([, bytes]) => bytes.buffer)),
    );
  }
  return runtime;
}

// Page requests answered by WebRuntime.request(kind, payload): {type: kind, id, ...payload} -> {type: "reply", id}.
const REQUESTS = new Set(["test-connection", "set-log-level"]);

async function answerRequest({ type, id, ...payload }) {
  let reply;
  try {
    reply = JSON.parse(await (await getRuntime()).request(type, JSON.stringify(payload)));
  } catch (err) {
    reply = { ok: false, error: { type: "WorkerError", message: String(err?.message ?? err) } };
  }
  postMessage({ type: "reply", id, ...reply });
}

const FILE_REQUESTS = new Set(["put-file", "get-file", "restore-files"]);

/** Workspace files: the bytes go to Python as Uint8Array and come back as one (transferred, not copied again). */
async function answerFileRequest(data) {
  let reply;
  const transfer = [];
  try {
    const rt = await getRuntime();
    if (data.type === "put-file") {
      reply = JSON.parse(rt.put_file(String(data.name ?? ""), new Uint8Array(data.bytes ?? new ArrayBuffer(0))));
    } else if (data.type === "get-file") {
      reply = rt.get_file(String(data.path ?? ""));
      if (reply.ok) transfer.push(reply.value.bytes.buffer);
    } else {
      const files = (Array.isArray(data.files) ? data.files : []).map((f) => ({
        path: String(f?.path ?? ""), bytes: new Uint8Array(f?.bytes ?? new ArrayBuffer(0)) }));
      reply = JSON.parse(rt.restore_files(files));
    }
  } catch (err) {
    reply = { ok: false, error: { type: "WorkerError", message: String(err?.message ?? err) } };
  }
  postMessage({ type: "reply", id: data.id, ...reply }, transfer);
}

async function startRun({ runId, task, settings, resume }) {
  try {
    const rt = await getRuntime();
    rt.start_run(String(runId), String(task ?? ""), JSON.stringify(settings ?? {}), resume ? JSON.stringify(resume) : "");
  } catch (err) {
    // Python never got the run (the model layer failed to load): the page still hears how it ended.
    const error = { type: "WorkerError", message: String(err?.message ?? err) };
    postMessage({ type: "event", event: { type: "RunError", run_id: runId, error } });
    postMessage({ type: "event", event: { type: "RunFinished", run_id: runId, status: "failed", stop_reason: "error" } });
  }
}

async function stopRun({ runId }) {
  (await getRuntime()).stop_run(String(runId));
}

// Host tools (embed mode): Python reaches them as the JS module `codeact_host_tools` (agent_py/host_tools.py).
const hostTools = createHostTools((message) => postMessage(message));
// "ask" approvals of the run's own tools (MCP, gateways, web): Python's gate asks, the page shows the dialog.
const toolApproval = createToolApproval((message) => postMessage(message));

function handle(message) {
  const { data } = message;
  if (data?.type === "exec-python") return execPython(data);
  if (data?.type === "start-run") return startRun(data);
  if (data?.type === "stop-run") return stopRun(data);
  if (REQUESTS.has(data?.type)) return answerRequest(data);
  if (FILE_REQUESTS.has(data?.type)) return answerFileRequest(data);
  if (hostTools.handles(data)) return hostTools.handle(data); // embed mode: the host page's tools
  if (toolApproval.handles(data)) return toolApproval.handle(data);
  if (data?.type === "sandbox-port" && message.ports[0]) {
    // Python reaches the sandbox iframe as the JS module `codeact_sandbox` (see agent_py/sandbox.py). Registered
    // after the snapshot: a snapshot must not hold JS objects.
    const client = new SandboxClient(message.ports[0]);
    return modelLayerReady.then(() => pyodide.registerJsModule("codeact_sandbox", { client }));
  }
  return undefined;
}

self.onmessage = (message) => {
  if (!pyodide) pending.push(message);
  else handle(message);
};

boot().then(
  () => {
    modelLayerReady.then(() => {
      pyodide.registerJsModule("codeact_host_tools", hostTools.module);
      pyodide.registerJsModule("codeact_tool_approval", toolApproval.module);
    });
    pending.splice(0).forEach(handle);
  },
  (err) => postMessage({ type: "boot-error", message: String(err && err.stack ? err.stack : err) }),
);
