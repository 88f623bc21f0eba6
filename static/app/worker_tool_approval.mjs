/**
 * The agent worker's half of "ask" approvals for the run's tools (MCP, gateways, web research): Python's policy gate
 * (agent_py/toolkit/policy.py via agent_py/run_tools.py `page_approver`) asks, the page shows a dialog, the answer
 * comes back. Python sees this as the JS module `codeact_tool_approval`.
 *
 * Messages out (to the page, static/app/main.mjs):
 *   {type: "tool-approval", runId, callId, tool, source, arguments, description}
 *   {type: "tool-approval-cancel", runId, callId}     the call no longer waits (timeout, stopped run): close it
 * Messages in:
 *   {type: "tool-approval-result", runId, callId, approved}
 *
 * @example (agent_worker.mjs)
 *   const approvals = createToolApproval(postMessage);
 *   pyodide.registerJsModule("codeact_tool_approval", approvals.module);
 *   if (approvals.handles(data)) return approvals.handle(data);
 */

export function createToolApproval(post) {
  const waiting = new Map(); // "runId/callId" -> resolve("allow" | "deny")
  const key = (runId, callId) => `${runId}/${callId}`;

  const module = {
    /** Resolves "allow" only when the user pressed Allow; anything else is "deny". */
    ask(runId, callId, requestJson) {
      const request = JSON.parse(String(requestJson));
      return new Promise((resolve) => {
        waiting.set(key(runId, callId), resolve);
        post({ type: "tool-approval", runId: String(runId), callId: Number(callId), tool: String(request.tool),
          source: String(request.source ?? ""), arguments: request.arguments ?? {},
          description: String(request.description ?? "") });
      });
    },
    cancel(runId, callId) {
      const id = key(runId, callId);
      const resolve = waiting.get(id);
      waiting.delete(id);
      resolve?.("deny");
      post({ type: "tool-approval-cancel", runId: String(runId), callId: Number(callId) });
    },
  };

  return {
    module,
    handles: (data) => data?.type === "tool-approval-result",
    handle(data) {
      const id = key(data.runId, data.callId);
      const resolve = waiting.get(id);
      if (!resolve) return; // answered too late (cancelled) or forged: nothing waits for it
      waiting.delete(id);
      resolve(data.approved === true ? "allow" : "deny");
    },
  };
}
