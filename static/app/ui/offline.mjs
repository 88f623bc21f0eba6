/**
 * Offline after one visit: registers /sw.js and hands it the list of everything this visit loaded, so the first
 * visit is enough (the worker only sees requests made after it took control).
 *
 * @example
 *   agent.ready.then(() => enableOffline({ workerResources: () => agent.execPython(RESOURCE_LIST) }));
 *   // resolves {cached, failed} once the files are in the cache; rejects where service workers are unavailable
 */

/** Python for the agent worker: the URLs its own fetches and imports loaded (Pyodide, wheels, modules). */
export const WORKER_RESOURCES_PY = "import js\n[e.name for e in js.performance.getEntriesByType('resource')]";

/**
 * @param {{swUrl?: string, workerResources?: () => Promise<string[]>}} [options]
 *   workerResources: URLs the agent worker loaded (its resource timing is not visible from the page)
 * @returns {Promise<{cached: number, failed: string[]}>}
 */
export async function enableOffline({ swUrl = new URL("../../../sw.js", import.meta.url).href, workerResources = async () => [] } = {}) {
  if (!("serviceWorker" in navigator)) throw new Error("service workers are not available here (private mode or http)");
  const scope = new URL("./", swUrl).href;
  await navigator.serviceWorker.register(swUrl, { scope, type: "classic" });
  const registration = await navigator.serviceWorker.ready;
  const own = performance.getEntriesByType("resource").map((e) => e.name);
  let theirs = [];
  try {
    theirs = await workerResources();
  } catch (err) {
    console.warn("offline: the agent worker's file list is unavailable; they are cached on the next visit", err);
  }
  const urls = [location.href.split("#")[0], new URL("index.html", scope).href, ...own, ...(theirs ?? [])];
  return new Promise((resolve, reject) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = ({ data }) => resolve(data);
    setTimeout(() => reject(new Error("the service worker did not answer")), 60000);
    registration.active.postMessage({ type: "precache", urls }, [channel.port2]);
  });
}
