/**
 * The run timeline: turns agent events (docs/ARCHITECTURE.md, agent_py/events.py) into a card per step, live.
 *
 * @example
 *   const timeline = createTimeline(document.getElementById("timeline"), { prices: () => settings.prices() });
 *   timeline.startRun(runId, task, { badge: "recorded" });
 *   agent.onEvent((event) => timeline.render(event));
 *
 * Model text and sandbox output are inserted as text; only Markdown goes through renderMarkdown (sanitized).
 */
import { renderChart, renderTable } from "./display.mjs";
import { highlightPython } from "./highlight.mjs";
import { renderMarkdown } from "./markdown.mjs";
import { costOf, describeUsage } from "./usage.mjs";

const STATUS_WORDS = {
  finished: "Finished",
  stopped: "Stopped",
  failed: "Failed",
  cancelled: "Stopped by you",
  interrupted: "Interrupted",
};
const REASON_WORDS = {
  max_steps: "the step limit was reached",
  wall_clock: "the time limit was reached",
  tokens: "the token limit was reached",
  cost: "the cost limit was reached",
  stagnation: "the agent kept repeating itself",
  cancelled: "you stopped it",
  error: "an error ended it",
  page_closed: "the page was reloaded or closed while it ran; Continue it from History",
};
// Errors in clear words first; the exact type and message follow for whoever needs them. Keys are agent_py/errors.py's
// class names, as the events carry them.
const ERROR_WORDS = {
  SandboxTimeout: "The code ran past the cell time limit and was stopped.",
  SandboxMemoryError: "The code used more memory than the sandbox allows.",
  SandboxCrashed: "The sandbox crashed and was restarted.",
  MemoryError: "The code ran out of memory.",
  SyntaxError: "The code has a syntax error.",
  NameError: "The code used a name that is not defined.",
  ParseError: "The model's reply had no code block to run.",
  ModelConnectError: "The model server could not be reached.",
  CorsError: "The browser blocked the request to the model server (CORS).",
  AuthError: "The model server refused the API key.",
  RateLimited: "The model server is rate-limiting requests.",
  ModelTimeout: "The model server took too long to answer.",
  ContextOverflow: "The conversation no longer fits the model's context window.",
  ConfigError: "A setting is missing or wrong.",
  ToolError: "A tool call failed.",
  ToolDenied: "A tool call was refused.",
  ToolCallLimitExceeded: "The step made more tool calls than one step may.",
  Vetoed: "A hook refused to run this code.",
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * A small "Copy" button; falls back to a hidden textarea where the Clipboard API is refused (http origins).
 * @param {() => string} getText @param {string} [label] @returns {HTMLButtonElement}
 */
export function copyButton(getText, label = "Copy") {
  const button = el("button", "copy", "Copy");
  button.type = "button";
  button.setAttribute("aria-label", label);
  button.title = label;
  button.addEventListener("click", async () => {
    const text = getText();
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      const area = Object.assign(document.createElement("textarea"), { value: text });
      document.body.append(area);
      area.select();
      button.textContent = document.execCommand("copy") ? "Copied" : "Copy failed";
      area.remove();
    }
    setTimeout(() => { button.textContent = "Copy"; }, 1200);
  });
  return button;
}

function formatMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** An error dict {type, message, fix?} as a block: plain words, then the exact error, then how to fix it. */
function errorBlock(error, className = "error") {
  const box = el("div", className);
  box.setAttribute("role", "alert");
  const type = error?.type ?? "Error";
  if (ERROR_WORDS[type]) box.append(el("p", "error-words", ERROR_WORDS[type]));
  const exact = el("p", "error-exact");
  exact.append(el("strong", "", `${type}: `), document.createTextNode(error?.message ?? ""));
  box.append(exact);
  if (error?.fix) box.append(el("p", "fix", `How to fix: ${error.fix}`));
  return box;
}

/**
 * @param {HTMLElement} container
 * @param {{prices?: () => object | null}} [options] prices: the user's token prices, for cost per step and run
 */
