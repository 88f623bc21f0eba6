/**
 * The widget's end of the host channel, loaded by the page in embed mode (index.html?embed=1).
 *
 * - Accepts exactly one `codeact:connect` window message, from the parent window, carrying a MessagePort; every
 *   later message must come through that port and pass checkHostMessage. Nothing from other frames is heard.
 * - Host tools: the host registers specs (its handlers stay in the host page). A call from the agent goes
 *   through the PolicyGate (deny / ask the widget's user / allow, and a per-tool rate cap) before it is posted to
 *   the host; the answer must come back within HOST_TOOL_TIMEOUT_MS.
 * - Run events are forwarded to the host; keys and storage never are (they stay on this origin).
 *
 * @example (static/app/main.mjs)  if (embedMode) (await import("../embed/bridge.mjs")).startBridge(window.codeact)
 */

import { checkHostMessage, checkToolSpec, ProtocolError } from "./protocol.mjs";
import { PolicyGate } from "./policy.mjs";

export const HOST_TOOL_TIMEOUT_MS = 60_000;

/**
 * @param {{agent: import("../app/agent_host.mjs").AgentHandle, approve?: (call: object) => Promise<boolean>,
 *          onOptions?: (options: object) => void}} app
 */
export function startBridge(app, { win = window } = {}) {
  const { agent } = app;
  let port = null;
  let hostOrigin = "";
  let tools = new Map();
  const calls = new Map(); // callId -> {resolve, timer}
  const gate = new PolicyGate({ approve: app.approve ?? (async () => false) });

  function send(message) {
    port?.postMessage(message);
  }

  function onConnect(event) {
    if (port || event.source !== win.parent || event.data?.type !== "codeact:connect" || !event.ports[0]) return;
    port = event.ports[0];
    hostOrigin = event.origin;
    win.removeEventListener("message", onConnect);
    port.onmessage = ({ data }) => onHostMessage(data);
    if (event.data.options && typeof event.data.options === "object") app.onOptions?.(event.data.options);
    agent.ready.then((info) => send({ type: "ready", version: info.version,
      crossOriginIsolated: info.crossOriginIsolated }));
  }

  function onHostMessage(message) {
    try {
      checkHostMessage(message);
    } catch (err) {
      send({ type: "error", message: `rejected: ${err.message}` });
      return;
    }
    switch (message.type) {
      case "register-tools":
        tools = new Map(message.tools.map((spec) => [spec.name, checkToolSpec(spec)]));
        agent.setHostTools?.([...tools.values()], hostOrigin);
        break;
      case "start": {
        const runId = agent.startRun(message.task, { ...(app.currentSettings?.() ?? {}), ...(message.settings ?? {}) });
        send({ type: "event", event: { type: "RunStarted", run_id: runId, request_id: message.requestId ?? null } });
        break;
      }
      case "stop":
        if (message.runId) agent.stopRun(message.runId);
        else app.stopCurrentRun?.();
        break;
      case "tool-result": {
        const call = calls.get(message.callId);
        if (!call) return; // unknown or late: the call already timed out
        calls.delete(message.callId);
        clearTimeout(call.timer);
        call.resolve(message.ok ? { ok: true, value: message.value } : { ok: false, error: message.error });
        break;
      }
      case "set-options":
        app.onOptions?.(message.options);
        break;
    }
  }

  /**
   * Called by the agent side for every host tool call. Resolves {ok, value} or {ok: false, error}.
   * @param {{runId: string, name: string, arguments: object}} call
   */
  async function callHostTool({ runId, name, arguments: args }) {
    const spec = tools.get(name);
    if (!spec) return { ok: false, error: `UnknownTool: the host page has no tool named ${name}` };
    const verdict = await gate.check(spec, args, hostOrigin);
    if (!verdict.ok) return { ok: false, error: verdict.error };
    const callId = crypto.randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        calls.delete(callId);
        resolve({ ok: false, error: `ToolError: the host page did not answer ${name} within ${HOST_TOOL_TIMEOUT_MS} ms` });
      }, HOST_TOOL_TIMEOUT_MS);
      calls.set(callId, { resolve, timer });
      send({ type: "tool-call", callId, runId, name, arguments: args });
    });
  }

  win.addEventListener("message", onConnect);
  agent.onEvent((event) => send({ type: "event", event }));
  return { callHostTool, get hostOrigin() { return hostOrigin; }, get tools() { return [...tools.values()]; } };
}

export { ProtocolError };
