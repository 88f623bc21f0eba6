/**
 * The page's handle on the agent worker: starts it, tracks boot progress, and offers a promise-based API.
 *
 * @example
 *   const agent = startAgentWorker({ onProgress: (stage, fraction) => bar.value = fraction });
 *   await agent.ready;                       // {version, timings, crossOriginIsolated}
 *   const two = await agent.execPython("1 + 1");
 */

/**
 * @typedef {{version: string, timings: Record<string, number>, crossOriginIsolated: boolean}} ReadyInfo
 * @typedef {{ready: Promise<ReadyInfo>, worker: Worker, execPython: (code: string) => Promise<any>,
 *            startRun: (task: string, settings: object, options?: {runId?: string, resume?: object}) => string,
 *            stopRun: (runId: string) => void,
 *            request: (type: string, payload?: object) => Promise<any>,
 *            onEvent: (listener: (event: object) => void) => () => void}} AgentHandle
 */

/** A typed error from the worker ({type, message, fix?, ...}) as an Error whose `detail` keeps every field. */
function agentError(error) {
  const detail = typeof error === "object" && error !== null ? error : { type: "Error", message: String(error) };
  const err = new Error(detail.message);
  err.name = detail.type ?? "Error";
  err.detail = detail;
  return err;
}

/**
 * @param {{onProgress?: (stage: string, fraction: number) => void, logLevel?: string | null}} [options]
 *   logLevel: agent_py's log level in the worker (error, warn, info, debug, trace); from the page's `?log=`.
 * @returns {AgentHandle}
 */
export function startAgentWorker({ onProgress = () => {}, logLevel = null } = {}) {
  const url = new URL("./agent_worker.mjs", import.meta.url);
  if (logLevel) url.searchParams.set("log", logLevel);
  const worker = new Worker(url, { type: "module", name: "agent" });
  const calls = new Map();
  const listeners = new Set();
  let nextId = 1;
  let resolveReady;
  let rejectReady;
  const ready = new Promise((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });

  worker.onmessage = ({ data }) => {
    switch (data?.type) {
      case "progress":
        onProgress(data.stage, data.fraction);
        break;
      case "ready":
        resolveReady(data);
        break;
      case "boot-error":
        rejectReady(new Error(data.message));
        break;
      case "exec-result":
      case "reply": {
        const call = calls.get(data.id);
        if (!call) break;
        calls.delete(data.id);
        if (data.ok) call.resolve(data.value);
        else call.reject(agentError(data.error));
        break;
      }
      case "event":
        for (const listener of listeners) listener(data.event);
        break;
      default:
        break;
    }
  };
  worker.onerror = (event) => rejectReady(new Error(`agent worker failed: ${event.message || "unknown error"}`));

  function execPython(code) {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      calls.set(id, { resolve, reject });
      worker.postMessage({ type: "exec-python", id, code });
    });
  }

  /**
   * Start a run; events arrive through onEvent with `run_id` equal to the returned id. Messages posted before
   * Python is ready wait in the worker's queue, so a task typed during boot is not lost.
   */
  function startRun(task, settings, { runId = crypto.randomUUID(), resume = null } = {}) {
    worker.postMessage({ type: "start-run", runId, task, settings, resume });
    return runId;
  }

  /** Stop a run: the worker cancels its Python task, which aborts the model fetch and kills the sandbox run. */
  function stopRun(runId) {
    worker.postMessage({ type: "stop-run", runId });
  }

  /** A request/reply message to the worker (test-connection, put-file, get-file, ...); resolves with its value. */
  function request(type, payload = {}) {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      calls.set(id, { resolve, reject });
      worker.postMessage({ ...payload, type, id });
    });
  }

  function onEvent(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  return { ready, worker, execPython, startRun, stopRun, request, onEvent };
}
