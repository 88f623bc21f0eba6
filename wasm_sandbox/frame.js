// The sandbox iframe's one script (inlined into frame.html, pinned by hash in its CSP). It runs on an opaque origin:
// no storage, no cookies, no DOM of the app, no network (connect-src 'none'); its blob workers inherit all of that.
//
// It owns the MicroPython workers: one per session, a spare per session already configured for it (a kill swaps it
// in), a generic warm spare for new sessions, a deadline per run (kill + replace + replay of the session's
// successful cells with their recorded tool results; the deadline clock runs in a watchdog worker too), and the tool bridge (Atomics when the page
// is cross-origin isolated, messages otherwise). Everything a worker says is untrusted: model code can post
// messages too, so each one is checked for shape, run id and size before it means anything.
//
// Control port (from the agent, see client.mjs), requests {op, id, ...} answered {id, ok, value | error}:
//   create {session, options: {timeoutMs, memoryMb, outputLimit, stubs, asyncTools, allowedImports}}, run {session, code, async},
//   reset {session}, terminate {session}, put-file {session, path, bytes}, get-file {session, path},
//   list-files {session}, hash-files {session} (the listing with sha256 hashed here), delete-file {session, path},
//   hold-deadline {session, hold} (pause/resume the running cell's deadline while its user approves a tool call),
//   stats {}, and for the benchmark: probe-spawn {kind: "bare" | "sandbox"} -> {ms},
//   probe-echo {payload} -> payload (through a worker that only echoes: the same hop as a cell, without Python)
// and, from the frame: tool-call {session, runId, callId, name, argsJson} (callId numbered by this frame, unique for
// its lifetime; a reply to a call whose cell has ended or was killed is dropped); the agent answers
//   tool-result {session, callId, reply} (reply: a JSON string {ok, value} | {ok: false, error: {type, message}}).
"use strict";

