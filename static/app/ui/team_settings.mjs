/**
 * The "Mode" block of Settings: one agent, planner + implementer (agent_py/team.py run_planner), or retrieval +
 * processing sandboxes (run_two_sandboxes). Planner + implementer has a model config of its own for the planner
 * (provider, base URL, model, key), so the two agents can use different providers; the implementer uses the main
 * model. The planner's key follows the main key's rule (ui/keys.mjs): sessionStorage unless "remember" is ticked,
 * never in the saved settings, the history or an export. Manager + helper (agent_py/managed.py) has one field: the
 * helper's step budget per call (helperMaxSteps); both agents use the main model.
 *
 * @example
 *   const team = createTeamSettings(form, PRESETS);
 *   team.fill(stored);                  // stored: the saved settings ({mode, planner: {preset, baseUrl, model}})
 *   team.read();                        // {mode, planner, helperMaxSteps} for saving (no key)
 *   team.saveKey();                     // the planner key field -> session/local storage
 *   team.forRun(stored);                // {mode, planner: {..., apiKey}} for a run's settings
 */
import { isRemembered, PLANNER_KEY, readKey, saveKey } from "./keys.mjs";

export const MODES = {
  single: "Single agent",
  planner: "Planner + implementer",
  two_sandboxes: "Retrieval + processing sandboxes",
  managed: "Manager + helper agent",
};

/**
 * @param {HTMLFormElement} form the settings form, holding the [data-team-settings] block of index.html
 * @param {Record<string, {label: string, provider: string, baseUrl: string}>} presets ui/settings.mjs PRESETS
 */
export function createTeamSettings(form, presets) {
  const field = (name) => form.elements.namedItem(name);
  const mode = field("mode");
  const preset = field("plannerPreset");
  const plannerFields = form.querySelector("[data-planner-fields]");
  const helperFields = form.querySelector("[data-helper-fields]");
  const helperSteps = field("helperMaxSteps");
  /** The helper's budget as a whole number >= 1, or undefined (the worker's default) when empty or bad. */
  const stepsOf = (value) => (Number.isInteger(Number(value)) && Number(value) >= 1 && value !== "" ? Number(value) : undefined);
  for (const [name, label] of Object.entries(MODES)) mode.add(new Option(label, name));
  for (const [name, entry] of Object.entries(presets)) preset.add(new Option(entry.label, name));

  const showPlanner = () => {
    plannerFields.hidden = mode.value !== "planner";
    helperFields.hidden = mode.value !== "managed";
  };
  mode.addEventListener("change", showPlanner);
  preset.addEventListener("change", () => {
    const entry = presets[preset.value];
    if (entry?.baseUrl) field("plannerBaseUrl").value = entry.baseUrl;
  });

  return {
    /** @param {{mode?: string, planner?: {preset?: string, baseUrl?: string, model?: string}}} stored */
    fill(stored) {
      mode.value = MODES[stored.mode] ? stored.mode : "single";
      const planner = stored.planner ?? {};
      preset.value = planner.preset ?? "";
      field("plannerBaseUrl").value = planner.baseUrl ?? "";
      field("plannerModel").value = planner.model ?? "";
      field("plannerApiKey").value = readKey(PLANNER_KEY);
      field("plannerRemember").checked = isRemembered(PLANNER_KEY);
      helperSteps.value = stored.helperMaxSteps ?? "";
      showPlanner();
    },
    /** What is saved with the settings: never the key. */
    read() {
      const name = preset.value;
      return {
        mode: mode.value,
        planner: { preset: name, provider: presets[name]?.provider ?? "openai",
          baseUrl: field("plannerBaseUrl").value.trim(), model: field("plannerModel").value.trim() },
        helperMaxSteps: stepsOf(helperSteps.value.trim()),
      };
    },
    saveKey() {
      saveKey(field("plannerApiKey").value, { remember: field("plannerRemember").checked, name: PLANNER_KEY });
    },
    /** The run's part: the mode, and in planner mode the planner's model with its key (for the worker only). */
    forRun(stored) {
      const chosen = MODES[stored.mode] ? stored.mode : "single";
      if (chosen === "managed") return { mode: chosen, helperMaxSteps: stepsOf(String(stored.helperMaxSteps ?? "")) };
      if (chosen !== "planner") return { mode: chosen };
      return { mode: chosen, planner: { ...(stored.planner ?? {}), apiKey: readKey(PLANNER_KEY) } };
    },
  };
}
