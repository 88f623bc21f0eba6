/**
 * The history panel: past runs from the store, each with Open, Replay, Continue, Export and Delete, plus Import.
 * What opening, replaying and continuing do is the caller's (main.mjs): this module lists and moves records.
 *
 * @example
 *   const history = createHistory({ dialog, store, onOpen, onReplay, onContinue, onNotice });
 *   history.open();        // refreshes the list and shows the dialog
 */
import { exportRun, importRun } from "./run_record.mjs";
import { downloadBytes } from "./files.mjs";
import { describeUsage } from "./usage.mjs";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function action(label, name, handler) {
  const button = el("button", "secondary", label);
  button.type = "button";
  button.dataset.action = name;
  button.addEventListener("click", handler);
  return button;
}

/** A file name from a task: "history-what-is-the-20th-fibonacci.json". */
function exportName(summary) {
  const slug = (summary.title || summary.task || "run").toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 40);
  return `codeact-${slug.replace(/^-|-$/g, "") || "run"}.json`;
}

/**
 * @param {{dialog: HTMLDialogElement, store: import("./store.mjs").RunStore,
 *          onOpen: (record: object) => void, onReplay: (record: object) => void,
 *          onContinue: (record: object) => void, onNotice?: (text: string) => void}} options
 */
export function createHistory({ dialog, store, onOpen, onReplay, onContinue, onNotice = () => {} }) {
  const list = dialog.querySelector("[data-history-list]");
  const note = dialog.querySelector("[data-history-note]");
  const picker = dialog.querySelector("input[type=file]");

  async function withRecord(id, use) {
    const record = await store.getRun(id);
    if (!record) {
      onNotice("That run is no longer stored.");
      return refresh();
    }
    return use(record);
  }

  function row(summary) {
    const item = el("li", "history-item");
    item.dataset.runId = summary.id;
    const when = new Date(summary.updatedAt ?? summary.createdAt ?? 0).toLocaleString();
    const title = el("span", "history-title", summary.title || summary.task || "(untitled run)");
    const meta = el("span", "history-meta",
      [summary.status, `${summary.stepCount} step${summary.stepCount === 1 ? "" : "s"}`, describeUsage(summary.usage), when]
        .filter(Boolean).join(" · "));
    const actions = el("div", "history-actions");
    actions.append(
      action("Open", "open", () => withRecord(summary.id, (r) => { dialog.close(); onOpen(r); })),
      action("Replay", "replay", () => withRecord(summary.id, (r) => { dialog.close(); onReplay(r); })),
      action("Continue", "continue", () => withRecord(summary.id, (r) => { dialog.close(); onContinue(r); })),
      action("Export", "export", () => withRecord(summary.id, (r) => {
        downloadBytes(exportName(summary), new TextEncoder().encode(exportRun(r)), "application/json");
      })),
      action("Delete", "delete", async () => {
        await store.deleteRun(summary.id);
        refresh();
      }),
    );
    for (const button of actions.children) button.setAttribute("aria-label", `${button.textContent}: ${title.textContent}`);
    if (summary.recorded) title.append(el("span", "badge", "recorded"));
    item.append(title, meta, actions);
    return item;
  }

  async function refresh() {
    const runs = await store.listRuns();
    list.replaceChildren(...runs.map(row));
    if (!runs.length) list.append(el("li", "empty", "No runs yet."));
    note.textContent = store.problem ?? "Runs are saved in this browser (IndexedDB). Exports never contain your API key.";
    note.dataset.state = store.problem ? "warning" : "ok";
  }

  picker.addEventListener("change", async () => {
    for (const file of picker.files) {
      try {
        const record = importRun(await file.text());
        await store.saveRun(record);
        onNotice(`Imported “${record.title || record.task}”.`);
      } catch (err) {
        onNotice(`${file.name} was not imported: ${err.message}`);
      }
    }
    picker.value = "";
    refresh();
  });

  return {
    async open() {
      await refresh();
      if (!dialog.open) dialog.showModal();
    },
    refresh,
  };
}