(() => {
  const MAX_WORKER_MESSAGE = 4 * 1024 * 1024; // bytes of JSON-ish text a worker may send in one message
  const TOOL_CHUNK = 1024 * 1024; // bytes of a blocking tool reply per hand-over (the shared buffer's size)
  const MAX_TOOL_RESULT = 32 * 1024 * 1024; // bytes a tool reply may take in all
  const MAX_CODE = 1024 * 1024;
  const CATCHES_MEMORY_ERROR = /\bexcept\b[^:\n]*\bMemoryError\b/;
  let port = null;
  let workerUrl = null;
  let wasmModule = null;
  let prelude = "";
  let spare = null;
  const sessions = new Map();
  // Tool calls as the agent sees them are numbered by this frame, not by the worker: a replacement worker counts
  // its calls from 1 again, and a late reply to a killed cell's call must never answer the new worker's call.
  let nextToolCall = 1;
  const stats = { spawned: 0, killed: 0, alive: 0 };
  const isolated = self.crossOriginIsolated === true;

  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

  function send(message, transfer = []) {
    port.postMessage(message, transfer);
  }

  // --- workers ----------------------------------------------------------------------------------------------

  /** Start a worker and boot MicroPython in it. Resolves {worker, sab} once booted; rejects on failure. */
  function spawnWorker() {
    const worker = new Worker(workerUrl, { name: "micropython" });
    stats.spawned++;
    stats.alive++;
    const sab = isolated ? new SharedArrayBuffer(16 + TOOL_CHUNK) : null;
    const handle = { worker, sab, listener: null, dead: false };
    handle.booted = new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => {
        if (isObject(data) && data.type === "booted") resolve(handle);
        else if (isObject(data) && data.type === "boot-error") reject(new Error(String(data.message).slice(0, 2000)));
        else if (handle.listener) handle.listener(data);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        // An uncaught error (model code's callback can throw one) leaves the worker running: end it, or a crashed
        // worker and whatever its code scheduled live on, uncounted, with no session to answer to.
        kill(handle);
        reject(new Error(`sandbox worker failed: ${event.message || "crashed"}`));
        handle.onCrash?.(event.message || "crashed");
      };
    });
    handle.booted.then(() => {
      worker.onmessage = ({ data }) => handle.listener?.(data);
    }, () => {});
    worker.postMessage({ type: "boot", module: wasmModule, prelude, sab, options: {} });
    return handle;
  }

  function kill(handle) {
    if (!handle || handle.dead) return;
    handle.dead = true;
    handle.worker.terminate();
    stats.killed++;
    stats.alive--;
  }

  /** The warm spare if there is one, else a fresh worker. The caller starts the next spare (`warmSpare`). */
  function takeWorker() {
    const handle = spare ?? spawnWorker();
    spare = null;
    return handle;
  }

  /**
   * Start the next spare, once the worker just taken is configured: booting one competes for the same cores, and
   * on two of them that made a kill-to-ready 5-30 ms instead of about 1.
   */
  function warmSpare() {
    if (spare) return;
    spare = spawnWorker();
    spare.booted.catch(() => {
      spare = null;
    });
  }

  /** One request/answer exchange with a worker, by a message type and a matching answer type. */
  function ask(handle, message, answerType, check = () => true) {
    return new Promise((resolve, reject) => {
      handle.listener = (data) => {
        if (!isObject(data) || typeof data.type !== "string") return;
        if (data.type === answerType && check(data)) {
          handle.listener = null;
          resolve(data);
        } else if (data.type === `${message.type}-error`) {
          handle.listener = null;
          reject(new Error(String(data.message).slice(0, 2000)));
        }
      };
      handle.onCrash = (why) => reject(new Error(`sandbox worker crashed: ${why}`));
      handle.worker.postMessage(message);
    });
  }

  // --- sessions ---------------------------------------------------------------------------------------------

  /** Boot `handle` (if not yet) and make it the session's: options, tool stubs, import policy, uploaded files. */
  async function configureFor(session, handle) {
    await handle.booted;
    await ask(handle, { type: "configure", options: session.options, stubs: session.options.stubs }, "configured");
    for (const [path, bytes] of session.files) await fsOnWorker(handle, "put", path, bytes);
    handle.filesDone = true; // from here on, put-file writes into this worker too (see fileOp)
    return handle;
  }

  /**
   * The session's next worker: its own spare, configured ahead of time (so a kill only swaps workers), else a
   * generic one configured now. Then a new spare is prepared for the next kill.
   */
  async function attachWorker(session) {
    let handle = null;
    const spareOfSession = session.spare;
    session.spare = null;
    if (spareOfSession && !spareOfSession.dead) handle = await spareOfSession.ready.catch(() => null);
    if (!handle || handle.dead) handle = await configureFor(session, takeWorker());
    session.worker = handle;
    setTimeout(() => prepareSessionSpare(session), 0);
    return handle;
  }

  /**
   * A spare worker configured for this session, waiting for its next kill or reset. It is the warm spare (or a
   * new worker) configured in the background; the generic warm spare is started again once it is ready, not at
   * the same time: two boots at once compete for the same cores.
   */
  function prepareSessionSpare(session) {
    if (session.spare || sessions.get(session.name) !== session) return;
    const handle = takeWorker();
    session.spare = handle;
    handle.ready = configureFor(session, handle);
    handle.ready.then(() => setTimeout(warmSpare, 0), () => {
      if (session.spare === handle) session.spare = null;
      kill(handle);
    });
  }

  async function createSession(name, options) {
    if (sessions.has(name)) await terminateSession(name);
    const session = {
      name,
      options: {
        timeoutMs: Math.max(50, Number(options.timeoutMs) || 10000),
        memoryMb: Math.max(16, Number(options.memoryMb) || 256),
        outputLimit: Math.max(256, Number(options.outputLimit) || 20000),
        stubs: typeof options.stubs === "string" ? options.stubs : "",
        asyncTools: Boolean(options.asyncTools),
        // The import policy (wasm_sandbox/import_policy.py): "" MicroPython's own modules, "*" any, else a list.
        allowedImports: typeof options.allowedImports === "string" ? options.allowedImports.slice(0, 4000) : "",
      },
      worker: null,
      spare: null, // a worker already configured for this session: a kill swaps it in (kill-to-ready ~0)
      history: [], // successful cells: {code, async, toolResults: [{name, reply}]}
      files: new Map(), // uploads, put again into a replacement worker
      current: null,
      restoredBetween: null, // a restore a file operation made after a crash, told with the next run
      runs: 0,
    };
    sessions.set(name, session);
    await attachWorker(session);
    return { isolated, crossOriginIsolated: isolated };
  }

  function terminateSession(name) {
    const session = sessions.get(name);
    if (!session) return;
    sessions.delete(name);
    if (session.current) session.current.finish({ error: { type: "SandboxCrashed", message: "session terminated" } });
    kill(session.worker);
    kill(session.spare);
    session.spare = null;
  }

  /** Answer a tool call of the running cell: blocking (through the shared buffer, in chunks) or by message. */
  function deliverToolReply(session, handle, callId, reply) {
    if (handle.dead) return;
    let bytes = new TextEncoder().encode(reply);
    if (bytes.length > MAX_TOOL_RESULT) {
      reply = JSON.stringify({ ok: false, error: { type: "ToolResultError",
        message: `the tool result is ${bytes.length} bytes, over the ${MAX_TOOL_RESULT}-byte limit` } });
      bytes = new TextEncoder().encode(reply);
    }
    if (session.options.asyncTools || !handle.sab) {
      handle.worker.postMessage({ type: "tool-result", callId, reply });
      return;
    }
    handle.outgoing = { callId, bytes, offset: 0 };
    sendChunk(handle);
  }

  /** The next chunk of the blocking reply in flight; the worker asks for each after the first (tool-chunk). */
  function sendChunk(handle) {
    const out = handle.outgoing;
    if (!out || handle.dead) return;
    const chunk = out.bytes.subarray(out.offset, out.offset + TOOL_CHUNK);
    out.offset += chunk.length;
    if (out.offset >= out.bytes.length) handle.outgoing = null;
    new Uint8Array(handle.sab, 16, chunk.length).set(chunk);
    const header = new Int32Array(handle.sab, 0, 4);
    Atomics.store(header, 1, chunk.length);
    Atomics.store(header, 2, out.bytes.length);
    Atomics.store(header, 0, 1);
    Atomics.notify(header, 0);
  }

  // The deadline clock in a worker of its own. Timers of a hidden cross-origin frame are throttled (aligned to
  // tens of ms) and wait behind whatever this thread is doing; a worker that does nothing else fires on time, and
  // its message (messages are not throttled) brings the kill. Arm {arm: id, ms}, disarm {disarm: id}.
  const WATCHDOG_WORKER = `const timers = new Map();
onmessage = ({ data }) => {
  if (data.arm) timers.set(data.arm, setTimeout(() => { timers.delete(data.arm); postMessage(data.arm); }, data.ms));
  else { clearTimeout(timers.get(data.disarm)); timers.delete(data.disarm); }
};`;
  const WATCHDOG_LEAD = 300; // ms: far more than the frame's timers are ever late
  let watchdog = null;
  let nextAlarm = 1;
  const alarms = new Map();

  /** Call `onFire` in `ms` by the watchdog worker; returns the function that cancels it. */
  function armWatchdog(ms, onFire) {
    try {
      if (!watchdog) {
        watchdog = new Worker(URL.createObjectURL(new Blob([WATCHDOG_WORKER], { type: "text/javascript" })),
          { name: "sandbox-deadlines" });
        watchdog.onmessage = ({ data }) => {
          const fire = alarms.get(data);
          alarms.delete(data);
          fire?.();
        };
      }
    } catch {
      return () => {}; // the frame's own timer still stands
    }
    const id = nextAlarm++;
    alarms.set(id, onFire);
    watchdog.postMessage({ arm: id, ms: Math.max(0, ms) + 1 });
    return () => {
      if (alarms.delete(id)) watchdog.postMessage({ disarm: id });
    };
  }

  /**
   * Run one cell on the session's worker. `replay` is a recorded list of tool replies: calls are answered from it
   * in order instead of reaching the agent (a restore must not repeat side effects).
   */
  function runCell(session, code, isAsync, replay = null) {
    const handle = session.worker;
    const runId = `r${++session.runs}`;
    const toolResults = [];
    return new Promise((resolve) => {
      const started = performance.now();
      let done = false;
      const finish = (result) => {
        if (done) return;
        done = true;
        disarm();
        handle.listener = null;
        session.current = null;
        dropPendingCalls(session, runId);
        // Every result has the same shape; a killed run's output died with its worker.
        resolve({ stdout: "", stderr: "", truncated: false, final: false, final_value: null, duration_ms: 0,
          ...result, toolResults, runId, elapsed_ms: performance.now() - started });
      };
      let deadline = started + session.options.timeoutMs;
      const onDeadline = () => {
        if (done || holds > 0) return;
        // The watchdog's clock is another thread's: it can fire a hair early by this one. Never kill before time.
        const early = deadline - performance.now();
        if (early > 5) {
          setTimeout(onDeadline, early);
          return;
        }
        while (performance.now() < deadline) { /* < 5 ms: wait here rather than on a timer that may be late */ }
        const killedAt = performance.now();
        kill(handle);
        finish({ killed: true, killed_at: killedAt, kill_overshoot_ms: killedAt - deadline,
          error: { type: "SandboxTimeout",
            message: `the cell ran past its ${session.options.timeoutMs} ms limit and was stopped`, traceback: [] } });
      };
      // Two clocks, the first to fire kills: this frame's timer, and the watchdog worker's, which an idle thread
      // of its own fires on time when this (hidden, cross-origin) frame's timers are throttled or late. The
      // watchdog is armed only for a cell still running WATCHDOG_LEAD ms before its deadline (at once for short
      // deadlines): most cells end long before, and each message to it costs the cell's round trip ~0.1 ms.
      let timer = 0;
      let armLater = 0;
      let disarmWatchdog = () => {};
      const arm = () => {
        const left = deadline - performance.now();
        timer = setTimeout(onDeadline, left);
        armLater = setTimeout(() => {
          if (!done && holds === 0) disarmWatchdog = armWatchdog(deadline - performance.now(), onDeadline);
        }, Math.max(0, left - WATCHDOG_LEAD));
      };
      const disarm = () => {
        clearTimeout(timer);
        clearTimeout(armLater);
        disarmWatchdog();
        disarmWatchdog = () => {};
      };
      // Held while the user is asked to approve a tool call (op hold-deadline, from the agent only): their think
      // time is not the cell's. The deadline moves by the time held; the agent's approval has its own timeout.
      let holds = 0;
      let heldAt = 0;
      const hold = (on) => {
        if (done) return;
        if (on) {
          if (holds++ === 0) {
            heldAt = performance.now();
            disarm();
          }
        } else if (holds > 0 && --holds === 0) {
          deadline += performance.now() - heldAt;
          arm();
        }
      };
      arm();
      // A message that breaks the protocol fails this run only: the worker is replaced, the session restored.
      const failRun = (why) => {
        kill(handle);
        finish({ killed: true, error: { type: "SandboxCrashed", message: why, traceback: [] } });
      };
      session.current = { runId, finish, hold };
      handle.onCrash = (why) => finish({ killed: true, error: crashError(why, session) });
      handle.listener = (data) => {
        if (!isObject(data) || data.runId !== runId) return; // not about this run: ignore (forged or stale)
        if (data.type === "result") {
          if (!isObject(data.result) || approxSize(data.result) > MAX_WORKER_MESSAGE) {
            failRun("the sandbox sent a malformed result");
            return;
          }
          // fatal: the runner itself failed (a wasm trap): the VM may be broken, so the worker is replaced.
          finish({ ...sanitizeResult(data.result), killed: data.result.fatal === true });
        } else if (data.type === "tool-call") {
          if (!onToolCall(session, handle, runId, data, replay, toolResults)) failRun("the sandbox sent a malformed tool call");
        } else if (data.type === "tool-chunk" && handle.outgoing && data.callId === handle.outgoing.callId) {
          sendChunk(handle);
        }
      };
      handle.worker.postMessage({ type: "run", runId, code, async: isAsync, replay: Boolean(replay) });
    });
  }

  function crashError(why, session) {
    const memory = /memory|allocation|RangeError/i.test(String(why));
    return memory
      ? { type: "SandboxMemoryError", message: `the cell used more than ${session.options.memoryMb} MB and was stopped` }
      : { type: "SandboxCrashed", message: `the sandbox worker crashed: ${String(why).slice(0, 500)}` };
  }

  function onToolCall(session, handle, runId, data, replay, toolResults) {
    const { callId, name, argsJson } = data;
    if (typeof callId !== "string" || typeof name !== "string" || typeof argsJson !== "string"
        || argsJson.length > MAX_WORKER_MESSAGE || name.length > 200) {
      return false;
    }
    if (replay) {
      // A restore must not repeat side effects: answer from the recording, and stop trusting it once the cell
      // asks for something else (another tool, or the same tool with other arguments).
      const recorded = replay.shift();
      const same = recorded && recorded.name === name && recorded.argsJson === argsJson;
      if (!same && !replay.diverged) {
        replay.diverged = recorded ? `called ${name}(${argsJson.slice(0, 200)}) where the first run called `
          + `${recorded.name}(${recorded.argsJson.slice(0, 200)})` : `called ${name} more often than the first run`;
      }
      const reply = same ? recorded.reply
        : JSON.stringify({ ok: false, error: { type: "ToolError", message: "replay diverged: the tool was not called" } });
      toolResults.push({ name, argsJson, reply });
      deliverToolReply(session, handle, callId, reply);
      return true;
    }
    const agentCallId = `t${nextToolCall++}`;
    const pending = { name, handle, runId, callId };
    session.pendingCalls ??= new Map();
    session.pendingCalls.set(agentCallId, pending);
    pending.record = (reply) => toolResults.push({ name, argsJson, reply });
    send({ op: "tool-call", session: session.name, runId, callId: agentCallId, name, argsJson });
    return true;
  }

  /** Forget the calls a finished (or killed) cell still waits on: their replies, when they come, are dropped. */
  function dropPendingCalls(session, runId) {
    for (const [id, pending] of session.pendingCalls ?? []) {
      if (pending.runId === runId) session.pendingCalls.delete(id);
    }
  }

  function onToolResult({ session: name, callId, reply }) {
    const session = sessions.get(name);
    const pending = session?.pendingCalls?.get(callId);
    if (!pending || typeof reply !== "string") return;
    session.pendingCalls.delete(callId);
    // Only the cell that asked may get the answer: a reply for a killed worker or an ended cell is dropped.
    if (pending.handle.dead || session.current?.runId !== pending.runId) return;
    pending.record(reply);
    deliverToolReply(session, pending.handle, pending.callId, reply);
  }

  function approxSize(value) {
    try {
      return JSON.stringify(value).length;
    } catch {
      return Infinity;
    }
  }

  /** Keep only the fields a result may have, with their types: nothing else reaches the agent. */
  function sanitizeResult(raw) {
    const text = (v, max) => (typeof v === "string" ? v.slice(0, max) : "");
    let error = null;
    if (isObject(raw.error)) {
      error = {
        type: text(raw.error.type, 200) || "Error",
        message: text(raw.error.message, 20000),
        traceback: Array.isArray(raw.error.traceback) ? raw.error.traceback.slice(-50).map((l) => text(l, 1000)) : [],
      };
    }
    return {
      stdout: text(raw.stdout, 2_000_000),
      stderr: text(raw.stderr, 200_000),
      truncated: raw.truncated === true,
      error,
      final: raw.final === true,
      final_value: raw.final === true ? raw.final_value ?? null : null,
      final_repr: raw.final_repr === true,
      duration_ms: Number.isFinite(raw.duration_ms) ? raw.duration_ms : 0,
      memory_capped: raw.memory_capped === true,
      // Names the cell passed to register_tool (the prelude checked them); the agent takes their source.
      registered_tools: Array.isArray(raw.registered_tools)
        ? raw.registered_tools.slice(0, 20).filter((n) => typeof n === "string" && n.length <= 64) : [],
    };
  }

  async function runInSession(name, code, isAsync) {
    const session = sessions.get(name);
    if (!session) throw new Error(`no sandbox session named ${name}`);
    if (session.current) throw new Error(`sandbox ${name} is already running a cell`);
    if (typeof code !== "string" || code.length > MAX_CODE) throw new Error("code must be a string under 1 MB");
    // A worker that died between cells (a crash) takes the session's state with it: restore before running (or
    // a file operation did, and its note is told with this run).
    const earlier = !session.worker || session.worker.dead ? await restoreSession(session) : session.restoredBetween;
    session.restoredBetween = null;
    const result = { ...(await runCell(session, code, Boolean(isAsync))), ...earlier };
    const memoryError = result.error?.type === "MemoryError";
    if (result.killed || memoryError) {
      // The worker is gone (or its heap may stay full): a new one gets the session's state back by replay.
      kill(session.worker);
      const restore = await restoreSession(session, result.killed_at);
      Object.assign(result, restore);
    } else if (!result.error) {
      // A cell that caught a MemoryError is kept in the history but never replayed: on a fresh worker it could run
      // out of memory again (stalling at the cap until the deadline) and take the restore with it. Two signs: the
      // heap could not grow during the cell (it hit the cap), or the cell has an `except MemoryError` handler (an
      // allocation over MicroPython's 128 MB split limit fails inside the VM, where nothing else shows it).
      const skip = result.memory_capped ? "ran into the memory cap and caught the MemoryError"
        : CATCHES_MEMORY_ERROR.test(code) ? "has an `except MemoryError` handler (it may have run out of memory)"
        : null;
      const entry = { code, async: Boolean(isAsync), toolResults: result.toolResults, skip };
      session.history.push(entry);
      // Code the cell left running (a callback) can crash the worker after the cell ended. Replayed, the cell
      // would crash every restored worker the same way: a crash between cells keeps the last cell out of replay.
      // The same for code left running that keeps the worker from answering (a file request times out).
      const handle = session.worker;
      const suspect = (what) => {
        if (session.current || session.worker !== handle) return;
        entry.skip ??= `left code running that ${what} after the cell ended`;
      };
      handle.onCrash = () => suspect("crashed the sandbox");
      handle.onStuck = () => suspect("kept the sandbox busy");
    }
    const { toolResults, runId, killed, killed_at: killedAt, memory_capped: capped, ...rest } = result;
    return { ...rest, tool_calls: toolResults.map((t) => t.name) };
  }

  /**
   * Replace the worker and replay the successful cells with their recorded tool replies. If a cell fails or
   * diverges on replay, it and every later cell are dropped and the kept prefix is replayed on a clean worker,
   * so the state is exactly that of the kept cells; the result names what was lost (`lost_cells`: their code).
   */
  async function restoreSession(session, killedAt = null) {
    const started = killedAt ?? performance.now(); // from the kill itself when there was one
    // Cells that caught a MemoryError are dropped first (see runInSession): what they defined is lost.
    const skipped = session.history.filter((cell) => cell.skip);
    session.history = session.history.filter((cell) => !cell.skip);
    const total = session.history.length;
    let restartMs = null;
    let lost = [];
    let why = "";
    for (;;) {
      kill(session.worker);
      await attachWorker(session);
      restartMs ??= performance.now() - started;
      const failure = await replayHistory(session);
      if (!failure) break;
      lost = [...session.history.splice(failure.index), ...lost];
      why ||= `on replay cell ${failure.index + 1} ${failure.problem}`;
    }
    const kept = session.history.length;
    let note = !total ? "the sandbox was restarted (no earlier state to restore)"
      : !lost.length ? `the sandbox was restarted and all ${total} earlier cells were replayed: state is back`
      : `the sandbox was restarted; ${kept} of ${total} earlier cells were replayed, cells ${kept + 1}-${total} `
        + `were lost (${why}): what they defined is gone`;
    if (skipped.length) {
      note += `; ${skipped.length} more cell${skipped.length > 1 ? "s were" : " was"} not replayed: `
        + `${skipped.length > 1 ? "each" : "it"} ${skipped[0].skip}: what ${skipped.length > 1 ? "they" : "it"} `
        + "defined is gone";
    }
    return {
      restored: kept > 0 || (total === 0 && !skipped.length),
      restore_note: note,
      lost_cells: [...skipped, ...lost].map((cell) => cell.code),
      restore_ms: performance.now() - started,
      restart_ms: restartMs,
    };
  }

  /** Run the session's history on its (fresh) worker; the first cell that goes wrong, or null. */
  async function replayHistory(session) {
    for (let i = 0; i < session.history.length; i++) {
      const cell = session.history[i];
      const replay = cell.toolResults.slice();
      const outcome = await runCell(session, cell.code, cell.async, replay);
      const problem = replay.diverged ? replay.diverged
        : outcome.killed ? "did not finish in time"
        : outcome.error ? `raised ${outcome.error.type}: ${outcome.error.message.slice(0, 300)}`
        : replay.length ? "made fewer tool calls than the first run" : null;
      if (problem) return { index: i, problem };
    }
    return null;
  }

  async function resetSession(name) {
    const session = sessions.get(name);
    if (!session) throw new Error(`no sandbox session named ${name}`);
    kill(session.worker);
    session.history = [];
    await attachWorker(session);
    return {};
  }

  // --- files ------------------------------------------------------------------------------------------------

  let nextFsId = 1;
  // A file request answers in ms. A worker that does not answer in this long is busy with something model code
  // left running after its cell (a callback that loops): it is stopped and the session restored on next use,
  // rather than the request, and the user's upload or download, waiting forever.
  const FS_TIMEOUT_MS = 10_000;

  function fsOnWorker(handle, op, path, bytes) {
    const reqId = nextFsId++;
    let timer = 0;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => {
        handle.onStuck?.();
        kill(handle);
        reject(new Error(`the sandbox did not answer a file request in ${FS_TIMEOUT_MS / 1000} s (code left running `
          + "after its cell keeps it busy): it was stopped, and its state is restored on next use"));
      }, FS_TIMEOUT_MS);
    });
    const answer = ask(handle, { type: "fs", reqId, op, path, bytes }, "fs-result", (d) => d.reqId === reqId)
      .then((d) => {
        if (!d.ok) throw new Error(String(d.error).slice(0, 500));
        return d.value;
      });
    return Promise.race([answer, late]).finally(() => clearTimeout(timer));
  }

  function checkPath(path) {
    if (typeof path !== "string" || !path.startsWith("/workspace/") || path.includes("..") || path.length > 500) {
      throw new Error("file paths must be under /workspace/ (no ..)");
    }
    return path;
  }

  async function fileOp(op, message) {
    const session = sessions.get(message.session);
    if (!session) throw new Error(`no sandbox session named ${message.session}`);
    if (session.current) throw new Error("the sandbox is running a cell; try again when it finishes");
    if (!session.worker || session.worker.dead) session.restoredBetween = await restoreSession(session);
    if (op === "put") {
      const path = checkPath(message.path);
      const bytes = new Uint8Array(message.bytes);
      session.files.set(path, bytes);
      await fsOnWorker(session.worker, "put", path, bytes);
      // A spare still being configured takes the file from session.files; one already configured, here.
      const spareHandle = session.spare;
      if (spareHandle?.filesDone && !spareHandle.dead) await fsOnWorker(spareHandle, "put", path, bytes).catch(() => {});
      return { path, size: bytes.length };
    }
    if (op === "delete") {
      const path = checkPath(message.path);
      session.files.delete(path);
      await fsOnWorker(session.worker, "delete", path);
      const spareHandle = session.spare;
      if (spareHandle?.filesDone && !spareHandle.dead) await fsOnWorker(spareHandle, "delete", path).catch(() => {});
      return {};
    }
    if (op === "get") {
      const value = await fsOnWorker(session.worker, "get", checkPath(message.path));
      if (!(value instanceof Uint8Array)) throw new Error("the sandbox answered a file read with something else");
      return value;
    }
    const value = await fsOnWorker(session.worker, "list", "/workspace");
    if (!Array.isArray(value)) throw new Error("the sandbox answered a listing with something else");
    const listing = value.filter((f) => isObject(f) && typeof f.path === "string").map((f) => ({
      path: f.path, size: Number(f.size) || 0, mtime: Number(f.mtime) || 0 }));
    // Hashed here, where model code cannot reach (the worker's own crypto it could replace), so the agent reads
    // only the files whose contents changed. No SubtleCrypto (not a secure context): the plain listing.
    if (op === "hash" && globalThis.crypto?.subtle) {
      for (const file of listing) {
        const bytes = await fsOnWorker(session.worker, "get", checkPath(file.path));
        if (!(bytes instanceof Uint8Array)) throw new Error("the sandbox answered a file read with something else");
        const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
        file.sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      }
    }
    return listing;
  }

  // --- probes for the benchmark: the same hops without MicroPython ------------------------------------------

  const ECHO_WORKER = "onmessage = (event) => postMessage(event.data);";
  let echoUrl = null;
  let echo = null;

  function spawnEcho() {
    echoUrl ??= URL.createObjectURL(new Blob([ECHO_WORKER], { type: "text/javascript" }));
    return new Worker(echoUrl, { name: "echo" });
  }

  function echoOnce(worker, payload) {
    return new Promise((resolve) => {
      worker.onmessage = ({ data }) => resolve(data);
      worker.postMessage(payload);
    });
  }

  async function probeSpawn(kind) {
    const started = performance.now();
    if (kind === "bare") {
      const worker = spawnEcho();
      await echoOnce(worker, "up?");
      const ms = performance.now() - started;
      worker.terminate();
      return { ms };
    }
    const handle = spawnWorker();
    await handle.booted;
    const ms = performance.now() - started;
    kill(handle);
    return { ms };
  }

  async function probeEcho(payload) {
    echo ??= spawnEcho();
    return echoOnce(echo, typeof payload === "string" ? payload.slice(0, 1000) : null);
  }

  // --- control port -----------------------------------------------------------------------------------------

  const OPS = {
    create: (m) => createSession(String(m.session), isObject(m.options) ? m.options : {}),
    run: (m) => runInSession(String(m.session), m.code, m.async),
    reset: (m) => resetSession(String(m.session)),
    terminate: async (m) => {
      terminateSession(String(m.session));
      return {};
    },
    "put-file": (m) => fileOp("put", m),
    "get-file": (m) => fileOp("get", m),
    "list-files": (m) => fileOp("list", m),
    "delete-file": (m) => fileOp("delete", m),
    "hash-files": (m) => fileOp("hash", m),
    "hold-deadline": async (m) => {
      sessions.get(String(m.session))?.current?.hold(m.hold === true);
      return {};
    },
    stats: async () => ({ ...stats, sessions: sessions.size, isolated }),
    "probe-spawn": (m) => probeSpawn(m.kind === "bare" ? "bare" : "sandbox"),
    "probe-echo": (m) => probeEcho(m.payload),
  };

  async function onControl({ data }) {
    if (!isObject(data)) return;
    if (data.op === "tool-result") return onToolResult(data);
    const handler = OPS[data.op];
    if (!handler) return send({ id: data.id, ok: false, error: `unknown operation ${data.op}` });
    try {
      send({ id: data.id, ok: true, value: await handler(data) });
    } catch (err) {
      send({ id: data.id, ok: false, error: String(err?.message ?? err) });
    }
  }

  // --- start ------------------------------------------------------------------------------------------------

  async function init(data, controlPort) {
    wasmModule = await WebAssembly.compile(data.wasm);
    prelude = String(data.prelude);
    workerUrl = URL.createObjectURL(new Blob([data.glue, "\n", data.runtime], { type: "text/javascript" }));
    port = controlPort;
    port.onmessage = onControl;
    spare = spawnWorker();
    spare.booted.catch(() => {
      spare = null;
    });
    send({ op: "ready", isolated });
  }

  let initialized = false;
  self.addEventListener("message", (event) => {
    // Only the embedding page, once: a sandbox worker cannot reach this listener (its messages arrive on the
    // Worker object), and any other frame is not our parent.
    if (initialized || event.source !== self.parent || !isObject(event.data) || event.data.type !== "init") return;
    if (!event.ports[0] || !(event.data.wasm instanceof ArrayBuffer)) return;
    initialized = true;
    init(event.data, event.ports[0]).catch((err) => {
      event.ports[0].postMessage({ op: "ready", error: String(err?.message ?? err) });
    });
  });
  self.parent.postMessage({ type: "codeact-sandbox-loaded" }, "*");
})();
