/**
 * Page entry: the shell is already painted by index.html; this wires it up and boots the agent worker.
 * `window.codeact` is the page's public handle (used by the UI, the CLI runner and the tests).
 * The UI is usable before Python is ready: a run started during boot waits in the worker's queue.
 */
import { startAgentWorker } from "./agent_host.mjs";
import { logLevelFromUrl } from "./log_level.mjs";
import { mountSandboxFrame } from "../../wasm_sandbox/embed.mjs";
import { createSettings } from "./ui/settings.mjs";
import { createTimeline } from "./ui/timeline.mjs";

performance.mark("shell-visible");

const $ = (id) => document.getElementById(id);
const bar = $("boot-progress");
const label = $("boot-label");
const STAGE_LABELS = {
  runtime: "Fetching Python…",
  compile: "Starting Python…",
  packages: "Loading the agent…",
  ready: "Python ready",
};

const agent = startAgentWorker({
  logLevel: logLevelFromUrl(),
  onProgress(stage, fraction) {
    bar.value = fraction;
    label.textContent = STAGE_LABELS[stage] ?? stage;
  },
});

// The sandbox iframe talks to the agent worker directly over this port: cells never hop through the main thread.
const sandbox = mountSandboxFrame();
agent.worker.postMessage({ type: "sandbox-port" }, [sandbox.port]);
sandbox.ready.catch((err) => console.error("the code sandbox failed to load:", err));

const timeline = createTimeline($("timeline"));
agent.onEvent((event) => timeline.render(event));
const settings = createSettings($("settings"), {
  testConnection: (s) => agent.request("test-connection", { settings: s }),
});

let currentRun = null;
function setRunning(runId) {
  currentRun = runId;
  $("stop").hidden = !runId;
  $("run").disabled = Boolean(runId);
}
agent.onEvent((event) => {
  if (event.type === "RunFinished" && event.run_id === currentRun) setRunning(null);
});

/** Start a run from the task box, or a recorded demo. */
function start(task, { demo = null } = {}) {
  const runSettings = demo ? { demo } : settings.current();
  const runId = crypto.randomUUID();
  $("welcome").hidden = true;
  timeline.startRun(runId, task || (demo ? "Recorded demo" : ""), { recorded: Boolean(demo) });
  agent.startRun(task, runSettings, { runId });
  setRunning(runId);
  return runId;
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const task = $("task").value.trim();
  if (!task || currentRun) return;
  if (!settings.configured()) {
    settings.open();
    return;
  }
  start(task);
  $("task").value = "";
});
$("task").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("composer").requestSubmit();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && currentRun && !$("settings").open) agent.stopRun(currentRun);
});
$("stop").addEventListener("click", () => currentRun && agent.stopRun(currentRun));
$("open-settings").addEventListener("click", () => settings.open());
$("demos").addEventListener("click", (event) => {
  const button = event.target.closest("[data-demo]");
  if (button && !currentRun) start("", { demo: button.dataset.demo });
});

// Theme: follows the system until the user picks one; the choice is remembered.
function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  const dark = theme ? theme === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  $("hljs-light").media = dark ? "not all" : "all";
  $("hljs-dark").media = dark ? "all" : "not all";
}
applyTheme(localStorage.getItem("codeact.theme"));
$("theme").addEventListener("click", () => {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === "dark"
    : matchMedia("(prefers-color-scheme: dark)").matches;
  const next = dark ? "light" : "dark";
  try {
    localStorage.setItem("codeact.theme", next);
  } catch {
    /* private mode: the theme lasts for this page */
  }
  applyTheme(next);
});

window.codeact = { agent, ready: agent.ready, sandbox, timeline, settings, start };

agent.ready.then(
  (info) => {
    performance.mark("python-ready");
    document.body.dataset.pythonReady = "true";
    $("boot").dataset.state = "ready";
    label.textContent = `Python ready · agent ${info.version}`;
  },
  (err) => {
    $("boot").dataset.state = "error";
    label.textContent = `Python failed to start: ${err.message.split("\n")[0]}`;
    console.error(err);
  },
);
