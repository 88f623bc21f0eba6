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
 */

const VENDOR = new URL("../vendor/", import.meta.url);
const PYODIDE_INDEX = new URL("pyodide/", VENDOR).href;
// agent_py imports with nothing else, so it is all the boot waits for. The model layer's transport (httpx and
// its dependencies, resolved from the minimal lock the build writes) loads in the background right after:
// it is needed only when a run calls a model, seconds later at the earliest.
const BOOT_PACKAGES = ["agent_py"];
const MODEL_PACKAGES = ["httpx"];

const t0 = performance.now();
const timings = {};
let pyodide = null;
/** Resolves when the model layer's packages are loaded; a failure rejects it loudly (runs then fail with it). */
let modelLayerReady = null;
const pending = []; // messages that arrived before Python was ready

function progress(stage, fraction) {
  timings[stage] = Math.round(performance.now() - t0);
  postMessage({ type: "progress", stage, fraction });
}

/** Fail the boot loudly when any requested package did not load (loadPackage only logs such failures). */
function assertPackagesLoaded(py, requested) {
  const loaded = new Set(Object.keys(py.loadedPackages).map((n) => n.toLowerCase().replace(/[-_.]+/g, "-")));
  const missing = requested.filter((n) => !loaded.has(n.toLowerCase().replace(/[-_.]+/g, "-")));
  if (missing.length) throw new Error(`packages failed to load: ${missing.join(", ")}`);
}

async function boot() {
  progress("runtime", 0.05);
  const { loadPyodide } = await import(new URL("pyodide.mjs", PYODIDE_INDEX).href);
  progress("compile", 0.15);
  pyodide = await loadPyodide({
    indexURL: PYODIDE_INDEX,
    lockFileURL: new URL("pyodide-lock.json", PYODIDE_INDEX).href,
    packages: BOOT_PACKAGES,
    stdout: (line) => console.log("[py]", line),
    stderr: (line) => console.warn("[py]", line),
  });
  progress("packages", 0.85);
  assertPackagesLoaded(pyodide, BOOT_PACKAGES);
  const agentPy = pyodide.pyimport("agent_py");
  const version = agentPy.__version__;
  progress("ready", 1);
  postMessage({ type: "ready", version, timings, crossOriginIsolated: self.crossOriginIsolated });
  modelLayerReady = loadModelLayer();
}

async function loadModelLayer() {
  const errors = [];
  await pyodide.loadPackage(MODEL_PACKAGES, { messageCallback: () => {}, errorCallback: (m) => errors.push(m) });
  if (errors.length) throw new Error(`model layer failed to load: ${errors.join("; ")}`);
  assertPackagesLoaded(pyodide, MODEL_PACKAGES);
  timings.modelLayer = Math.round(performance.now() - t0);
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

function handle(message) {
  const { data } = message;
  if (data?.type === "exec-python") return execPython(data);
  if (data?.type === "sandbox-port") {
    self.sandboxPort = message.ports[0];
    return undefined;
  }
  return undefined;
}

self.onmessage = (message) => {
  if (!pyodide) pending.push(message);
  else handle(message);
};

boot().then(
  () => pending.splice(0).forEach(handle),
  (err) => postMessage({ type: "boot-error", message: String(err && err.stack ? err.stack : err) }),
);
