/**
 * Embed the CodeAct agent in any page with one tag. The agent runs in an iframe on the agent's own origin, so the
 * host page's DOM, cookies and storage are out of the agent's reach, and the agent's keys and history are out of
 * the host's reach. The host gives the agent tools that act on the host page.
 *
 * @example
 *   <script type="module" src="https://agent.example/static/widget.js"></script>
 *   <codeact-agent preset="ollama" model="qwen2.5-coder:7b" theme="dark" style="height: 560px"></codeact-agent>
 *   <script type="module">
 *     const agent = document.querySelector("codeact-agent");
 *     agent.registerTool({
 *       name: "read_table", description: "Rows of the price table on this page.",
 *       parameters: { type: "object", properties: {} },
 *       policy: "allow",                       // "allow" | "ask" (the widget asks its user) | "deny"
 *       handler: async () => [...document.querySelectorAll("tr")].map((tr) => tr.innerText),
 *     });
 *     agent.addEventListener("codeact-event", (e) => console.log(e.detail));   // every run event
 *     agent.addEventListener("codeact-final-answer", (e) => console.log(e.detail.value));
 *     await agent.start("Which product is cheapest?");
 *   </script>
 *
 * Attributes: preset, model, base-url, task (started once ready), theme ("light" | "dark"), tools (built-in
 * tools to turn on, comma-separated). Or without the tag: `mount(element, {preset, model, ...})`.
 * Methods: registerTool(spec), unregisterTool(name), start(task) -> runId, stop(runId), ready (a Promise).
 * Events: codeact-event (every forwarded run event), codeact-run-started, codeact-step, codeact-final-answer,
 * codeact-run-finished, codeact-error (a run error, or the widget refusing a message).
 */

import { checkToolSpec, checkWidgetMessage, MAX_MESSAGE_BYTES, ProtocolError } from "./embed/protocol.mjs";

// The widget is the page itself in embed mode (compact layout + static/embed/embed_page.mjs), on the agent's origin.
const PAGE_URL = new URL("../index.html", import.meta.url);
const OPTION_ATTRIBUTES = ["preset", "model", "base-url", "theme", "tools"];
let instances = 0; // the nth widget of this page keeps the nth storage scope (its settings and history)

