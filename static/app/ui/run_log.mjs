/**
 * The agent's log, from the page: its level (Settings; a `?log=` in the URL wins for that visit) and the
 * downloadable run log — agent_py.log's ring buffer of the last 5,000 records of the agent, the model layer and
 * the sandbox client, in which keys are redacted and file contents never appear (agent_py/log.py).
 *
 * @example
 *   const logs = createLogControls(agent, { urlLevel: logLevelFromUrl() });
 *   await logs.setLevel("debug");   // -> the level in force ("debug", or the URL's)
 *   await logs.download();          // codeact-run-log-<time>.txt
 */
import { normalizeLogLevel } from "../log_level.mjs";

/**
 * @param {{execPython: (code: string) => Promise<any>}} agent
 * @param {{urlLevel?: string | null}} [options]
 */
export function createLogControls(agent, { urlLevel = null } = {}) {
  /** @param {string | null | undefined} level */
  async function setLevel(level) {
    if (urlLevel) return urlLevel;
    const valid = normalizeLogLevel(level ?? "");
    if (!valid) return null;
    await agent.execPython(`from agent_py import log as _log\n_log.set_level(${JSON.stringify(valid)})`);
    return valid;
  }

  async function download() {
    const text = await agent.execPython("from agent_py import log as _log\n_log.run_log().to_text()");
    const url = URL.createObjectURL(new Blob([String(text)], { type: "text/plain" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `codeact-run-log-${new Date().toISOString().replace(/[:.]/g, "-")}.txt`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  return { setLevel, download };
}
