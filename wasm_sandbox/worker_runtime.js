// The MicroPython sandbox worker. A classic script appended to MicroPython's glue (see codeact_host/sandbox_build.py)
// and started from a blob: URL inside the opaque-origin sandbox iframe, whose CSP (inherited) blocks every request.
//
// Messages from the iframe:  boot {module, prelude, sab?, options}, configure {options, stubs}, run {runId, code,
//                            async}, tool-result {callId, reply} (async mode), fs {reqId, op, path, bytes?}
// Messages to the iframe:    booted | boot-error {message}, configured, result {runId, result},
//                            tool-call {runId, callId, name, argsJson}, tool-chunk {runId, callId}
//                            (blocking mode: the next chunk of a long reply, please), fs-result {reqId, ok, value | error}
// Model code can post anything to the iframe too (`js.postMessage`): the iframe trusts none of it beyond shape.

"use strict";

// Defence in depth under the CSP: remove what model code could reach for through `js`.
const REMOVED_GLOBALS = [
  "fetch", "XMLHttpRequest", "WebSocket", "WebSocketStream", "EventSource", "Worker", "SharedWorker",
  "BroadcastChannel", "indexedDB", "caches", "Request", "Response", "WebTransport", "FileReaderSync",
];
for (const name of REMOVED_GLOBALS) {
  try {
    Object.defineProperty(self, name, { value: undefined, configurable: false, writable: false });
  } catch {
    /* not present in this browser */
  }
}

const PAGE = 65536;
let capBytes = 256 * 1024 * 1024;
// The heap grows itself (heapsize is not a cap): refusing growth past the cap makes MicroPython raise MemoryError.
const realGrow = WebAssembly.Memory.prototype.grow;
WebAssembly.Memory.prototype.grow = function grow(pages) {
  if (this.buffer.byteLength + pages * PAGE > capBytes) {
    throw new RangeError(`sandbox memory cap of ${capBytes / 1048576} MB reached`);
  }
  return realGrow.call(this, pages);
};
// Heap growths that failed for good (Emscripten says so on printErr once its smaller retries are refused too): a
// cell during which this moved ran into the cap, a MemoryError, even if the cell caught it.
let failedGrowths = 0;
const GROWTH_FAILED = /^(Failed to grow the heap|Cannot enlarge memory)/;

/** Keeps the first `head` and the last `tail` bytes of an output stream, counting what falls between. */
class CappedOutput {
  constructor(limit) {
    this.headCap = Math.floor(limit * 0.7);
    this.tailCap = limit - this.headCap;
    this.head = new Uint8Array(this.headCap);
    this.tail = new Uint8Array(this.tailCap);
    this.headLen = 0;
    this.total = 0;
  }

  /** Empty again for the next cell: the buffers are kept (a cell's output cap is fixed once configured). */
  clear() {
    this.headLen = 0;
    this.total = 0;
  }

  push(byte) {
    if (this.headLen < this.headCap) this.head[this.headLen++] = byte;
    else this.tail[(this.total - this.headCap) % this.tailCap] = byte;
    this.total++;
  }

  /** A whole write at once: the head fills first, then only the last tailCap bytes can matter. */
  pushBytes(bytes) {
    let from = 0;
    if (this.headLen < this.headCap) {
      from = Math.min(this.headCap - this.headLen, bytes.length);
      this.head.set(bytes.subarray(0, from), this.headLen);
      this.headLen += from;
      this.total += from;
    }
    const rest = bytes.length - from;
    const skip = Math.max(0, rest - this.tailCap);
    for (let j = skip; j < rest; j++) this.tail[(this.total + j - this.headCap) % this.tailCap] = bytes[from + j];
    this.total += rest;
  }

  text() {
    if (this.total === 0) return { text: "", truncated: false, total: 0 };
    const head = decoder.decode(this.head.subarray(0, this.headLen));
    const overflow = this.total - this.headLen;
    if (overflow <= 0) return { text: head, truncated: false, total: this.total };
    const kept = Math.min(overflow, this.tailCap);
    const start = (this.total - this.headCap - kept) % this.tailCap;
    const ordered = new Uint8Array(kept);
    for (let i = 0; i < kept; i++) ordered[i] = this.tail[(start + i) % this.tailCap];
    const cut = overflow - kept;
    const marker = cut > 0 ? `\n[... ${cut} bytes of output cut: the sandbox keeps the first and last part ...]\n` : "";
    return { text: head + marker + decoder.decode(ordered), truncated: cut > 0, total: this.total };
  }
}

