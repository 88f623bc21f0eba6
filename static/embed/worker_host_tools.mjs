/**
 * The agent worker's half of host tools (embed mode): keeps each run's host tool specs and carries calls from
 * Python to the widget page and answers back. Python sees it as the JS module `codeact_host_tools`
 * (agent_py/host_tools.py).
 *
 * Messages in (from the widget page, static/embed/embed_page.mjs):
 *   {type: "host-tools", runId, tools, builtins}   the run's host tool specs; sent right before its start-run
 *   {type: "host-tool-result", id, ok, value | error: {type, message}}
 * Messages out:
 *   {type: "host-tool-call", id, runId, name, arguments}
 *
 * @example (agent_worker.mjs)
 *   const hostTools = createHostTools(postMessage);
 *   pyodide.registerJsModule("codeact_host_tools", hostTools.module);
 *   if (hostTools.handles(data)) return hostTools.handle(data);
 */

export function createHostTools(post) {
  const runs = new Map(); // run id -> {tools, builtins}
  const calls = new Map(); // call id -> resolve(reply JSON)
  let nextId = 1;

  const module = {
    /** The run's host tools and which built-in tools are on (null: all). */
    spec_json(runId) {
      const run = runs.get(String(runId));
      return JSON.stringify({ tools: run?.tools ?? [], builtins: run?.builtins ?? null });
    },
    /** One call; resolves with the reply as JSON. The widget page applies the policy and times out. */
    call(runId, name, argumentsJson) {
      const id = nextId++;
      return new Promise((resolve) => {
        calls.set(id, resolve);
        post({ type: "host-tool-call", id, runId: String(runId), name: String(name),
          arguments: JSON.parse(String(argumentsJson)) });
      });
    },
  };

  return {
    module,
    handles: (data) => data?.type === "host-tools" || data?.type === "host-tool-result",
    handle(data) {
      if (data.type === "host-tools") {
        runs.set(String(data.runId), { tools: data.tools ?? [], builtins: data.builtins ?? null });
        return;
      }
      const resolve = calls.get(data.id);
      if (!resolve) return;
      calls.delete(data.id);
      resolve(JSON.stringify(data.ok ? { ok: true, value: data.value ?? null }
        : { ok: false, error: data.error ?? { type: "ToolError", message: "the host tool failed" } }));
    },
  };
}
