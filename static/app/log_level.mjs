/**
 * The log level the page's URL asks for: `?log=debug` turns on agent_py's debug logging in the agent worker.
 * The worker's own location is its script's URL, so the page reads the parameter and hands the level over.
 *
 * @example
 *   import { logLevelFromUrl } from "./log_level.mjs";
 *   const level = logLevelFromUrl();              // "debug" for http://host/?log=debug, null when absent
 *   if (level) await agent.execPython(`import agent_py.log as l; l.set_level(${JSON.stringify(level)})`);
 *
 * Same names and aliases as agent_py.log (set_level / level_from_url), so both sides agree on what is valid.
 */

/** @typedef {"error" | "warn" | "info" | "debug" | "trace"} LogLevel */

/** @type {readonly LogLevel[]} the levels, most severe first */
export const LOG_LEVELS = Object.freeze(["error", "warn", "info", "debug", "trace"]);

/** @type {Readonly<Record<string, LogLevel>>} */
const ALIASES = Object.freeze({ warning: "warn", err: "error", critical: "error", fatal: "error" });

/**
 * A valid level name for `value` (case-insensitive, aliases allowed), or null.
 * @param {string | null | undefined} value
 * @returns {LogLevel | null}
 */
export function normalizeLogLevel(value) {
  if (typeof value !== "string") return null;
  const name = value.trim().toLowerCase();
  const level = ALIASES[name] ?? name;
  return LOG_LEVELS.includes(/** @type {LogLevel} */ (level)) ? /** @type {LogLevel} */ (level) : null;
}

/**
 * The level in the `log` query parameter of `url` (the page's address by default), or null when absent or unknown.
 * An unknown value is reported on the console rather than ignored silently.
 * @param {string | URL} [url]
 * @returns {LogLevel | null}
 */
export function logLevelFromUrl(url = globalThis.location?.href ?? "") {
  let params;
  try {
    params = new URL(String(url), "http://localhost/").searchParams;
  } catch {
    return null;
  }
  const raw = params.get("log");
  if (raw === null) return null;
  const level = normalizeLogLevel(raw);
  if (!level) console.warn(`?log=${raw} is not a log level; use one of ${LOG_LEVELS.join(", ")}`);
  return level;
}