let mp = null;
let runSync = null; // _codeact_run_sync, kept at boot
let outputLimit = 20000;
let stdout = new CappedOutput(outputLimit);
let stderr = new CappedOutput(4096);
let sab = null;
let currentRunId = null;
let nextCallId = 1;
const asyncCalls = new Map();
const decoder = new TextDecoder();

function errorReply(type, message) {
  return JSON.stringify({ ok: false, error: { type, message } });
}

/**
 * Tool calls from Python. They must never throw: a JS exception raised in a synchronous call from MicroPython
 * skips Python's try/except and aborts the whole cell. Every failure comes back as an error reply instead.
 */
const hostBridge = {
  call_sync(name, argsJson) {
    try {
      if (!sab) return errorReply("ToolError", "blocking tool calls need a cross-origin isolated page");
      const header = new Int32Array(sab, 0, 4);
      Atomics.store(header, 0, 0);
      const callId = `c${nextCallId++}`;
      postMessage({ type: "tool-call", runId: currentRunId, callId, name: String(name), argsJson: String(argsJson) });
      // The reply comes in chunks of at most the buffer's size: [0] ready flag, [1] chunk bytes, [2] total bytes.
      const parts = [];
      let received = 0;
      for (;;) {
        if (Atomics.wait(header, 0, 0, 600_000) === "timed-out") return errorReply("ToolError", `tool ${name} did not answer`);
        const length = Atomics.load(header, 1);
        const total = Atomics.load(header, 2);
        parts.push(new Uint8Array(sab, 16, length).slice());
        received += length;
        Atomics.store(header, 0, 0);
        if (received >= total || length === 0) break;
        postMessage({ type: "tool-chunk", runId: currentRunId, callId });
      }
      if (parts.length === 1) return decoder.decode(parts[0]);
      const whole = new Uint8Array(received);
      let at = 0;
      for (const part of parts) {
        whole.set(part, at);
        at += part.length;
      }
      return decoder.decode(whole);
    } catch (err) {
      return errorReply("ToolError", `tool ${name} failed in the bridge: ${err}`);
    }
  },
  call_async(name, argsJson) {
    const callId = `c${nextCallId++}`;
    return new Promise((resolve) => {
      asyncCalls.set(callId, resolve);
      postMessage({ type: "tool-call", runId: currentRunId, callId, name: String(name), argsJson: String(argsJson) });
    });
  },
};

async function boot({ module, prelude, sab: sharedBuffer, options }) {
  sab = sharedBuffer ?? null;
  mp = await loadMicroPython({
    heapsize: options.heapsize ?? 4 * 1024 * 1024,
    pystack: options.pystack ?? 8192,
    moduleOverrides: {
      stdout: (byte) => stdout.push(byte),
      stderr: (byte) => stderr.push(byte),
      printErr: (text) => {
        if (GROWTH_FAILED.test(String(text))) failedGrowths++;
        else if (!String(text).startsWith("growMemory:")) console.error(text); // one per refused retry: noise
      },
      instantiateWasm(imports, receive) {
        WebAssembly.instantiate(module, imports).then((instance) => receive(instance, module));
        return {};
      },
    },
  });
  // Emscripten hands a device one byte per call; taking each write whole makes output about 10x cheaper.
  for (const [fd, sink] of [[1, () => stdout], [2, () => stderr]]) {
    const ops = mp.FS.getStream?.(fd)?.stream_ops;
    if (ops && typeof ops.write === "function") {
      ops.write = (stream, buffer, offset, length) => {
        sink().pushBytes(buffer.subarray(offset, offset + length));
        return length;
      };
    }
  }
  mp.registerJsModule("_codeact_host", hostBridge);
  mp.runPython(prelude);
  // Kept as a proxy now: model code can rebind the global (final_answer.__globals__ leads there), not this.
  runSync = mp.globals.get("_codeact_run_sync");
}

