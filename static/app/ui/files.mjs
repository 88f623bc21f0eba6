/**
 * Files in and out of the sandbox. Files dropped on the page (or picked with "Add files") go to the agent worker
 * as {type: "put-file", name, bytes}, which writes them into the sandbox's file system; files the code writes are
 * announced by a FilesChanged event and fetched on demand with {type: "get-file", path} for download.
 * The protocol is in docs/ARCHITECTURE.md ("Files").
 *
 * @example
 *   const files = createFiles({ dialog, agent, onNotice: (text) => toast(text) });
 *   agent.onEvent((event) => files.handleEvent(event));
 *   await files.put(new File(["a,b\n1,2"], "data.csv"));
 */

const MAX_FILE_BYTES = 50 * 1024 * 1024; // a sandbox file system lives in memory: refuse what would sink it
// A worker that does not answer put-file within this time after Python is ready will not answer at all.
const NO_ANSWER_MS = 15000;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** @param {number} bytes @returns {string} */
export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Save bytes as a file through a temporary blob: link (nothing leaves the page). */
export function downloadBytes(name, bytes, type = "application/octet-stream") {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const link = Object.assign(document.createElement("a"), { href: url, download: name.split("/").pop() || "file" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** A promise that rejects when `promise` has not settled `ms` after `after` resolved. */
function answerWithin(promise, after, ms, message) {
  let timer;
  const timeout = after.then(() => new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); }));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * @param {{dialog: HTMLDialogElement, agent: {request: Function, ready: Promise<any>},
 *          dropTarget?: HTMLElement, onNotice?: (text: string) => void, onCountChange?: (count: number) => void}} options
 */
export function createFiles({ dialog, agent, dropTarget = document.body, onNotice = () => {}, onCountChange = () => {} }) {
  const inputList = dialog.querySelector("[data-files-in]");
  const outputList = dialog.querySelector("[data-files-out]");
  const picker = dialog.querySelector("input[type=file]");
  const written = new Map(); // path -> {path, size}
  let unseen = 0;

  function fileRow(name, detail) {
    const row = el("li", "file");
    row.append(el("span", "file-name", name), el("span", "file-size", detail));
    return row;
  }

  /**
   * Send one file to the sandbox. Resolves with the worker's answer ({path, size}) or rejects with the reason.
   * @param {File} file
   */
  async function put(file) {
    const row = fileRow(file.name, `${formatSize(file.size)} · sending…`);
    row.dataset.state = "sending";
    inputList.append(row);
    const status = row.querySelector(".file-size");
    try {
      if (file.size > MAX_FILE_BYTES) {
        // The same typed error the worker gives (agent_py.errors.FileTooLarge), before any byte is read.
        throw Object.assign(new Error(`larger than the ${formatSize(MAX_FILE_BYTES)} limit for one file`),
          { name: "FileTooLarge", detail: { type: "FileTooLarge", size: file.size, limit: MAX_FILE_BYTES } });
      }
      const bytes = await file.arrayBuffer();
      const value = await answerWithin(agent.request("put-file", { name: file.name, bytes }), agent.ready,
        NO_ANSWER_MS, "the agent worker did not answer put-file");
      row.dataset.state = "ok";
      status.textContent = `${formatSize(file.size)} · in the sandbox as ${value?.path ?? file.name}`;
      onNotice(`${file.name} is in the sandbox.`);
      return value;
    } catch (err) {
      row.dataset.state = "error";
      const why = err.name && err.name !== "Error" ? `${err.name}: ${err.message}` : err.message;
      status.textContent = `${formatSize(file.size)} · not sent: ${why}`;
      onNotice(`${file.name} could not be put in the sandbox: ${why}`);
      throw err;
    }
  }

  async function download(path) {
    try {
      const value = await agent.request("get-file", { path });
      downloadBytes(value.path ?? path, value.bytes, value.type);
    } catch (err) {
      onNotice(`${path} could not be downloaded: ${err.message}`);
    }
  }

  function downloadButton(path) {
    const button = el("button", "secondary download", "Download");
    button.type = "button";
    button.setAttribute("aria-label", `Download ${path}`);
    button.addEventListener("click", () => download(path));
    return button;
  }

  function renderWritten() {
    outputList.replaceChildren(...[...written.values()].map(({ path, size }) => {
      const row = fileRow(path, formatSize(size ?? 0));
      row.append(downloadButton(path));
      return row;
    }));
    if (!written.size) outputList.append(el("li", "empty", "Nothing yet: files the code writes appear here."));
  }

  /**
   * FilesChanged: {files: [{path, size}]}, the sandbox's files after a cell. Returns the element listing the new
   * files for the step's card, or null.
   */
  function handleEvent(event) {
    if (event?.type !== "FilesChanged" || !Array.isArray(event.files)) return null;
    const fresh = event.files.filter((f) => typeof f?.path === "string"
      && (!written.has(f.path) || written.get(f.path).size !== f.size));
    for (const file of event.files) if (typeof file?.path === "string") written.set(file.path, file);
    renderWritten();
    if (!fresh.length) return null;
    unseen += fresh.length;
    onCountChange(unseen);
    const box = el("div", "files-written");
    box.append(el("span", "", `Wrote ${fresh.length} file${fresh.length === 1 ? "" : "s"}:`));
    for (const file of fresh) {
      const chip = downloadButton(file.path);
      chip.textContent = `${file.path} (${formatSize(file.size ?? 0)})`;
      box.append(chip);
    }
    return box;
  }

  // Drag and drop anywhere on the page; the overlay says what dropping does.
  let depth = 0;
  const hasFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files");
  dropTarget.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    depth += 1;
    document.body.dataset.dragging = "true";
  });
  dropTarget.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) delete document.body.dataset.dragging;
  });
  dropTarget.addEventListener("dragover", (event) => {
    if (hasFiles(event)) event.preventDefault(); // allows the drop
  });
  dropTarget.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    delete document.body.dataset.dragging;
    for (const file of event.dataTransfer.files) put(file).catch(() => {});
  });
  picker.addEventListener("change", () => {
    for (const file of picker.files) put(file).catch(() => {});
    picker.value = "";
  });
  renderWritten();

  return {
    put,
    handleEvent,
    open() {
      unseen = 0;
      onCountChange(0);
      dialog.showModal();
    },
    /** @returns {{path: string, size: number}[]} files the code wrote so far */
    written: () => [...written.values()],
  };
}
