/**
 * Page entry: the shell is already painted by index.html; this wires it up and boots the agent worker.
 * `window.codeact` is the page's public handle (used by the UI, the CLI runner and the tests).
 */
import { startAgentWorker } from "./agent_host.mjs";
import { logLevelFromUrl } from "./log_level.mjs";
import { mountSandboxFrame } from "../../wasm_sandbox/embed.mjs";

performance.mark("shell-visible");

const bar = document.getElementById("boot-progress");
const label = document.getElementById("boot-label");
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

window.codeact = { agent, ready: agent.ready, sandbox };

agent.ready.then(
  (info) => {
    performance.mark("python-ready");
    document.body.dataset.pythonReady = "true";
    document.getElementById("boot").dataset.state = "ready";
    label.textContent = `Python ready · agent ${info.version}`;
  },
  (err) => {
    document.getElementById("boot").dataset.state = "error";
    label.textContent = `Python failed to start: ${err.message.split("\n")[0]}`;
    console.error(err);
  },
);
