/**
 * Settings: the model endpoint, the key, limits, token prices. Saved in localStorage without the key; the key is
 * kept by ui/keys.mjs (sessionStorage unless the user ticks "remember"). It is sent only to the agent worker,
 * which puts it in the Authorization header of requests to the configured endpoint.
 *
 * @example
 *   const settings = createSettings(dialogElement, { testConnection: (s) => agent.request("test-connection", {settings: s}) });
 *   settings.current();     // {provider, preset, baseUrl, model, apiKey, temperature, limits, sandbox, tools}
 * The Tools section (ui/tool_settings.mjs) keeps its tokens and headers like the key (ui/tool_secrets.mjs).
 *   settings.configured();  // false until a model is set: the page then offers the recorded demos
 *   settings.prices();      // {promptPerM, completionPerM} for the cost shown per step and run
 *   settings.setKey("sk-…");  // a new key for the model (a refused key's retry, ui/auth_prompt.mjs)
 */
import { isRemembered, readKey, saveKey } from "./keys.mjs";
import { createTeamSettings } from "./team_settings.mjs";
import { createToolSettings, withToolSecrets } from "./tool_settings.mjs";
import { readToolSecrets, saveToolSecrets, toolSecretsRemembered } from "./tool_secrets.mjs";

import { scoped } from "../storage_scope.mjs"; // embed mode: per widget (SECURITY-CASES 24)
const STORE_KEY = scoped("codeact.settings");

// Base URLs of the presets agent_py.models.config knows (the worker applies the same names and quirks).
export const PRESETS = {
  ollama: { label: "Ollama (local)", provider: "ollama", baseUrl: "http://127.0.0.1:11434" },
  openai: { label: "OpenAI", provider: "openai", baseUrl: "https://api.openai.com/v1" },
  openrouter: { label: "OpenRouter", provider: "openai", baseUrl: "https://openrouter.ai/api/v1" },
  groq: { label: "Groq", provider: "openai", baseUrl: "https://api.groq.com/openai/v1" },
  mistral: { label: "Mistral", provider: "openai", baseUrl: "https://api.mistral.ai/v1" },
  gemini: { label: "Gemini (OpenAI-compatible)", provider: "openai", baseUrl: "https://generativelanguage.googleapis.com/v1beta/openai" },
  anthropic: { label: "Anthropic (OpenAI-compatible)", provider: "openai", baseUrl: "https://api.anthropic.com/v1" },
  vllm: { label: "vLLM", provider: "openai", baseUrl: "http://127.0.0.1:8000/v1" },
  lmstudio: { label: "LM Studio", provider: "openai", baseUrl: "http://127.0.0.1:1234/v1" },
  llamacpp: { label: "llama.cpp server", provider: "openai", baseUrl: "http://127.0.0.1:8080/v1" },
  "": { label: "Other OpenAI-compatible endpoint", provider: "openai", baseUrl: "" },
};

const DEFAULTS = {
  preset: "ollama", provider: "ollama", baseUrl: PRESETS.ollama.baseUrl, model: "", temperature: 0.2,
  limits: { maxSteps: 12, maxWallClockS: 300, maxTokens: null }, sandbox: { timeoutMs: 10000, memoryMb: 256 },
  prices: { promptPerM: null, completionPerM: null },
};

function readStored() {
  try {
    return { ...DEFAULTS, ...JSON.parse(localStorage.getItem(STORE_KEY) || "{}") };
  } catch {
    return { ...DEFAULTS };
  }
}

/**
 * @param {HTMLDialogElement} dialog the settings dialog (see index.html)
 * @param {{testConnection: (settings: object) => Promise<{models: string[]}>, onChange?: () => void}} hooks
 */