let configured = false;

/** Once per worker: a second configure (model code can call this handler too, through `js`) is refused. */
function configure({ options, stubs }) {
  if (configured) throw new Error("this sandbox worker is configured already");
  configured = true;
  capBytes = (options.memoryMb ?? 256) * 1024 * 1024;
  outputLimit = options.outputLimit ?? 20000;
  stdout = new CappedOutput(outputLimit);
  mp.globals.set("_codeact_stubs", stubs || "");
  mp.globals.set("_codeact_imports", typeof options.allowedImports === "string" ? options.allowedImports : "");
  mp.runPython("_codeact_configure(_codeact_stubs, _codeact_imports)");
}

async function run({ runId, code, async: isAsync, replay }) {
  currentRunId = runId;
  stdout.clear();
  stderr.clear();
  const started = performance.now();
  const growthsFailedBefore = failedGrowths;
  let outcome;
  try {
    if (isAsync) {
      mp.globals.set("_codeact_src", code);
      await mp.runPythonAsync("await _codeact_run_async(_codeact_src)");
      outcome = JSON.parse(mp.globals.get("_codeact_result"));
    } else {
      outcome = JSON.parse(runSync(code));
    }
  } catch (err) {
    // Only our runner's own failure lands here (it catches everything the cell raises): a wasm trap or a JS
    // error thrown through Python. The VM may be broken after it, so the iframe replaces this worker.
    outcome = { fatal: true, error: { type: "SandboxCrashed", message: String(err?.message ?? err), traceback: [] } };
  }
  const out = stdout.text();
  const errText = stderr.text();
  currentRunId = null;
  postMessage({
    type: "result",
    runId,
    replay: Boolean(replay),
    result: {
      ...outcome,
      stdout: out.text,
      stderr: errText.text,
      truncated: out.truncated || errText.truncated,
      duration_ms: performance.now() - started,
      memory_capped: failedGrowths > growthsFailedBefore,
    },
  });
}

function fsOp({ reqId, op, path, bytes }) {
  try {
    const FS = mp.FS;
    let value = null;
    if (op === "put") {
      const dir = path.split("/").slice(0, -1).join("/");
      if (dir) FS.mkdirTree(dir);
      FS.writeFile(path, new Uint8Array(bytes));
    } else if (op === "get") {
      value = FS.readFile(path); // Uint8Array
    } else if (op === "delete") {
      try {
        FS.unlink(path);
      } catch (err) {
        let exists = true;
        try { FS.stat(path); } catch { exists = false; }
        if (exists) throw err; // gone already is what a delete wants
      }
    } else if (op === "list") {
      value = [];
      const walk = (dir) => {
        for (const name of FS.readdir(dir)) {
          if (name === "." || name === "..") continue;
          const full = `${dir}/${name}`;
          const stat = FS.stat(full);
          if (FS.isDir(stat.mode)) walk(full);
          else value.push({ path: full, size: stat.size, mtime: stat.mtime?.getTime?.() ?? 0 });
        }
      };
      walk(path || "/workspace");
    } else {
      throw new Error(`unknown file operation ${op}`);
    }
    postMessage({ type: "fs-result", reqId, ok: true, value });
  } catch (err) {
    postMessage({ type: "fs-result", reqId, ok: false, error: String(err?.message ?? err) });
  }
}

self.onmessage = async ({ data }) => {
  switch (data?.type) {
    case "boot":
      try {
        await boot(data);
        postMessage({ type: "booted" });
      } catch (err) {
        postMessage({ type: "boot-error", message: String(err?.stack ?? err) });
      }
      break;
    case "configure":
      try {
        configure(data);
        postMessage({ type: "configured" });
      } catch (err) {
        postMessage({ type: "configure-error", message: String(err?.message ?? err) });
      }
      break;
    case "run":
      await run(data);
      break;
    case "tool-result": {
      const resolve = asyncCalls.get(data.callId);
      if (resolve) {
        asyncCalls.delete(data.callId);
        resolve(String(data.reply));
      }
      break;
    }
    case "fs":
      fsOp(data);
      break;
  }
};
