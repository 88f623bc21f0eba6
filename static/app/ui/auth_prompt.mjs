/**
 * When the model endpoint refuses the API key (an AuthError: HTTP 401/403, SECURITY-CASES 20), the run that ended
 * on it asks for a valid key in place: a focused password field and "Retry with this key", which saves the key (as
 * Settings does: ui/keys.mjs) and continues the run, so its finished steps are kept and only the refused step is
 * asked again. The prompt never shows a key: the refused one is not known to this module, and the field's value is
 * cleared as soon as it is handed on. Test connection's refusal is Settings' own (ui/settings.mjs focuses its field).
 *
 * @example
 *   const prompts = createAuthPrompts({ timeline, onRetry: (runId, key) => retry(runId, key),
 *     onOpenSettings: () => settings.open({ focus: "apiKey" }) });
 *   prompts.handleEvent(event);   // every agent event, after the timeline rendered it
 */

/** @param {{type?: string} | null | undefined} error an error dict of an event @returns {boolean} */
export const isAuthError = (error) => error?.type === "AuthError";

/**
 * @param {{timeline: {runs: Map<string, {article: HTMLElement, status: HTMLElement}>},
 *          onRetry: (runId: string, key: string) => void, onOpenSettings: () => void}} hooks
 */
export function createAuthPrompts({ timeline, onRetry, onOpenSettings }) {
  const refused = new Set(); // runs whose RunError was an AuthError, until their RunFinished

  function prompt(runId) {
    const form = document.createElement("form");
    form.className = "auth-prompt";
    form.setAttribute("aria-label", "The API key was refused");
    const words = document.createElement("p");
    words.className = "error-words";
    words.textContent = "The endpoint refused the API key.";
    const hint = document.createElement("p");
    hint.textContent = "Enter a valid key to retry this run: its finished steps are kept, and the key is kept "
      + "like the one in Settings.";
    const label = document.createElement("label");
    const input = document.createElement("input");
    Object.assign(input, { type: "password", name: "apiKey", autocomplete: "off", required: true });
    label.append("API key ", input);
    const retry = document.createElement("button");
    retry.type = "submit";
    retry.textContent = "Retry with this key";
    const settings = document.createElement("button");
    settings.type = "button";
    settings.className = "secondary";
    settings.textContent = "Open Settings";
    settings.addEventListener("click", () => onOpenSettings());
    form.append(words, hint, label, " ", retry, " ", settings);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      input.value = "";
      form.remove();
      onRetry(runId, key);
    });
    return { form, input };
  }

  return {
    /** @param {object} event an agent event */
    handleEvent(event) {
      const runId = event?.run_id;
      if (event?.type === "RunError" && isAuthError(event.error)) refused.add(runId);
      if (event?.type !== "RunFinished" || !refused.delete(runId)) return;
      const run = timeline.runs.get(runId);
      if (!run) return;
      run.article.querySelector(".auth-prompt")?.remove();
      const { form, input } = prompt(runId);
      run.article.insertBefore(form, run.status.nextSibling);
      input.focus();
    },
  };
}
