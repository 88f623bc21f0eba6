/**
 * Page side of the sandbox: mounts the opaque-origin iframe and hands back a MessagePort to it.
 *
 * The iframe has `sandbox="allow-scripts"` and no `allow-same-origin`, so its origin is "null": it cannot read the
 * page's storage, cookies or DOM. It fetches nothing itself (its CSP says connect-src 'none'): the page fetches
 * MicroPython's files from its own origin and posts them in. The returned port goes to whoever drives the
 * sandbox (the agent worker) through wasm_sandbox/client.mjs.
 *
 * @example
 *   const { port, ready } = mountSandboxFrame();
 *   agentWorker.postMessage({ type: "sandbox-port" }, [port]);
 *   await ready;                 // the files are posted in; the client hears {op: "ready"} on the port
 */

const BASE = new URL("../", import.meta.url);
const FILES = {
  frame: new URL("static/vendor/sandbox/frame.html", BASE),
  glue: new URL("static/vendor/sandbox/micropython.classic.js", BASE),
  wasm: new URL("static/vendor/micropython/micropython.wasm", BASE),
  runtime: new URL("wasm_sandbox/worker_runtime.js", BASE),
  // The Python run in each worker before model code (see each file's header and preludeSource).
  prelude: ["prelude.py", "import_policy.py", "shims.py"].map((name) => new URL(`wasm_sandbox/${name}`, BASE)),
};

/**
 * prelude.py, with the other two as Python strings it compiles later: the import policy when the worker is
 * configured for a session, the shims on the first `import math` / `import re`. Compiling them at boot (~5 ms,
 * more on a worker whose wasm is not yet optimised) would delay every worker, spares included.
 */
function preludeSource([prelude, policy, shims]) {
  return `${prelude}\n\n_CODEACT_POLICY = ${JSON.stringify(policy)}\n_CODEACT_SHIMS = ${JSON.stringify(shims)}\n`;
}

async function fetchOk(url, kind) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`sandbox file ${url.pathname} failed to load: HTTP ${response.status}`);
  return kind === "bytes" ? response.arrayBuffer() : response.text();
}

/**
 * @param {{parent?: HTMLElement}} [options]
 * @returns {{port: MessagePort, ready: Promise<{frame: HTMLIFrameElement}>, frame: HTMLIFrameElement}}
 */
export function mountSandboxFrame({ parent = document.body } = {}) {
  const files = Promise.all([
    fetchOk(FILES.glue, "text"),
    fetchOk(FILES.runtime, "text"),
    Promise.all(FILES.prelude.map((url) => fetchOk(url, "text"))).then(preludeSource),
    fetchOk(FILES.wasm, "bytes"),
  ]);
  const frame = document.createElement("iframe");
  frame.setAttribute("sandbox", "allow-scripts");
  frame.setAttribute("allow", "cross-origin-isolated");
  frame.setAttribute("aria-hidden", "true");
  frame.tabIndex = -1;
  frame.title = "code sandbox";
  frame.name = "codeact-sandbox"; // how tests and devtools find it: a srcdoc frame's URL is about:srcdoc
  frame.style.cssText = "position:absolute;width:0;height:0;border:0;visibility:hidden";
  const channel = new MessageChannel();
  const ready = new Promise((resolve, reject) => {
    // The frame's first word; identified by its window, since an opaque origin says "null".
    const onLoaded = async (event) => {
      if (event.source !== frame.contentWindow || event.data?.type !== "codeact-sandbox-loaded") return;
      window.removeEventListener("message", onLoaded);
      try {
        const [glue, runtime, prelude, wasm] = await files;
        frame.contentWindow.postMessage({ type: "init", glue, runtime, prelude, wasm }, "*", [channel.port2, wasm]);
        resolve({ frame });
      } catch (err) {
        reject(err);
      }
    };
    window.addEventListener("message", onLoaded);
    files.catch(reject);
    // The frame's document goes in as srcdoc, fetched by the page: Chromium does not route the navigation of a
    // sandboxed iframe without allow-same-origin through the service worker, so `frame.src` fails offline, while
    // this fetch is served from its cache. The frame keeps its opaque origin and its meta CSP (pinned by hash); an
    // about:srcdoc document inherits the page's policy container, COEP included, so isolation is unchanged.
    fetchOk(FILES.frame, "text").then((html) => { frame.srcdoc = html; }, reject);
  });
  parent.append(frame);
  return { port: channel.port1, ready, frame };
}
