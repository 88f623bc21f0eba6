/**
 * The run timeline: turns agent events (docs/ARCHITECTURE.md) into a card per step, live.
 *
 * @example
 *   const timeline = createTimeline(document.getElementById("timeline"));
 *   timeline.startRun(runId, task, { recorded: true });
 *   agent.onEvent((event) => timeline.render(event));
 *
 * Model text and sandbox output are inserted as text; only Markdown goes through renderMarkdown (sanitized).
 */
import { renderChart, renderTable } from "./display.mjs";
import { highlightPython } from "./highlight.mjs";
import { renderMarkdown } from "./markdown.mjs";

const STATUS_WORDS = {
  finished: "Finished",
  stopped: "Stopped",
  failed: "Failed",
  cancelled: "Stopped by you",
};
const REASON_WORDS = {
  max_steps: "the step limit was reached",
  wall_clock: "the time limit was reached",
  tokens: "the token limit was reached",
  cost: "the cost limit was reached",
  stagnation: "the agent kept repeating itself",
  cancelled: "you stopped it",
  error: "an error ended it",
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function copyButton(getText, label = "Copy") {
  const button = el("button", "copy", label);
  button.type = "button";
  button.setAttribute("aria-label", label);
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(getText());
      button.textContent = "Copied";
    } catch {
      button.textContent = "Copy failed";
    }
    setTimeout(() => { button.textContent = label; }, 1200);
  });
  return button;
}

function formatMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** @param {HTMLElement} container */
export function createTimeline(container) {
  const runs = new Map(); // run id -> {article, steps: Map, tokens}

  function startRun(runId, task, { recorded = false } = {}) {
    const article = el("article", "run");
    article.dataset.runId = runId;
    article.setAttribute("aria-label", `Run: ${task}`);
    const header = el("header", "run-task");
    header.append(el("span", "task-text", task || "(recorded demo)"));
    if (recorded) header.append(el("span", "badge", "recorded"));
    const status = el("footer", "run-status", "Starting…");
    status.setAttribute("role", "status");
    article.append(header, status);
    container.append(article);
    const run = { article, status, steps: new Map(), header };
    runs.set(runId, run);
    article.scrollIntoView({ block: "end", behavior: "smooth" });
    return run;
  }

  function step(run, number) {
    let card = run.steps.get(number);
    if (card) return card;
    const section = el("section", "step");
    section.dataset.step = String(number);
    const head = el("div", "step-head", `Step ${number}`);
    const thought = el("div", "thought");
    const stream = el("pre", "model-stream");
    section.append(head, thought, stream);
    run.article.insertBefore(section, run.status);
    card = { section, head, thought, stream, text: "", meta: {} };
    run.steps.set(number, card);
    return card;
  }

  function updateHead(card, number) {
    const parts = [`Step ${number}`];
    if (card.meta.model_ms) parts.push(`model ${formatMs(card.meta.model_ms)}`);
    if (card.meta.exec_ms !== undefined) parts.push(`run ${formatMs(card.meta.exec_ms)}`);
    if (card.meta.tokens) parts.push(`${card.meta.tokens.toLocaleString()} tokens${card.meta.cached ? " (cached)" : ""}`);
    card.head.textContent = parts.join(" · ");
  }

  const handlers = {
    RunStarted(run, event) {
      run.status.textContent = event.resumed ? "Resumed…" : "Running…";
      if (event.task) run.header.querySelector(".task-text").textContent = event.task; // a demo's task comes from its recording
    },
    ModelDelta(run, event) {
      const card = step(run, event.step);
      card.text += event.text;
      card.stream.textContent = card.text;
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
      card.output = el("pre", "output", "running…");
      card.output.setAttribute("aria-live", "polite");
      card.section.append(card.output);
    },
    ToolCall(run, event) {
      const card = step(run, event.step);
      const line = el("p", `tool-call${event.ok ? "" : " failed"}`,
        `${event.tool}(${event.arguments ? JSON.stringify(event.arguments).slice(1, -1).slice(0, 160) : ""}${event.arguments && JSON.stringify(event.arguments).length > 162 ? "…" : ""})${event.ok ? "" : ` → ${event.error}`}`);
      card.section.insertBefore(line, card.output ?? null);
    },
    Observation(run, event) {
      const card = step(run, event.step);
      if (!card.output) {
        card.stream.remove();
        card.output = el("pre", "output");
        card.section.append(card.output);
      }
      card.output.textContent = event.stdout || (event.error ? "" : "(no output)");
      if (!event.stdout && !event.error) card.output.textContent = "(no output)";
      if (event.error) {
        const error = el("div", "error");
        error.setAttribute("role", "alert");
        error.append(el("strong", "", `${event.error.type}: `), document.createTextNode(event.error.message));
        card.section.append(error);
      }
      if (event.restored) card.section.append(el("p", "note", "The sandbox was restarted and its state restored."));
      card.meta.exec_ms = event.duration_ms;
      updateHead(card, event.step);
    },
    Display(run, event) {
      const card = step(run, event.step || run.steps.size || 1);
      card.section.append(event.kind === "chart" ? renderChart(event) : renderTable(event));
    },
    UsageUpdate(run, event) {
      const card = step(run, event.step);
      card.meta.tokens = event.step_usage?.total_tokens ?? 0;
      card.meta.cached = event.cached;
      run.tokens = event.total?.total_tokens ?? 0;
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
      const error = el("div", "error run-error");
      error.setAttribute("role", "alert");
      error.append(el("strong", "", `${event.error?.type ?? "Error"}: `), document.createTextNode(event.error?.message ?? ""));
      if (event.error?.fix) error.append(el("p", "fix", `How to fix: ${event.error.fix}`));
      run.article.insertBefore(error, run.status);
    },
    RunFinished(run, event) {
      const words = STATUS_WORDS[event.status] ?? event.status;
      const reason = event.status === "finished" ? "" : ` (${REASON_WORDS[event.stop_reason] ?? event.stop_reason})`;
      run.status.textContent = `${words}${reason} · ${event.steps} step${event.steps === 1 ? "" : "s"}`
        + (event.usage?.total_tokens ? ` · ${event.usage.total_tokens.toLocaleString()} tokens` : "");
      run.article.dataset.status = event.status;
      if (event.summary && event.status !== "finished") {
        const box = el("section", "final summary");
        box.append(el("h3", "", "Summary"), renderMarkdown(event.summary));
        run.article.insertBefore(box, run.status);
      }
    },
  };

  function render(event) {
    const run = runs.get(event.run_id);
    if (!run) return;
    handlers[event.type]?.(run, event);
  }

  return { startRun, render, runs };
}
