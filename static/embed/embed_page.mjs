/**
 * Embed mode of the page (index.html?embed=1&host=<origin>&instance=<n>), loaded by static/app/main.mjs when the
 * page is the iframe of a <codeact-agent> (static/widget.js). The UI stays the real one, compact; this adds:
 * - the host channel (bridge.mjs), pinned to the `host` origin of the URL;
 * - host tools: their specs go to the agent worker with every run, and the worker's calls come back here, through
 *   the policy gate (asking this frame's user for "ask" tools: approval.mjs), to the host page and back;
 * - the host's options (preset, base URL, model, theme, built-in tools) applied to this widget's settings.
 * Storage is scoped per host origin and instance (static/app/storage_scope.mjs).
 *
 * @example (static/app/main.mjs)
 *   if (new URLSearchParams(location.search).has("embed")) import("../embed/embed_page.mjs").then((m) => m.startEmbed(window.codeact));
 */

import { startBridge } from "./bridge.mjs";
import { askApproval, dismissApprovals } from "./approval.mjs";
import { PRESETS } from "../app/ui/settings.mjs";

/** The built-in tools a host can turn off (agent_py.session.display_tools). */
export const BUILTIN_TOOLS = ["show_table", "show_chart"];

/** The host origin the widget answers to: an http(s) origin from ?host=, or nothing (then no channel). */
export function configuredHostOrigin(search = location.search) {
  const host = new URLSearchParams(search).get("host") ?? "";
  try {
    const url = new URL(host);
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin === host ? host : "";
  } catch {
    return "";
  }
}

function applyOptions(options, { settingsDialog, themeToggle }) {
  const form = settingsDialog.querySelector("form");
  const field = (name) => form.elements.namedItem(name);
  let changed = false;
  if (typeof options.preset === "string" && options.preset in PRESETS) {
    field("preset").value = options.preset;
    field("baseUrl").value = PRESETS[options.preset].baseUrl;
    changed = true;
  }
  for (const [option, name] of [["baseUrl", "baseUrl"], ["model", "model"]]) {
    if (typeof options[option] === "string") {
      field(name).value = options[option];
      changed = true;
    }
  }
  // Saved through the dialog's own Save path, so the settings module stays the one owner of its state.
  if (changed) form.requestSubmit(form.querySelector('button[value="save"]'));
  const dark = document.documentElement.dataset.theme === "dark"
    || (!document.documentElement.dataset.theme && matchMedia("(prefers-color-scheme: dark)").matches);
  if ((options.theme === "dark" && !dark) || (options.theme === "light" && dark)) themeToggle.click();
}

/** @param {typeof window.codeact} app */
export function startEmbed(app, { doc = document } = {}) {
  const hostOrigin = configuredHostOrigin();
  doc.body.classList.add("embed");
  const css = Object.assign(doc.createElement("link"), { rel: "stylesheet", href: new URL("embed.css", import.meta.url).href });
  doc.head.append(css);
  if (!hostOrigin) {
    console.warn("codeact embed: no valid ?host= origin: the host channel stays closed");
    app.embed = null;
    return null;
  }
  const { agent } = app;
  let hostTools = [];
  let builtins = null; // null: every built-in tool on

  // Every run of this widget (typed here or started by the host) gets the host's tools: the specs travel to the
  // worker right before its start-run (the worker handles messages in order).
  const startRun = agent.startRun;
  agent.startRun = (task, settings, options = {}) => {
    const runId = options.runId ?? crypto.randomUUID();
    agent.worker.postMessage({ type: "host-tools", runId, tools: hostTools, builtins });
    return startRun(task, settings, { ...options, runId });
  };

  const elements = { settingsDialog: doc.getElementById("settings"), themeToggle: doc.getElementById("theme") };
  const bridge = startBridge({
    hostOrigin,
    version: agent.ready,
    builtinTools: BUILTIN_TOOLS,
    startRun: (task) => (doc.body.dataset.running === "true" ? null : app.start(task)),
    stopRun: (runId) => agent.stopRun(runId),
    onEvent: (listener) => agent.onEvent(listener),
    approve: askApproval,
    onTools: (tools) => { hostTools = tools; },
    onOptions: (options) => {
      if (typeof options.tools === "string") {
        builtins = options.tools.split(",").map((name) => name.trim()).filter((name) => BUILTIN_TOOLS.includes(name));
      }
      applyOptions(options, elements);
    },
  });

  agent.onEvent((event) => {
    if (event?.type === "RunFinished") dismissApprovals(doc); // one run at a time: its questions go with it
  });
  agent.worker.addEventListener("message", async ({ data }) => {
    if (data?.type !== "host-tool-call") return;
    const reply = await bridge.callHostTool(data);
    agent.worker.postMessage({ type: "host-tool-result", id: data.id, ...reply });
  });
  app.embed = { hostOrigin, bridge: bridge.state, builtins: () => builtins };
  return bridge;
}
