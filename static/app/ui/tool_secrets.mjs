/**
 * Secrets of the Tools settings (MCP bearer tokens, gateway headers) follow the API key's rule (ui/keys.mjs):
 * sessionStorage unless the user ticks "remember", then localStorage; never in the saved settings, the history or
 * an export (those go through withoutKeys, which drops `token` and `headers` fields). The page hands them only
 * to the agent worker with a run; the sandbox never sees them.
 *
 * @example
 *   saveToolSecrets({ "mcp:https://x/mcp": { token: "t" } }, { remember: false });
 *   readToolSecrets();            // {"mcp:https://x/mcp": {token: "t"}}
 *   toolSecretsRemembered();      // false
 */
import { scoped } from "../storage_scope.mjs";

const NAME = scoped("codeact.toolSecrets");
let memory = {}; // storage refused (private mode, sandboxed document): secrets live as long as the page

function storage(kind) {
  try {
    return kind === "local" ? globalThis.localStorage : globalThis.sessionStorage;
  } catch {
    return null;
  }
}

function parse(text) {
  try {
    const value = JSON.parse(text || "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

/** @returns {Record<string, {token?: string, headers?: Record<string, string>}>} keyed "mcp:<url>" / "gateway:<url>" */
export function readToolSecrets() {
  try {
    const text = storage("session")?.getItem(NAME) ?? storage("local")?.getItem(NAME);
    return text ? parse(text) : { ...memory };
  } catch {
    return { ...memory };
  }
}

/** @returns {boolean} true when the secrets are kept in localStorage */
export function toolSecretsRemembered() {
  try {
    return Boolean(storage("local")?.getItem(NAME));
  } catch {
    return false;
  }
}

/** Keep `secrets` in exactly one place (see the module comment); empty secrets are removed everywhere. */
export function saveToolSecrets(secrets, { remember = false } = {}) {
  memory = {};
  for (const kind of ["session", "local"]) {
    try {
      storage(kind)?.removeItem(NAME);
    } catch {
      /* unavailable storage holds nothing */
    }
  }
  if (!Object.keys(secrets).length) return "none";
  const kind = remember ? "local" : "session";
  try {
    storage(kind).setItem(NAME, JSON.stringify(secrets));
    return kind;
  } catch {
    memory = { ...secrets };
    return "memory";
  }
}