function camel(name) {
  return name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

export class CodeActAgentElement extends HTMLElement {
  static observedAttributes = OPTION_ATTRIBUTES;

  #port = null;
  #frame = null;
  #onWindowMessage = null;
  #handlers = new Map(); // tool name -> {spec, handler}
  #pendingRuns = new Map(); // start request id -> resolve(runId)
  #readyResolve;
  /** Resolves with {version, crossOriginIsolated} once the agent inside is up. */
  ready = new Promise((resolve) => {
    this.#readyResolve = resolve;
  });

  connectedCallback() {
    if (this.#frame) {
      // Moved in the DOM: the iframe reloads, and says hello again on a fresh channel.
      this.#port?.close();
      this.#port = null;
      this.ready = new Promise((resolve) => {
        this.#readyResolve = resolve;
      });
      window.addEventListener("message", this.#onWindowMessage);
      return;
    }
    instances += 1;
    const shadow = this.attachShadow({ mode: "closed" });
    const style = document.createElement("style");
    style.textContent = ":host{display:block;min-height:320px;height:480px}iframe{border:0;width:100%;height:100%}";
    const frame = document.createElement("iframe");
    frame.title = "CodeAct agent";
    frame.allow = "cross-origin-isolated; clipboard-write";
    const url = new URL(PAGE_URL);
    url.searchParams.set("embed", "1");
    // The widget answers only to this origin (and scopes its storage by it); a name keeps a scope across edits.
    url.searchParams.set("host", location.origin);
    url.searchParams.set("instance", this.getAttribute("name") || String(instances));
    frame.src = url.href;
    this.#onWindowMessage = (event) => {
      // The widget's hello: from our own frame, from the agent's origin. Anything else is not ours to hear.
      if (event.source !== frame.contentWindow || event.origin !== PAGE_URL.origin) return;
      if (event.data?.type === "codeact:hello" && !this.#port) this.#connect();
    };
    window.addEventListener("message", this.#onWindowMessage);
    shadow.append(style, frame);
    this.#frame = frame;
  }

  disconnectedCallback() {
    window.removeEventListener("message", this.#onWindowMessage);
  }

  attributeChangedCallback() {
    this.#send({ type: "set-options", options: this.#options() });
  }

  #options() {
    const options = {};
    for (const name of OPTION_ATTRIBUTES) {
      if (this.hasAttribute(name)) options[camel(name)] = this.getAttribute(name);
    }
    return options;
  }

  #connect() {
    const channel = new MessageChannel();
    this.#port = channel.port1;
    this.#port.onmessage = (event) => this.#receive(event.data);
    // The only window message: it carries the private port. Its target origin pins it to the agent's origin.
    this.#frame.contentWindow.postMessage({ type: "codeact:connect" }, PAGE_URL.origin, [channel.port2]);
    this.#send({ type: "set-options", options: this.#options() });
    this.#sendTools();
  }

  #send(message) {
    if (this.#port) this.#port.postMessage(message);
  }

  #sendTools() {
    this.#send({ type: "register-tools", tools: [...this.#handlers.values()].map(({ spec }) => spec) });
  }

  async #receive(message) {
    try {
      checkWidgetMessage(message);
    } catch (err) {
      console.warn("codeact-agent: dropped a malformed message from the widget:", err.message);
      return;
    }
    switch (message.type) {
      case "ready":
        this.#readyResolve({ version: message.version, crossOriginIsolated: message.crossOriginIsolated });
        if (this.hasAttribute("task")) this.start(this.getAttribute("task"));
        break;
      case "started":
        this.#pendingRuns.get(message.requestId)?.resolve(message.runId);
        this.#pendingRuns.delete(message.requestId);
        break;
      case "event":
        this.#dispatchRunEvent(message.event);
        break;
      case "tool-call":
        this.#send(await this.#callTool(message));
        break;
      case "error":
        // The widget refused something we sent (a bad tool spec, a second run, an unknown run id).
        if (message.requestId) {
          this.#pendingRuns.get(message.requestId)?.reject(new Error(message.message));
          this.#pendingRuns.delete(message.requestId);
        }
        this.dispatchEvent(new CustomEvent("codeact-error", { detail: { message: message.message } }));
        break;
    }
  }

  #dispatchRunEvent(event) {
    this.dispatchEvent(new CustomEvent("codeact-event", { detail: event }));
    const named = { RunStarted: "codeact-run-started", StepFinished: "codeact-step", FinalAnswer: "codeact-final-answer",
      RunFinished: "codeact-run-finished", RunError: "codeact-error" };
    if (named[event.type]) this.dispatchEvent(new CustomEvent(named[event.type], { detail: event }));
  }

  async #callTool({ callId, name, arguments: args }) {
    const entry = this.#handlers.get(name);
    if (!entry) return { type: "tool-result", callId, ok: false, error: `UnknownTool: no host tool named ${name}` };
    try {
      const value = await entry.handler(args);
      // Only JSON crosses: a DOM node, a function or a cycle is the host's bug, reported as such.
      const json = JSON.stringify(value === undefined ? null : value);
      if (json.length > MAX_MESSAGE_BYTES / 2) throw new ProtocolError(`the result is ${json.length} characters, too big`);
      return { type: "tool-result", callId, ok: true, value: JSON.parse(json) };
    } catch (err) {
      return { type: "tool-result", callId, ok: false, error: `${err?.name ?? "Error"}: ${err?.message ?? err}` };
    }
  }

  /**
   * Give the agent a tool. `handler(arguments)` runs in this page and returns JSON (or a Promise of it).
   * @param {{name: string, description?: string, parameters?: object, returns?: object,
   *          policy?: "allow"|"ask"|"deny", ratePerMinute?: number, handler: (args: object) => any}} spec
   */
  registerTool({ handler, ...spec }) {
    if (typeof handler !== "function") throw new ProtocolError(`tool ${spec.name}: handler must be a function`);
    const checked = checkToolSpec(spec);
    this.#handlers.set(checked.name, { spec: checked, handler });
    this.#sendTools();
  }

  unregisterTool(name) {
    this.#handlers.delete(name);
    this.#sendTools();
  }

  /** Start a run with the widget's settings; resolves with its run id once the agent has accepted it. */
  async start(task) {
    await this.ready;
    const requestId = crypto.randomUUID();
    const runId = new Promise((resolve, reject) => this.#pendingRuns.set(requestId, { resolve, reject }));
    this.#send({ type: "start", task, requestId });
    return runId;
  }

  /** Stop a run this page started. */
  stop(runId) {
    this.#send({ type: "stop", runId });
  }
}

/**
 * Mount the agent into `element` without writing the tag.
 * @param {HTMLElement} element
 * @param {Record<string, string>} [options] the same names as the attributes (baseUrl for base-url)
 * @returns {CodeActAgentElement}
 */
export function mount(element, options = {}) {
  const agent = document.createElement("codeact-agent");
  for (const [name, value] of Object.entries(options)) {
    agent.setAttribute(name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), String(value));
  }
  element.append(agent);
  return agent;
}

if (!customElements.get("codeact-agent")) customElements.define("codeact-agent", CodeActAgentElement);