export function createTimeline(container, { prices = () => null } = {}) {
  const runs = new Map(); // run id -> {article, status, header, steps: Map, usage}

  /**
   * A new run article at the end of the timeline.
   * @param {string} runId @param {string} task
   * @param {{badge?: string, recorded?: boolean}} [options] badge: "recorded", "from history", "replay"...
   */
  function startRun(runId, task, { badge = "", recorded = false } = {}) {
    const article = el("article", "run");
    article.dataset.runId = runId;
    article.setAttribute("aria-label", `Run: ${task || "recorded demo"}`);
    const header = el("header", "run-task");
    const taskText = el("span", "task-text", task || "(recorded demo)");
    header.append(taskText);
    for (const word of [recorded ? "recorded" : "", badge].filter(Boolean)) header.append(el("span", "badge", word));
    const status = el("footer", "run-status", "Starting…");
    status.setAttribute("role", "status");
    article.append(header, status);
    container.append(article);
    const run = { article, status, steps: new Map(), header, taskText, usage: null };
    runs.set(runId, run);
    article.scrollIntoView?.({ block: "end", behavior: "smooth" });
    return run;
  }

  function step(run, number) {
    let card = run.steps.get(number);
    if (card) return card;
    const section = el("section", "step");
    section.dataset.step = String(number);
    section.setAttribute("aria-label", `Step ${number}`);
    const head = el("div", "step-head", `Step ${number}`);
    const thought = el("div", "thought");
    const stream = el("pre", "model-stream");
    stream.setAttribute("aria-live", "off"); // every token read aloud is noise; the code card is announced
    section.append(head, thought, stream);
    run.article.insertBefore(section, run.status);
    card = { section, head, thought, stream, text: "", meta: {} };
    run.steps.set(number, card);
    return card;
  }

  function updateHead(card, number) {
    const parts = [card.meta.agent ? `Step ${number} · ${card.meta.agent}` : `Step ${number}`];
    if (card.meta.model_ms) parts.push(`model ${formatMs(card.meta.model_ms)}`);
    if (card.meta.exec_ms !== undefined) parts.push(`run ${formatMs(card.meta.exec_ms)}`);
    const usage = describeUsage(card.meta.usage, costOf(card.meta.usage, prices()));
    if (usage) parts.push(`${usage}${card.meta.cached ? " (cached)" : ""}`);
    card.head.textContent = parts.join(" · ");
  }

  function ensureOutput(card) {
    if (!card.output) {
      card.stream.remove();
      card.output = el("pre", "output");
      card.output.setAttribute("aria-label", "Output");
      card.section.append(card.output);
    }
    return card.output;
  }

  const handlers = {
    RunStarted(run, event) {
      run.status.textContent = event.resumed ? "Resumed…" : "Running…";
      if (event.task) run.taskText.textContent = event.task; // a demo's task comes from its recording
    },
    // The run's remote tools (agent_py/run_tools.py): which are on, with their policy, and every source or
    // definition that was skipped, so a missing tool is never a mystery.
    ToolsReady(run, event) {
      const box = el("section", "tools-ready");
      box.setAttribute("aria-label", "Tools");
      const tools = (event.tools ?? []).map((t) => `${t.name} (${t.policy}${t.rate_per_minute ? `, ${t.rate_per_minute}/min` : ""})`);
      box.append(el("p", "", tools.length ? `Tools: ${tools.join(", ")}` : "No remote tools connected."));
      for (const warning of event.warnings ?? []) {
        box.append(el("p", "tool-warning", `${warning.source}: ${warning.type}: ${warning.message}${warning.fix ? ` How to fix: ${warning.fix}` : ""}`));
      }
      run.article.insertBefore(box, run.status);
    },
    StepStarted(run, event) {
      step(run, event.step).section.dataset.state = "thinking";
    },
    ModelDelta(run, event) {
      const card = step(run, event.step);
      card.text += event.text;
      card.stream.textContent = card.text;
    },
    ReasoningDelta(run, event) {
      const card = step(run, event.step);
      if (!card.reasoning) {
        const details = el("details", "reasoning");
        details.append(el("summary", "", "Reasoning"), el("pre", "reasoning-text"));
        card.section.insertBefore(details, card.thought);
        card.reasoning = details.querySelector("pre");
      }
      card.reasoning.textContent += event.text;
    },
    CodeReady(run, event) {
      const card = step(run, event.step);
      card.stream.remove();
      card.thought.replaceChildren(renderMarkdown(event.thought || ""));
      const details = el("details", "code");
      details.open = true;
      const summary = el("summary", "", "Code");
      const pre = el("pre");
      pre.append(highlightPython(event.code));
      details.append(summary, pre, copyButton(() => event.code, "Copy code"));
      card.section.append(details);
      for (const note of event.notes ?? []) card.section.append(el("p", "note", note));
    },
    ExecutionStarted(run, event) {
      const card = step(run, event.step);
      card.section.dataset.state = "running";
      const output = ensureOutput(card);
      output.dataset.pending = "true";
      output.textContent = "running…";
      card.live = "";
    },
    // Live output while a cell runs (sent when the worker streams it; the final Observation replaces it).
    ExecutionOutput(run, event) {
      const card = step(run, event.step);
      const output = ensureOutput(card);
      card.live = (card.live ?? "") + (event.text ?? "");
      delete output.dataset.pending;
      output.textContent = card.live;
    },
    ToolCall(run, event) {
      const card = step(run, event.step);
      const args = event.arguments ? JSON.stringify(event.arguments).slice(1, -1) : "";
      const shown = args.length > 160 ? `${args.slice(0, 160)}…` : args;
      const line = el("p", `tool-call${event.ok ? "" : " failed"}`,
        `${event.tool}(${shown})${event.ok ? "" : ` → ${event.error}`}`);
      card.section.insertBefore(line, card.output ?? null);
    },
    // A hook refused the step's code or one tool call (agent_py/hooks.py): one clear line in the card.
    Vetoed(run, event) {
      const card = step(run, event.step);
      const what = event.target === "tool" ? `the call to ${event.tool}` : "this code";
      const line = el("p", "vetoed", `Vetoed by ${event.hook}: ${what} did not run. ${event.reason}`);
      line.setAttribute("role", "note");
      line.dataset.target = event.target;
      card.section.append(line);
      if (event.target === "code") card.section.dataset.state = "vetoed";
    },
    // Page-side (static/app/ui/run_locks.mjs): the tab running this step went away before it finished.
    StepInterrupted(run, event) {
      const card = step(run, event.step);
      card.stream.remove();
      card.section.dataset.state = "interrupted";
      const line = el("p", "interrupted", "Interrupted: the page was reloaded or closed while this step ran; its "
        + "code may or may not have run. Continuing the run tells the agent so; nothing is run again.");
      line.setAttribute("role", "note");
      card.section.append(line);
    },
    Observation(run, event) {
      const card = step(run, event.step);
      const output = ensureOutput(card);
      delete output.dataset.pending;
      output.textContent = event.stdout || (event.error ? "" : "(no output)");
      if (!event.stdout && event.error) output.hidden = true;
      if (event.stdout) card.section.append(copyButton(() => event.stdout, "Copy output"));
      if (event.error) card.section.append(errorBlock(event.error));
      if (event.restored) card.section.append(el("p", "note", "The sandbox was restarted and its state restored."));
      card.meta.exec_ms = event.duration_ms;
      if (card.section.dataset.state !== "vetoed") card.section.dataset.state = event.error ? "error" : "done";
      updateHead(card, event.step);
    },
    Display(run, event) {
      const card = step(run, event.step || run.steps.size || 1);
      card.section.append(event.kind === "chart" ? renderChart(event.spec ?? event) : renderTable(event.spec ?? event));
    },
    UsageUpdate(run, event) {
      const card = step(run, event.step);
      card.meta.usage = event.step_usage;
      card.meta.cached = event.cached;
      run.usage = event.total;
      updateHead(card, event.step);
    },
    StepFinished(run, event) {
      const card = step(run, event.step);
      card.meta.model_ms = event.record?.model_ms;
      updateHead(card, event.step);
    },
    FinalAnswer(run, event) {
      const box = el("section", "final");
      box.setAttribute("aria-label", "Final answer");
      const text = typeof event.value === "string" ? event.value : JSON.stringify(event.value, null, 2);
      box.append(el("h3", "", "Answer"), renderMarkdown(typeof event.value === "string" ? text : "```json\n" + text + "\n```"),
        copyButton(() => text, "Copy answer"));
      run.article.insertBefore(box, run.status);
    },
    RunError(run, event) {
      run.article.insertBefore(errorBlock(event.error, "error run-error"), run.status);
    },
    RunFinished(run, event) {
      const words = STATUS_WORDS[event.status] ?? event.status;
      const reason = event.status === "finished" ? "" : ` (${REASON_WORDS[event.stop_reason] ?? event.stop_reason})`;
      const steps = event.steps ?? run.steps.size;
      const usage = event.usage && Object.keys(event.usage).length ? event.usage : run.usage;
      const spent = describeUsage(usage, costOf(usage, prices()));
      run.status.textContent = `${words}${reason} · ${steps} step${steps === 1 ? "" : "s"}${spent ? ` · ${spent}` : ""}`;
      run.article.dataset.status = event.status;
      if (event.summary && event.status !== "finished") {
        const box = el("section", "final summary");
        box.append(el("h3", "", "Summary"), renderMarkdown(event.summary));
        run.article.insertBefore(box, run.status);
      }
    },
  };

  /** A team run (agent_py/team.py): each event names its agent; the step's card says which agent did it. */
  function labelAgent(card, event) {
    if (card.meta.agent === event.agent) return;
    card.meta.agent = event.agent;
    card.section.dataset.agent = event.agent;
    updateHead(card, event.step);
  }

  /** Render one agent event into its run's article; events of unknown runs or types are ignored. */
  function render(event) {
    const run = runs.get(event?.run_id);
    if (!run) return;
    try {
      if (event.agent && event.step > 0) labelAgent(step(run, event.step), event);
      handlers[event.type]?.(run, event);
    } catch (err) {
      // One malformed event must not take the whole timeline down: show it, keep rendering the rest.
      console.error("could not render event", event?.type, err);
      run.article.insertBefore(errorBlock({ type: "DisplayError", message: `could not show a ${event.type} event: ${err.message}` }), run.status);
    }
  }

  /** Put an element (the files a step wrote, ...) at the end of a step's card. */
  function attach(runId, number, element) {
    const run = runs.get(runId);
    if (run && element) step(run, number || run.steps.size || 1).section.append(element);
  }

  /** Remove every run from the timeline (opening a stored run shows it alone). */
  function clear() {
    runs.clear();
    container.replaceChildren();
  }

  return { startRun, render, attach, clear, runs };
}
