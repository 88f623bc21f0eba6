/**
 * Keeps one Pyodide memory snapshot per vendored build in Cache Storage, so a second visit restores a booted
 * interpreter (agent_py and httpx already imported) instead of starting Python from nothing: ~10x faster.
 *
 * The snapshot is keyed by the build stamp (static/vendor/BUILD.json), so a new build never restores an old
 * heap. Everything here is best-effort: no Cache Storage (private mode, quota) means a normal boot, never a
 * failure. The sandbox cannot read it: sandboxed code runs on an opaque origin.
 */

const CACHE_NAME = "codeact-pyodide-snapshot";

/** @param {string} stamp */
function keyFor(stamp) {
  return new URL(`/__snapshot__/${stamp}`, self.location.origin).href;
}

/** @param {string} stamp @returns {Promise<Uint8Array | null>} */
export async function loadSnapshot(stamp) {
  try {
    const cache = await caches.open(CACHE_NAME);
    const hit = await cache.match(keyFor(stamp));
    return hit ? new Uint8Array(await hit.arrayBuffer()) : null;
  } catch {
    return null;
  }
}

/** Stores the snapshot for `stamp` and drops those of other builds. @returns {Promise<boolean>} stored */
export async function saveSnapshot(stamp, bytes) {
  try {
    const cache = await caches.open(CACHE_NAME);
    for (const request of await cache.keys()) {
      if (request.url !== keyFor(stamp)) await cache.delete(request);
    }
    await cache.put(keyFor(stamp), new Response(bytes, { headers: { "Content-Type": "application/octet-stream" } }));
    return true;
  } catch (err) {
    console.warn("Python snapshot not saved (the next visit boots normally):", err);
    return false;
  }
}

/** @param {string} stamp */
export async function dropSnapshot(stamp) {
  try {
    await (await caches.open(CACHE_NAME)).delete(keyFor(stamp));
  } catch {
    /* nothing stored, nothing to drop */
  }
}