export function createSettings(dialog, { testConnection, clearCache = null, downloadLog = null,
  onChange = () => {} }) {
  const form = dialog.querySelector("form");
  const field = (name) => form.elements.namedItem(name);
  let stored = readStored();
  let apiKey = readKey();
  let toolSecrets = readToolSecrets();
  const toolSettings = createToolSettings(dialog);
  const onChangeListeners = new Set([onChange]);

  const presetSelect = field("preset");
  for (const [name, preset] of Object.entries(PRESETS)) presetSelect.add(new Option(preset.label, name));
  const team = createTeamSettings(form, PRESETS); // the Mode block: its own module (planner model and key)

  function fill() {
    presetSelect.value = stored.preset ?? "";
    field("baseUrl").value = stored.baseUrl ?? "";
    field("model").value = stored.model ?? "";
    field("apiKey").value = apiKey;
    field("remember").checked = isRemembered();
    field("temperature").value = stored.temperature ?? 0.2;
    field("maxSteps").value = stored.limits?.maxSteps ?? 12;
    field("maxWallClockS").value = stored.limits?.maxWallClockS ?? 300;
    field("maxTokens").value = stored.limits?.maxTokens ?? "";
    field("timeoutMs").value = stored.sandbox?.timeoutMs ?? 10000;
    field("memoryMb").value = stored.sandbox?.memoryMb ?? 256;
    field("allowedImports").value = stored.sandbox?.allowedImports ?? "";
    field("cache").checked = stored.cache === true;
    field("logLevel").value = stored.logLevel ?? "info";
    field("promptPerM").value = stored.prices?.promptPerM ?? "";
    field("completionPerM").value = stored.prices?.completionPerM ?? "";
    team.fill(stored);
    toolSettings.fill(stored.tools, toolSecrets, toolSecretsRemembered());
  }

  function fromForm() {
    const number = (name) => (field(name).value === "" ? null : Number(field(name).value));
    const preset = presetSelect.value;
    return {
      preset,
      provider: PRESETS[preset]?.provider ?? "openai",
      baseUrl: field("baseUrl").value.trim(),
      model: field("model").value.trim(),
      temperature: number("temperature"),
      limits: { maxSteps: number("maxSteps"), maxWallClockS: number("maxWallClockS"), maxTokens: number("maxTokens") },
      sandbox: { timeoutMs: number("timeoutMs"), memoryMb: number("memoryMb"),
        allowedImports: field("allowedImports").value.trim() },
      prices: { promptPerM: number("promptPerM"), completionPerM: number("completionPerM") },
      cache: field("cache").checked,
      logLevel: field("logLevel").value,
      ...team.read(),
    };
  }

  function save() {
    const tools = toolSettings.read();
    stored = { ...fromForm(), tools: tools.tools };
    apiKey = field("apiKey").value;
    toolSecrets = tools.secrets;
    saveToolSecrets(tools.secrets, { remember: tools.remember });
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(stored)); // never the key
    } catch {
      /* storage unavailable (private mode): settings last for this page only */
    }
    saveKey(apiKey, { remember: field("remember").checked });
    team.saveKey();
    for (const listener of onChangeListeners) listener();
  }

  const status = dialog.querySelector("[data-connection-status]");
  const modelList = dialog.querySelector("#model-options");

  /**
   * List the endpoint's models through the worker: proves the URL, the key and CORS in one call. `quiet` is the
   * automatic Ollama probe: it fills the model list when a local server answers and says nothing otherwise.
   */
  async function probe({ quiet = false } = {}) {
    if (!quiet) {
      status.textContent = "Testing…";
      status.dataset.state = "pending";
    }
    try {
      const { models } = await testConnection({ ...fromForm(), apiKey: field("apiKey").value, model: field("model").value || "probe" });
      modelList.replaceChildren(...models.map((m) => new Option(m, m)));
      const where = presetSelect.value === "ollama" ? " local" : "";
      status.textContent = `Connected: ${models.length}${where} model${models.length === 1 ? "" : "s"} available${models.length ? ` (${models.slice(0, 5).join(", ")}${models.length > 5 ? ", …" : ""})` : ""}.`;
      status.dataset.state = "ok";
      if (!field("model").value && models.length) field("model").value = models[0];
    } catch (err) {
      if (quiet) return;
      const detail = err.detail ?? {};
      status.replaceChildren();
      const what = document.createElement("strong");
      what.textContent = `${detail.type ?? err.name}: `;
      status.append(what, document.createTextNode(detail.message ?? err.message));
      if (detail.fix) {
        const fix = document.createElement("span");
        fix.className = "fix";
        fix.textContent = ` How to fix: ${detail.fix}`;
        status.append(fix);
      }
      status.dataset.state = "error";
      // A refused key (SECURITY-CASES 20): say so first, and put the cursor where the right key goes.
      if ((detail.type ?? err.name) === "AuthError") {
        const words = document.createElement("strong");
        words.className = "auth-refused";
        words.textContent = "The endpoint refused the API key: enter a valid one. ";
        status.prepend(words);
        field("apiKey").focus();
        field("apiKey").select();
      }
    }
  }

  presetSelect.addEventListener("change", () => {
    const preset = PRESETS[presetSelect.value];
    if (preset?.baseUrl) field("baseUrl").value = preset.baseUrl;
    modelList.replaceChildren();
    if (presetSelect.value === "ollama") probe({ quiet: true });
  });
  field("baseUrl").addEventListener("change", () => {
    if (presetSelect.value === "ollama") probe({ quiet: true }); // a new local server: list its models again
  });
  dialog.querySelector("[data-test-connection]").addEventListener("click", () => probe());
  dialog.querySelector("[data-download-log]").addEventListener("click", () => downloadLog?.());
  const cacheStatus = dialog.querySelector("[data-cache-status]");
  dialog.querySelector("[data-clear-cache]").addEventListener("click", async () => {
    if (!clearCache) return;
    cacheStatus.textContent = "Clearing…";
    try {
      const { entries } = await clearCache();
      cacheStatus.textContent = entries === 0 ? "Cache cleared." : `Cache still holds ${entries} replies.`;
    } catch (err) {
      cacheStatus.textContent = `Could not clear the cache: ${err?.message ?? err}`;
    }
  });

  form.addEventListener("submit", (event) => {
    if (event.submitter?.value !== "save") return;
    const { errors } = toolSettings.read();
    toolSettings.showErrors(errors);
    if (errors.length) {
      event.preventDefault(); // the dialog stays open on what is wrong
      return;
    }
    save();
  });

  fill();
  return {
    /** @param {{focus?: string}} [options] focus: a field to put the cursor in ("apiKey" after a refused key) */
    open({ focus = "" } = {}) {
      fill();
      status.textContent = "";
      delete status.dataset.state;
      dialog.showModal();
      if (focus) field(focus)?.focus();
      // Ollama's local models are detected on their own: the list is there when the user opens the model box.
      if (presetSelect.value === "ollama" && !field("model").value) probe({ quiet: true });
    },
    /** The settings a run needs, key included (for the worker only). */
    current() {
      const { prices, remember, mode, planner, tools, ...settings } = stored; // `remember` was saved by older pages
      return { ...settings, ...team.forRun(stored), apiKey, ...(tools ? { tools: withToolSecrets(tools, toolSecrets) } : {}) };
    },
    /** Replace the model's key (the run's "Retry with this key"), kept where the current one is kept. */
    setKey(key) {
      apiKey = key;
      field("apiKey").value = key; // the old key must not linger in the (closed) dialog's field
      saveKey(key, { remember: isRemembered() });
    },
    /** The user's token prices (per million), or nulls. */
    prices() {
      return stored.prices ?? DEFAULTS.prices;
    },
    /** @param {() => void} listener called after every save */
    onChange(listener) {
      onChangeListeners.add(listener);
    },
    configured() {
      return Boolean(stored.model && (stored.baseUrl || stored.preset));
    },
  };
}
