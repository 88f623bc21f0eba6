/**
 * The widget's end of the host channel (embed mode; started by static/embed/embed_page.mjs).
 *
 * - Handshake: posts `codeact:hello` to the parent window, addressed to the configured host origin (the page's
 *   ?host= parameter, set by widget.js), and accepts exactly one `codeact:connect` back: from the parent window,
 *   from that origin, carrying a MessagePort. Every later message must come through that port and pass
 *   checkHostMessage; messages from any other window (the sandbox frame, another widget, a wrong origin) are
 *   dropped and counted in `rejected`.
 * - Host tools: the host registers specs (its handlers stay in the host page). A call from the agent goes through
 *   the PolicyGate (deny / ask the widget's user / allow, and a per-tool rate cap) before it is posted to the
 *   host; the answer must come back within HOST_TOOL_TIMEOUT_MS; results of unknown calls are refused.
 * - Runs: the host starts runs (it gets their id) and stops only runs it started. Their lifecycle events go to the
 *   host with the settings stripped; keys, storage and the history of the widget's other runs never do.
 */

import { checkHostMessage, checkToolSpec, ProtocolError } from "./protocol.mjs";
import { PolicyGate } from "./policy.mjs";

export const HOST_TOOL_TIMEOUT_MS = 60_000;
/** Events the host hears, for the runs it started (deltas are left out: the host wants steps, not keystrokes). */
export const FORWARDED_EVENTS = new Set(["RunStarted", "StepStarted", "CodeReady", "ToolCall", "Observation",
  "StepFinished", "FinalAnswer", "RunError", "RunFinished"]);

/**
 * @param {{hostOrigin: string, version: Promise<{version: string, crossOriginIsolated: boolean}>,
 *          startRun: (task: string) => string | null, stopRun: (runId: string) => void,
 *          onEvent: (listener: (event: object) => void) => void, builtinTools: string[],
 *          approve: (call: {tool: string, arguments: object, origin: string}) => Promise<boolean>,
 *          onOptions?: (options: object) => void, onTools?: (tools: object[]) => void}} app
 */
export function startBridge(app, { win = window } = {}) {
  const { hostOrigin } = app;
  let port = null;
  let tools = new Map();
  const hostRuns = new Set(); // run ids the host started: it hears their events and may stop them
  const endedRuns = new Set();
  const calls = new Map(); // callId -> {resolve, timer}
  const gate = new PolicyGate({ approve: app.approve });
  const state = { rejected: [], get connected() { return Boolean(port); }, get tools() { return [...tools.values()]; } };

  function reject(reason) {
    state.rejected.push(reason);
    if (state.rejected.length > 100) state.rejected.shift();
  }

  function send(message) {
    port?.postMessage(message);
  }

  function onWindowMessage(event) {
    if (event.data?.type !== "codeact:connect") return; // the sandbox frame's own messages pass here too
    if (event.source !== win.parent) return reject("connect from a window that is not the parent");
    if (event.origin !== hostOrigin) return reject(`connect from ${event.origin}, not ${hostOrigin}`);
    if (port) return reject("a second connect");
    if (!event.ports[0]) return reject("connect without a port");
    port = event.ports[0];
    port.onmessage = ({ data }) => onHostMessage(data);
    app.version.then((info) => send({ type: "ready", version: info.version,
      crossOriginIsolated: info.crossOriginIsolated }));
  }

  function refuse(reason, requestId = undefined) {
    reject(reason);
    send({ type: "error", message: `rejected: ${reason}`, ...(requestId ? { requestId } : {}) });
  }

  function settle(callId, reply) {
    const call = calls.get(callId);
    calls.delete(callId);
    clearTimeout(call.timer);
    call.resolve(reply);
  }

  function onHostMessage(message) {
    try {
      checkHostMessage(message);
    } catch (err) {
      const call = message?.type === "tool-result" ? calls.get(message.callId) : null;
      if (call) settle(message.callId, { ok: false, error: { type: "ToolError", message: `the host page's answer to ${call.name} was refused: ${err.message}` } });
      return refuse(err.message);
    }
    switch (message.type) {
      case "register-tools": {
        const clash = message.tools.find((spec) => app.builtinTools.includes(spec.name));
        if (clash) return refuse(`tool ${clash.name} is a built-in tool's name`);
        tools = new Map(message.tools.map((spec) => [spec.name, checkToolSpec(spec)]));
        app.onTools?.([...tools.values()]);
        break;
      }
      case "start": {
        const runId = app.startRun(message.task); // with the widget's settings: the host never sets the key

        if (!runId) return refuse("a run is already in progress", message.requestId);
        hostRuns.add(runId);
        send({ type: "started", requestId: message.requestId, runId });
        break;
      }
      case "stop":
        if (!hostRuns.has(message.runId)) return refuse(`unknown run id ${message.runId}`);
        app.stopRun(message.runId);
        break;
      case "tool-result": {
        const call = calls.get(message.callId);
        if (!call) return refuse(`unknown call id ${message.callId}`); // forged, or late: the call timed out
        settle(message.callId, message.ok ? { ok: true, value: message.value ?? null }
          : { ok: false, error: { type: "ToolError", message: `the host page's ${call.name} failed: ${message.error}` } });
        break;
      }
      case "set-options":
        app.onOptions?.(message.options);
        break;
    }
  }

  /**
   * One host tool call from the agent. Resolves {ok, value} or {ok: false, error: {type, message}}; never rejects.
   * @param {{runId: string, name: string, arguments: object}} call
   */
  async function callHostTool({ runId, name, arguments: args }) {
    const spec = tools.get(name);
    if (!spec || !port) return { ok: false, error: { type: "UnknownTool", message: `the host page has no tool ${name}` } };
    const verdict = await gate.check(spec, args, hostOrigin);
    if (!verdict.ok) return { ok: false, error: { type: "ToolDenied", message: verdict.error } };
    // An approval can outlive its run (stopped while the dialog was open): a dead run's call never reaches the host.
    if (endedRuns.has(runId)) return { ok: false, error: { type: "ToolDenied", message: `run ${runId} has ended` } };
    const callId = crypto.randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        calls.delete(callId);
        resolve({ ok: false, error: { type: "ToolTimeout",
          message: `the host page did not answer ${name} within ${HOST_TOOL_TIMEOUT_MS} ms` } });
      }, HOST_TOOL_TIMEOUT_MS);
      calls.set(callId, { resolve, timer, name });
      send({ type: "tool-call", callId, runId, name, arguments: args });
    });
  }

  win.addEventListener("message", onWindowMessage);
  app.onEvent((event) => {
    if (event?.type === "RunFinished") endedRuns.add(event.run_id);
    if (!hostRuns.has(event?.run_id) || !FORWARDED_EVENTS.has(event.type)) return;
    const { settings, ...shown } = event; // eslint-disable-line no-unused-vars -- never the run's settings
    send({ type: "event", event: shown });
  });
  // Only now say hello: the listener above is in place for the answer. Addressed to the host origin: a page of
  // another origin that framed the widget hears nothing.
  win.parent.postMessage({ type: "codeact:hello" }, hostOrigin);
  return { callHostTool, state };
}

export { ProtocolError };
