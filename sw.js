/**
 * The page's service worker: keeps the app shell and the vendored runtime so the page works with the network off
 * after one visit. Registered by static/app/ui/offline.mjs once Python is ready (so it never competes with a cold
 * boot for the network).
 *
 * Strategy: network first, cache as fallback. On a normal visit every response comes from the server (or the HTTP
 * cache's 304), so an edit or a rebuild is never hidden behind a stale copy; each same-origin response of the app
 * is copied into the cache, and when the network fails the copy answers. Copies are whole Responses, headers
 * included: COOP/COEP on index.html and COEP on the sandbox frame survive, so the page stays cross-origin isolated
 * offline. A copy is rewritten only when Last-Modified/ETag/length differ, not on every visit (the runtime is 14 MB).
 *
 * Messages from the page:
 *   {type: "precache", urls: string[]}   copy these URLs now (what the first visit loaded before this worker was
 *                                         in control); answered on the MessagePort given, {cached, failed}
 *
 * Only the app's own paths are handled; everything else (the model endpoint, bench pages, other origins) goes to
 * the network untouched. Cache Storage names other than CACHE_PREFIX* (e.g. the Python snapshot) are not touched.
 */

const CACHE_PREFIX = "codeact-shell-";
const CACHE = `${CACHE_PREFIX}v1`;
const SCOPE = new URL("./", self.location.href);
// Paths of the app under the scope: the page, its code, the vendored runtime, the sandbox frame's files.
const APP_PATHS = ["", "index.html", "static/", "wasm_sandbox/", "manifest.json", "favicon.ico"];

function isAppUrl(url) {
  if (url.origin !== SCOPE.origin || !url.pathname.startsWith(SCOPE.pathname)) return false;
  const path = url.pathname.slice(SCOPE.pathname.length);
  return APP_PATHS.some((prefix) => (prefix === "" ? path === "" : path === prefix || (prefix.endsWith("/") && path.startsWith(prefix))));
}

function sameVersion(a, b) {
  if (!a || !b) return false;
  return ["etag", "last-modified", "content-length"].every((h) => a.headers.get(h) === b.headers.get(h))
    && (a.headers.has("etag") || a.headers.has("last-modified"));
}

async function keep(cache, request, response) {
  if (!response.ok || response.type !== "basic" || response.status !== 200) return;
  if (sameVersion(await cache.match(request), response)) return;
  try {
    await cache.put(request, response);
  } catch (err) {
    // Quota: the page still works online; offline it will miss this file. Nothing to tell the user from here.
    console.warn("codeact sw: could not cache", request.url, err);
  }
}

async function fromCache(request) {
  const cache = await caches.open(CACHE);
  const exact = await cache.match(request);
  if (exact) return exact;
  if (request.mode === "navigate") {
    // "/" and "/index.html" are the same page.
    return (await cache.match(new URL("index.html", SCOPE))) ?? (await cache.match(SCOPE));
  }
  return cache.match(request, { ignoreSearch: true }); // agent_worker.mjs?log=debug is agent_worker.mjs
}

async function networkFirst(event) {
  const { request } = event;
  try {
    const response = await fetch(request);
    event.waitUntil(caches.open(CACHE).then((cache) => keep(cache, request, response.clone())));
    return response;
  } catch (err) {
    const cached = await fromCache(request);
    if (cached) return cached;
    throw err;
  }
}

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET" || request.headers.has("range")) return;
  if (!isAppUrl(new URL(request.url))) return;
  event.respondWith(networkFirst(event));
});

self.addEventListener("message", (event) => {
  if (event.data?.type !== "precache" || !Array.isArray(event.data.urls)) return;
  const port = event.ports[0];
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    let cached = 0;
    const failed = [];
    for (const href of new Set(event.data.urls)) {
      const url = new URL(href, SCOPE);
      if (!isAppUrl(url)) continue;
      try {
        // The HTTP cache holds what the visit just loaded: this is a revalidation, not a second download.
        const response = await fetch(url, { credentials: "same-origin" });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        await keep(cache, new Request(url), response);
        cached += 1;
      } catch (err) {
        // Offline (or the server gone): a copy from an earlier visit still counts.
        if (await cache.match(url)) cached += 1;
        else failed.push(`${url.pathname}: ${err.message}`);
      }
    }
    port?.postMessage({ cached, failed });
  })());
});
