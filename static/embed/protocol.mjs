/**
 * The widget channel's message shapes, checked on both ends. Shared by static/widget.js (in the host page) and
 * static/embed/bridge.mjs (in the widget's own iframe).
 *
 * Handshake (window messages, the only ones): the widget iframe posts `codeact:hello` to its parent, addressed to
 * the host origin named in its URL (?host=); the host answers `codeact:connect` with a MessagePort, and the widget
 * takes it only from its parent window and only from that origin. Everything else crosses the port, so a third
 * frame (another widget, the sandbox, an ad) cannot inject messages. Each side still validates every message: the
 * other side is another origin, and may be hostile.
 *
 * Host -> widget: register-tools {tools: ToolSpec[]}, start {task, requestId}, stop {runId},
 *                 tool-result {callId, ok, value | error}, set-options {options}
 * Widget -> host: ready {version, crossOriginIsolated}, started {requestId, runId}, event {event},
 *                 tool-call {callId, runId, name, arguments}, error {message}
 */

export const PROTOCOL_VERSION = 1;
/** A message bigger than this (as JSON) is refused: tool results are data for a model, not bulk transfer. */
export const MAX_MESSAGE_BYTES = 1_000_000;
export const MAX_TOOLS = 64;
const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/; // a public Python identifier (agent_py.sandbox_tools.SandboxTool)
// Python keywords and the names the sandbox itself defines: a host tool by one of these would break every cell.
const RESERVED = new Set(["False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
  "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
  "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "final_answer",
  "print", "ToolError", "UnknownTool", "ToolArgumentError", "ToolResultError", "ToolDenied", "ToolTimeout",
  "ToolConnectError", "ToolCorsError", "ToolAuthError", "ToolServerError", "ToolCallLimitExceeded",
  "ToolRegistrationError", "register_tool"]);
const POLICIES = new Set(["allow", "ask", "deny"]);

export class ProtocolError extends Error {
  name = "ProtocolError";
}

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function sizeOf(message) {
  try {
    return new TextEncoder().encode(JSON.stringify(message)).length;
  } catch {
    throw new ProtocolError("message is not JSON (functions, cycles and DOM nodes cannot cross)");
  }
}

/**
 * Check a host tool spec; returns a normalized copy without the handler.
 * @param {any} spec
 * @returns {{name: string, description: string, parameters: object, returns: object|null, policy: string,
 *            ratePerMinute: number|null}}
 */
export function checkToolSpec(spec) {
  if (!isPlainObject(spec)) throw new ProtocolError("a tool must be an object");
  const { name, description = "", parameters = { type: "object", properties: {} } } = spec;
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new ProtocolError(`tool name ${JSON.stringify(name)} must be a Python identifier (letters, digits, _)`);
  }
  if (RESERVED.has(name)) throw new ProtocolError(`tool name ${name} is reserved (a Python keyword or sandbox name)`);
  if (typeof description !== "string" || description.length > 4000) {
    throw new ProtocolError(`tool ${name}: description must be a string of at most 4000 characters`);
  }
  if (!isPlainObject(parameters) || (parameters.type ?? "object") !== "object") {
    throw new ProtocolError(`tool ${name}: parameters must be a JSON Schema of type "object"`);
  }
  const policy = spec.policy ?? "allow";
  if (!POLICIES.has(policy)) throw new ProtocolError(`tool ${name}: policy must be allow, ask or deny`);
  const rate = spec.ratePerMinute ?? null;
  if (rate !== null && !(Number.isFinite(rate) && rate > 0)) {
    throw new ProtocolError(`tool ${name}: ratePerMinute must be a positive number`);
  }
  const returns = spec.returns ?? null;
  if (returns !== null && !isPlainObject(returns)) throw new ProtocolError(`tool ${name}: returns must be a schema`);
  return { name, description, parameters: structuredClone(parameters), returns, policy, ratePerMinute: rate };
}

const HOST_MESSAGES = {
  "register-tools": (m) => {
    if (!Array.isArray(m.tools) || m.tools.length > MAX_TOOLS) {
      throw new ProtocolError(`tools must be a list of at most ${MAX_TOOLS}`);
    }
    const names = new Set();
    for (const tool of m.tools) {
      const { name } = checkToolSpec(tool);
      if (names.has(name)) throw new ProtocolError(`tool ${name} is registered twice`);
      names.add(name);
    }
  },
  start: (m) => {
    if (typeof m.task !== "string" || !m.task.trim()) throw new ProtocolError("start needs a non-empty task");
    if (typeof m.requestId !== "string") throw new ProtocolError("start needs a requestId string");
  },
  stop: (m) => {
    if (m.runId !== undefined && typeof m.runId !== "string") throw new ProtocolError("runId must be a string");
  },
  "tool-result": (m) => {
    if (typeof m.callId !== "string") throw new ProtocolError("tool-result needs its callId");
    if (typeof m.ok !== "boolean") throw new ProtocolError("tool-result needs ok: true or false");
    if (!m.ok && typeof m.error !== "string") throw new ProtocolError("a failed tool-result needs an error string");
  },
  "set-options": (m) => {
    if (!isPlainObject(m.options)) throw new ProtocolError("options must be an object");
  },
};

const WIDGET_MESSAGES = {
  ready: (m) => {
    if (typeof m.version !== "string") throw new ProtocolError("ready needs a version");
  },
  started: (m) => {
    if (typeof m.requestId !== "string" || typeof m.runId !== "string") {
      throw new ProtocolError("started needs requestId and runId");
    }
  },
  event: (m) => {
    if (!isPlainObject(m.event) || typeof m.event.type !== "string") throw new ProtocolError("event needs a type");
  },
  "tool-call": (m) => {
    if (typeof m.callId !== "string" || typeof m.name !== "string" || !isPlainObject(m.arguments)) {
      throw new ProtocolError("tool-call needs callId, name and an arguments object");
    }
  },
  error: (m) => {
    if (typeof m.message !== "string") throw new ProtocolError("error needs a message");
  },
};

function check(table, message, direction) {
  if (!isPlainObject(message) || typeof message.type !== "string") {
    throw new ProtocolError(`${direction} message must be an object with a type`);
  }
  // Own keys only: `table["constructor"]` is Object, which would pass any message (found by test_fuzz_browser.py).
  const checker = Object.hasOwn(table, message.type) ? table[message.type] : undefined;
  if (!checker) throw new ProtocolError(`unknown ${direction} message type ${JSON.stringify(message.type)}`);
  const size = sizeOf(message);
  if (size > MAX_MESSAGE_BYTES) {
    throw new ProtocolError(`${direction} message of ${size} bytes is over the ${MAX_MESSAGE_BYTES}-byte limit`);
  }
  checker(message);
  return message;
}

/** Validate a message the host page sent to the widget. Throws ProtocolError. */
export const checkHostMessage = (message) => check(HOST_MESSAGES, message, "host");
/** Validate a message the widget sent to the host page. Throws ProtocolError. */
export const checkWidgetMessage = (message) => check(WIDGET_MESSAGES, message, "widget");
