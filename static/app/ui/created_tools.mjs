/**
 * Tools the agent created (agent_py/created_tools.py): kept in IndexedDB, listed in the "Tools" dialog with their
 * source, removable, and sent with every run (`settings.createdTools`) so the worker defines them in the sandbox
 * and lists them in the system prompt. They run only inside the sandbox; this page only stores their text.
 *
 * @example
 *   const tools = createCreatedTools({ dialog, onNotice: (text) => toast(text) });
 *   agent.onEvent((event) => tools.handleEvent(event));   // {type: "ToolCreated", tool: {name, source, signature, doc}}
 *   tools.forRun();          // [{name, source}] for the next run's settings
 *   await tools.remove("word_count");
 */
import { open } from "../idb_kv.mjs";
import { scoped } from "../storage_scope.mjs"; // embed mode: per widget (SECURITY-CASES 24)

const DB_NAME = scoped("codeact-created-tools");
const STORE = "tools";
const KEY = "all"; // one record holding the list: at most MAX_TOOLS small texts, written whole
const MAX_TOOLS = 50; // agent_py.created_tools.MAX_TOOLS
const MAX_SOURCE_CHARS = 20000;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A stored tool as the worker sent it, or null when a field is missing or too big (the worker checks again). */
function clean(tool, runId) {
  const text = (v, max) => (typeof v === "string" && v.length <= max ? v : null);
  const name = text(tool?.name, 64);
  const source = text(tool?.source, MAX_SOURCE_CHARS);
  if (!name || !source) return null;
  return { name, source, signature: text(tool.signature, 2000) ?? name, doc: text(tool.doc, 5000) ?? "",
    runId: typeof runId === "string" ? runId : "", createdAt: Date.now() };
}

/**
 * @param {{dialog: HTMLDialogElement, onNotice?: (text: string) => void, onCountChange?: (count: number) => void,
 *          factory?: IDBFactory}} options factory: another IndexedDB (tests)
 */
export function createCreatedTools({ dialog, onNotice = () => {}, onCountChange = () => {}, factory }) {
  const list = dialog.querySelector("[data-created-tools]");
  const note = dialog.querySelector("[data-created-tools-note]");
  /** @type {Array<{name: string, source: string, signature: string, doc: string, runId: string, createdAt: number}>} */
  let tools = [];
  // Without IndexedDB (private modes, quota) the tools last for this page only, and the dialog says so.
  const kv = open(DB_NAME, STORE, factory ? { factory } : undefined).catch((err) => {
    note.textContent = `Created tools are not saved in this browser (${err.message}): they last until this page closes.`;
    note.dataset.state = "warning";
    return null;
  });
  const ready = kv.then(async (store) => {
    const stored = store ? await store.get(KEY).catch(() => null) : null;
    tools = Array.isArray(stored) ? stored.map((t) => clean(t, t?.runId)).filter(Boolean) : [];
    show();
  });

  async function persist() {
    show();
    const store = await kv;
    if (!store) return;
    try {
      await store.put(KEY, tools);
    } catch (err) {
      onNotice(`The created tools could not be saved: ${err.message}`);
    }
  }

  function show() {
    onCountChange(tools.length);
    if (!tools.length) {
      list.replaceChildren(el("li", "empty", "No tools yet. The agent creates one by calling register_tool(func) in its code."));
      return;
    }
    list.replaceChildren(...tools.map((tool) => {
      const row = el("li", "created-tool");
      row.dataset.tool = tool.name;
      const head = el("div", "created-tool-head");
      head.append(el("code", "created-tool-signature", tool.signature));
      const remove = el("button", "secondary", "Remove");
      remove.type = "button";
      remove.setAttribute("aria-label", `Remove the tool ${tool.name}`);
      remove.addEventListener("click", () => api.remove(tool.name));
      head.append(remove);
      const source = el("details", "created-tool-source");
      source.append(el("summary", "", "Source"), el("pre", "", ""));
      source.querySelector("pre").append(el("code", "language-python", tool.source));
      row.append(head, el("p", "created-tool-doc", tool.doc), source);
      return row;
    }));
  }

  const api = {
    ready,
    /** @returns {Array<{name: string, signature: string, doc: string, source: string}>} */
    list() {
      return tools.map(({ name, signature, doc, source }) => ({ name, signature, doc, source }));
    },
    /** What a run's settings carry: name and source only (the worker re-reads the rest from the source). */
    forRun() {
      return tools.map(({ name, source }) => ({ name, source }));
    },
    /** A ToolCreated event from the worker: add the tool, or replace the one of the same name. */
    handleEvent(event) {
      if (event?.type !== "ToolCreated") return;
      const tool = clean(event.tool, event.run_id);
      if (!tool) return;
      // After the stored list is loaded, so loading cannot overwrite a tool created meanwhile.
      ready.then(() => {
        const others = tools.filter((t) => t.name !== tool.name);
        if (others.length >= MAX_TOOLS) {
          onNotice(`Tool ${tool.name} was not kept: at most ${MAX_TOOLS} created tools. Remove some in Tools.`);
          return;
        }
        tools = [...others, tool];
        onNotice(`The agent created the tool ${tool.name}: later runs can use it (see Tools).`);
        return persist();
      });
    },
    /** Delete a tool: later runs no longer define it. */
    async remove(name) {
      await ready;
      tools = tools.filter((t) => t.name !== name);
      await persist();
    },
    open() {
      show();
      dialog.showModal();
    },
  };
  return api;
}
