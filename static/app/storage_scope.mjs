/**
 * Storage names for this page: the plain names on the full page; in embed mode (index.html?embed=1, inside
 * <codeact-agent>) names scoped to the embedding site's origin and the widget's instance, so two widgets on one
 * page, or the widget on two sites, never share settings, keys or run history (SECURITY-CASES 24).
 *
 * @example  const DB_NAME = scoped("codeact-history");   // "codeact-history" or "codeact-history@embed:https://shop.example#1"
 */

const params = new URLSearchParams(globalThis.location?.search ?? "");
/** "" on the full page; "embed:<host origin>#<instance>" in a widget. */
export const STORAGE_SCOPE = params.has("embed") ? `embed:${params.get("host") ?? ""}#${params.get("instance") ?? "0"}` : "";

/** @param {string} name a localStorage / sessionStorage key or an IndexedDB database name */
export function scoped(name) {
  return STORAGE_SCOPE ? `${name}@${STORAGE_SCOPE}` : name;
}
