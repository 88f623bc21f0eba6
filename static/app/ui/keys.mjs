/**
 * The API key, and only the key: sessionStorage (gone when the tab closes) unless the user ticks "remember", then
 * localStorage. It is never part of the saved settings, the run history or an export (SECURITY-CASES 20/21); the
 * page hands it only to the agent worker, which sends it in the Authorization header to the configured endpoint.
 *
 * @example
 *   saveKey("sk-…", { remember: false });   // sessionStorage only
 *   readKey();                               // "sk-…" (session first, then a remembered key)
 *   isRemembered();                          // false
 *   forgetKey();                             // gone from both
 */

import { scoped } from "../storage_scope.mjs"; // embed mode: per widget (SECURITY-CASES 24)
const KEY_NAME = scoped("codeact.apiKey");

// Storage can throw on access (privacy modes, sandboxed documents, quota): a failure must never break the page,
// and the key then simply lives in this page's memory until it closes.
let memoryKey = "";

function storage(kind) {
  try {
    return kind === "local" ? globalThis.localStorage : globalThis.sessionStorage;
  } catch {
    return null;
  }
}

/** @returns {string} the key for this tab: the session's, else a remembered one, else "" */
export function readKey() {
  try {
    return storage("session")?.getItem(KEY_NAME) ?? storage("local")?.getItem(KEY_NAME) ?? memoryKey;
  } catch {
    return memoryKey;
  }
}

/** @returns {boolean} true when the key is kept in localStorage (survives the tab) */
export function isRemembered() {
  try {
    return Boolean(storage("local")?.getItem(KEY_NAME));
  } catch {
    return false;
  }
}

/** Remove the key from every place it may be kept. */
export function forgetKey() {
  memoryKey = "";
  for (const kind of ["session", "local"]) {
    try {
      storage(kind)?.removeItem(KEY_NAME);
    } catch {
      /* unavailable storage holds nothing */
    }
  }
}

/**
 * Keep `key` in exactly one place: localStorage with `remember`, sessionStorage otherwise.
 * @param {string} key @param {{remember?: boolean}} [options]
 * @returns {"local" | "session" | "memory" | "none"} where it ended up
 */
export function saveKey(key, { remember = false } = {}) {
  forgetKey();
  if (!key) return "none";
  const kind = remember ? "local" : "session";
  try {
    storage(kind).setItem(KEY_NAME, key);
    return kind;
  } catch {
    memoryKey = key;
    return "memory";
  }
}

/**
 * A deep copy of `value` with every API key removed: any property named like a key or a secret, and any string
 * equal to the current key. Used on everything that leaves the page or is stored (history, exports).
 * @template T @param {T} value @param {string} [key] the key to scrub by value (defaults to the current one)
 * @returns {T}
 */
export function withoutKeys(value, key = readKey()) {
  const SECRET_FIELD = /^(api_?key|authorization|token_secret|secret|password)$/i;
  const scrub = (item) => {
    if (typeof item === "string") return key && key.length >= 4 ? item.split(key).join("[key removed]") : item;
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
