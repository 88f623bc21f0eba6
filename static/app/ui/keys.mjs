/**
 * The API keys, and only the keys (the model's, and the planner model's in planner + implementer mode, `PLANNER_KEY`): sessionStorage (gone when the tab closes) unless the user ticks "remember", then
 * localStorage. It is never part of the saved settings, the run history or an export (SECURITY-CASES 20/21); the
 * page hands it only to the agent worker, which sends it in the Authorization header to the configured endpoint.
 *
 * @example
 *   saveKey("sk-…", { remember: false });   // sessionStorage only
 *   readKey();                               // "sk-…" (session first, then a remembered key)
 *   isRemembered();                          // false
 *   forgetKey();                             // gone from both
 *   saveKey("sk-…", { name: PLANNER_KEY });  // the planner's key, same rule; readKey(PLANNER_KEY)
 */

import { scoped } from "../storage_scope.mjs"; // embed mode: per widget (SECURITY-CASES 24)
const KEY_NAME = scoped("codeact.apiKey");
export const PLANNER_KEY = scoped("codeact.plannerApiKey");

// Storage can throw on access (privacy modes, sandboxed documents, quota): a failure must never break the page,
// and the key then simply lives in this page's memory until it closes.
const memoryKeys = new Map(); // name -> key

function storage(kind) {
  try {
    return kind === "local" ? globalThis.localStorage : globalThis.sessionStorage;
  } catch {
    return null;
  }
}

/** @param {string} [name] @returns {string} the key for this tab: the session's, else a remembered one, else "" */
export function readKey(name = KEY_NAME) {
  const memoryKey = memoryKeys.get(name) ?? "";
  try {
    return storage("session")?.getItem(name) ?? storage("local")?.getItem(name) ?? memoryKey;
  } catch {
    return memoryKey;
  }
}

/** @param {string} [name] @returns {boolean} true when the key is kept in localStorage (survives the tab) */
export function isRemembered(name = KEY_NAME) {
  try {
    return Boolean(storage("local")?.getItem(name));
  } catch {
    return false;
  }
}

/** Remove the key from every place it may be kept. @param {string} [name] */
export function forgetKey(name = KEY_NAME) {
  memoryKeys.delete(name);
  for (const kind of ["session", "local"]) {
    try {
      storage(kind)?.removeItem(name);
    } catch {
      /* unavailable storage holds nothing */
    }
  }
}

/**
 * Keep `key` in exactly one place: localStorage with `remember`, sessionStorage otherwise.
 * @param {string} key @param {{remember?: boolean, name?: string}} [options] name: PLANNER_KEY for the planner's
 * @returns {"local" | "session" | "memory" | "none"} where it ended up
 */
export function saveKey(key, { remember = false, name = KEY_NAME } = {}) {
  forgetKey(name);
  if (!key) return "none";
  const kind = remember ? "local" : "session";
  try {
    storage(kind).setItem(name, key);
    return kind;
  } catch {
    memoryKeys.set(name, key);
    return "memory";
  }
}

/**
 * A deep copy of `value` with every API key removed: any property named like a key or a secret, and any string
 * equal to a current key (the model's or the planner's). Used on everything that leaves the page or is stored
 * (history, exports).
 * @template T @param {T} value @param {string | string[]} [key] the key(s) to scrub by value (default: the current ones)
 * @returns {T}
 */
export function withoutKeys(value, key = [readKey(), readKey(PLANNER_KEY)]) {
  // `token` and `headers`: the Tools settings' bearer tokens and gateway headers (ui/tool_secrets.mjs).
  const SECRET_FIELD = /^(api_?key|authorization|token_secret|secret|password|token|headers)$/i;
  const keys = (Array.isArray(key) ? key : [key]).filter((k) => k && k.length >= 4);
  const scrub = (item) => {
    if (typeof item === "string") return keys.reduce((text, k) => text.split(k).join("[key removed]"), item);
    if (Array.isArray(item)) return item.map(scrub);
    if (item && typeof item === "object") {
      const out = {};
      for (const [name, field] of Object.entries(item)) {
        if (!SECRET_FIELD.test(name)) out[name] = scrub(field);
      }
      return out;
    }
    return item;
  };
  return scrub(value);
}
