/**
 * Drive the sandbox iframe over its MessagePort (from the agent worker, or any JS context that holds the port).
 *
 * @example
 *   const client = new SandboxClient(port);
 *   await client.ready;                                   // {isolated}: true -> tools are plain blocking calls
 *   const box = await client.createSession("main", {
 *     timeoutMs: 10000, memoryMb: 256, outputLimit: 20000,
 *     tools: { add: { impl: async ({ a, b }) => a + b } }, // implementations, by name
 *     stubs: "def add(a, b):\n    return _call_tool('add', {'a': a, 'b': b})\n",
 *   });
 *   const result = await box.run("print(add(2, 3))");   // {stdout, stderr, error, final, final_value, ...}
 *
 * Options (defaults): timeoutMs 10000 (per cell; the worker is killed and replaced past it), memoryMb 256,
 * outputLimit 20000 (bytes of stdout kept: head and tail), tools {} (name -> {impl}), stubs "" (Python source
 * defining the tool functions the model sees; agent_py.sandbox generates it from the tool schemas),
 * asyncTools false (set when the page is not cross-origin isolated: stubs are async and calls are awaited).
 *
 * session.run(code, {async}) resolves {stdout, stderr, truncated, error: {type, message, traceback} | null, final,
 * final_value, duration_ms, elapsed_ms, tool_calls (names)}, and after a kill (SandboxTimeout, SandboxMemoryError,
 * MemoryError, SandboxCrashed) also {restored, restore_note, lost_cells (code of the cells dropped on replay, and
 * of cells that caught a MemoryError, which are never replayed), restore_ms, restart_ms (from the kill to the
 * session's next worker in place: its spare, configured ahead of time)}, and after a timeout kill_overshoot_ms
 * (the kill's time minus the deadline, as the frame measured it). `async: true` runs a cell rewritten as
 * `async def __codeact_cell__()` (agent_py.sandbox_rewrite). Tool replies over 1 MB cross in chunks (32 MB at most).
 */

export class SandboxError extends Error {
  name = "SandboxError";
}

export class SandboxClient {
  #port;
  #nextId = 1;
  #pending = new Map();
  #tools = new Map(); // session name -> Map(tool name -> impl)
  /** Resolves {isolated} when the iframe has compiled MicroPython and warmed a worker. */
  ready;

  /** @param {MessagePort} port */
  constructor(port) {
    this.#port = port;
    this.ready = new Promise((resolve, reject) => {
      this.#port.onmessage = ({ data }) => {
        if (data?.op === "ready") {
          if (data.error) reject(new SandboxError(`the sandbox failed to start: ${data.error}`));
          else resolve({ isolated: Boolean(data.isolated) });
          this.#port.onmessage = ({ data: message }) => this.#receive(message);
        }
      };
    });
  }

  #receive(message) {
    if (message?.op === "tool-call") {
      this.#answerToolCall(message);
      return;
    }
    const pending = this.#pending.get(message?.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (message.ok) pending.resolve(message.value);
    else pending.reject(new SandboxError(String(message.error)));
  }

  async #answerToolCall({ session, callId, name, argsJson }) {
    const impl = this.#tools.get(session)?.get(name);
    let reply;
    if (!impl) {
      reply = { ok: false, error: { type: "UnknownTool", message: `no tool named ${name} in sandbox ${session}` } };
    } else {
      try {
        reply = await impl(argsJson);
      } catch (err) {
        reply = { ok: false, error: { type: "ToolError", message: `${err?.name ?? "Error"}: ${err?.message ?? err}` } };
      }
    }
    const text = typeof reply === "string" ? reply : JSON.stringify(reply);
    this.#port.postMessage({ op: "tool-result", session, callId, reply: text });
  }

  #request(op, fields = {}, transfer = []) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#port.postMessage({ ...fields, op, id }, transfer);
    });
  }

  /**
   * @param {string} name
   * @param {{timeoutMs?: number, memoryMb?: number, outputLimit?: number, stubs?: string, asyncTools?: boolean,
   *          tools?: Record<string, {impl: (argsJson: string) => Promise<string | object>}>}} [options]
   *   A tool impl receives the arguments as a JSON string and returns the reply ({ok, value} or
   *   {ok: false, error: {type, message}}), as an object or a JSON string.
   */
  async createSession(name, { tools = {}, ...options } = {}) {
    await this.ready;
    this.#tools.set(name, new Map(Object.entries(tools).map(([tool, spec]) => [tool, spec.impl])));
    await this.#request("create", { session: name, options });
    return {
      name,
      run: (code, { async = Boolean(options.asyncTools) } = {}) => this.#request("run", { session: name, code, async }),
      /** run() with the result as JSON text: Pyodide takes a string across in one copy, an object key by key. */
      runJson: async (code, { async = Boolean(options.asyncTools) } = {}) =>
        JSON.stringify(await this.#request("run", { session: name, code, async })),
      reset: () => this.#request("reset", { session: name }),
      terminate: () => {
        this.#tools.delete(name);
        return this.#request("terminate", { session: name });
      },
      putFile: (path, bytes) => {
        const copy = new Uint8Array(bytes).slice().buffer;
        return this.#request("put-file", { session: name, path, bytes: copy }, [copy]);
      },
      getFile: (path) => this.#request("get-file", { session: name, path }),
      listFiles: () => this.#request("list-files", { session: name }),
      deleteFile: (path) => this.#request("delete-file", { session: name, path }),
      hashFiles: () => this.#request("hash-files", { session: name }),
      /** Pause (true) or resume (false) the running cell's deadline: a user approving a tool call. Nests. */
      holdDeadline: (hold) => this.#request("hold-deadline", { session: name, hold: Boolean(hold) }),
    };
  }

  /**
   * Benchmark probes answered by the iframe: `probe("probe-spawn", "bare" | "sandbox")` -> {ms} (start a worker
   * that only echoes, or a MicroPython worker, in the iframe and time it until it answers);
   * `probe("probe-echo", text)` -> text, through a worker that only echoes (a cell's hops without Python).
   * @param {"probe-spawn" | "probe-echo"} op
   * @param {string} value
   */
  probe(op, value) {
    return this.#request(op, op === "probe-spawn" ? { kind: value } : { payload: value });
  }

  /** Counts of workers spawned, killed and alive, and sessions: for tests and the benchmark. */
  stats() {
    return this.#request("stats");
  }
}
