/**
 * The checkpoints panel: the workspace after each step that changed its files (agent_py/workspace.py), for the
 * run on screen. Per checkpoint: the diff the step made (text diffs, "binary changed" otherwise), Restore (the
 * sandbox's files become that checkpoint's: {type: "restore-files"} to the agent worker) and Download (a zip made
 * here with fflate). Contents come from ui/checkpoint_blobs.mjs, so all of it works after a reload.
 *
 * @example
 *   const checkpoints = createCheckpoints({ dialog, agent, blobs, onNotice });
 *   checkpoints.show(record);       // the run on screen (live or from history): lists record.checkpoints
 *   checkpoints.open();
 */
import { zipSync } from "../../vendor/libs/fflate.mjs";
import { downloadBytes, formatSize } from "./files.mjs";

const WORKSPACE = "/workspace/";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(text, label, onClick) {
  const node = el("button", "secondary", text);
  node.type = "button";
  node.setAttribute("aria-label", label);
  node.addEventListener("click", onClick);
  return node;
}

const SIGN = { added: "+", modified: "~", deleted: "−" };

/** One line per changed file, then its diff (or why there is none). */
function diffView(checkpoint) {
  const box = el("div", "checkpoint-diff");
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", `Changes made by step ${checkpoint.step}`);
  for (const change of checkpoint.changes) {
    const head = el("p", "checkpoint-change", `${SIGN[change.change] ?? "?"} ${change.path} (${change.change})`);
    head.dataset.change = change.change;
    box.append(head);
    if (change.binary) box.append(el("p", "panel-note", change.change === "modified" ? "binary changed" : `binary file ${change.change}`));
    else if (change.diff) box.append(el("pre", "diff", change.diff));
    else box.append(el("p", "panel-note", "(empty)"));
  }
  return box;
}

/**
 * @param {{dialog: HTMLDialogElement, agent: {request: Function}, blobs: Promise<object>,
 *          onNotice?: (text: string) => void}} options
 *   A restore during a run applies before the run's next cell; with no run, the next run starts with it.
 */
export function createCheckpoints({ dialog, agent, blobs, onNotice = () => {} }) {
  const list = dialog.querySelector("[data-checkpoints]");
  const note = dialog.querySelector("[data-checkpoints-note]");
  const dropNotes = dialog.querySelector("[data-checkpoints-dropped]");
  let record = null;

  /** {path: bytes} of a checkpoint, from the stored contents; throws naming what is missing. */
  async function contents(checkpoint) {
    const store = await blobs;
    const files = [];
    for (const file of checkpoint.files) {
      const bytes = await store.get(record.id, file.sha256);
      if (!bytes) throw new Error(`the contents of ${file.path} are not stored any more`);
      files.push({ path: file.path, bytes });
    }
    return files;
  }

  async function restore(checkpoint) {
    try {
      const files = await contents(checkpoint);
      await agent.request("restore-files", { files: files.map(({ path, bytes }) => ({ path, bytes: bytes.slice().buffer })) });
      dialog.dataset.restored = String(checkpoint.step);
      onNotice(`Workspace restored to step ${checkpoint.step} (${files.length} file${files.length === 1 ? "" : "s"}).`);
    } catch (err) {
      onNotice(`Could not restore step ${checkpoint.step}: ${err.message}`);
    }
  }

  async function download(checkpoint) {
    try {
      const entries = {};
      for (const { path, bytes } of await contents(checkpoint)) {
        entries[path.startsWith(WORKSPACE) ? path.slice(WORKSPACE.length) : path.replace(/^\/+/, "")] = bytes;
      }
      downloadBytes(`checkpoint-step-${checkpoint.step}.zip`, zipSync(entries), "application/zip");
    } catch (err) {
      onNotice(`Could not download step ${checkpoint.step}: ${err.message}`);
    }
  }

  function row(checkpoint) {
    const item = el("li", "checkpoint");
    item.dataset.step = String(checkpoint.step);
    const counts = { added: 0, modified: 0, deleted: 0 };
    for (const change of checkpoint.changes) counts[change.change] = (counts[change.change] ?? 0) + 1;
    const bytes = checkpoint.files.reduce((sum, f) => sum + (f.size ?? 0), 0);
    const summary = el("span", "checkpoint-summary",
      `Step ${checkpoint.step} · ${checkpoint.files.length} file${checkpoint.files.length === 1 ? "" : "s"}`
      + ` (${formatSize(bytes)}) · +${counts.added} ~${counts.modified} −${counts.deleted}`);
    const diff = diffView(checkpoint);
    diff.hidden = true;
    const toggle = button("Diff", `Show the changes of step ${checkpoint.step}`, () => {
      diff.hidden = !diff.hidden;
      toggle.setAttribute("aria-expanded", String(!diff.hidden));
    });
    toggle.setAttribute("aria-expanded", "false");
    item.append(summary,
      toggle,
      button("Restore", `Restore the workspace to step ${checkpoint.step}`, () => restore(checkpoint)),
      button("Download zip", `Download the workspace at step ${checkpoint.step} as a zip`, () => download(checkpoint)),
      diff);
    return item;
  }

  function render() {
    const checkpoints = [...(record?.checkpoints ?? [])].sort((a, b) => a.step - b.step);
    list.replaceChildren(...checkpoints.map(row));
    if (!checkpoints.length) list.append(el("li", "empty", "No checkpoints: a step that changes files makes one."));
    const last = checkpoints.at(-1);
    note.textContent = last
      ? `Contents kept for this run: ${formatSize(last.storedBytes ?? 0)} of ${formatSize(last.capBytes ?? 0)}; the oldest checkpoints are dropped past that.`
      : "";
    dropNotes.replaceChildren(...(record?.checkpointNotes ?? []).map((text) => el("li", "", text)));
    dropNotes.hidden = !dropNotes.childElementCount;
  }

  return {
    /** Show the checkpoints of this run record (call again when it changes). */
    show(next) {
      const same = record?.id === next?.id && record?.checkpoints === next?.checkpoints;
      record = next;
      if (!same) render();
    },
    /** A CheckpointsDropped event: say so at once (the panel lists it from the record too). */
    dropped(event) {
      onNotice(event.message || `Checkpoints of steps ${(event.steps ?? []).join(", ")} were dropped.`);
    },
    open() {
      render();
      dialog.showModal();
    },
    /** For a step's card: what the step changed, and a button to its checkpoint (diff shown). */
    cardNote(event) {
      if (event?.type !== "Checkpoint" || !Array.isArray(event.changes)) return null;
      const box = el("div", "files-written checkpoint-note");
      const counts = event.changes.map((c) => `${SIGN[c.change] ?? "?"}${c.path.replace(WORKSPACE, "")}`);
      box.append(el("span", "", `Checkpoint: ${counts.join(" ")}`),
        button("Changes", `Open the checkpoint of step ${event.step}`, () => {
          render();
          dialog.showModal();
          const item = list.querySelector(`.checkpoint[data-step="${event.step}"]`);
          const diff = item?.querySelector(".checkpoint-diff");
          if (diff) diff.hidden = false;
          item?.querySelector("[aria-expanded]")?.setAttribute("aria-expanded", "true");
          item?.scrollIntoView({ block: "nearest" });
        }));
      return box;
    },
  };
}
