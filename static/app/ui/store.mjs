/**
 * The run history in IndexedDB, with an in-memory fallback: when IndexedDB is missing (some private modes, a
 * sandboxed document), refuses to open, or the quota is full, runs still work and are kept for this page only;
 * `problem` says why, in words, so the page can tell the user that history is not saved (SECURITY-CASES 30).
 *
 * @example
 *   const store = await openStore();
 *   store.persistent;                 // false when runs are only kept in memory
 *   store.onProblem((text) => banner.textContent = text);
 *   await store.saveRun(record);      // record: see ui/run_record.mjs; keys are scrubbed before storing
 *   await store.listRuns();           // summaries, newest first
 *   await store.getRun(id); await store.deleteRun(id);
 */
import { withoutKeys } from "./keys.mjs";

import { scoped } from "../storage_scope.mjs"; // embed mode: per widget (SECURITY-CASES 24)
const DB_NAME = scoped("codeact-history");
const DB_VERSION = 1;
const RUNS = "runs";

/** @param {IDBRequest | IDBTransaction} request @returns {Promise<any>} */
function settle(request) {
  return new Promise((resolve, reject) => {
    if ("oncomplete" in request) {
      request.oncomplete = () => resolve();
      request.onabort = () => reject(request.error ?? new Error("transaction aborted"));
      request.onerror = () => reject(request.error);
    } else {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    }
  });
}

/** @param {IDBFactory | undefined} factory @returns {Promise<IDBDatabase>} */
async function openDb(factory) {
  if (!factory || typeof factory.open !== "function") throw new Error("IndexedDB is not available in this browser");
  const request = factory.open(DB_NAME, DB_VERSION);
  request.onupgradeneeded = () => {
    const runs = request.result.createObjectStore(RUNS, { keyPath: "id" });
    runs.createIndex("updatedAt", "updatedAt");
  };
  // A blocked upgrade (another tab holds an old version) must not hang the page: give up after a while.
  return Promise.race([
    settle(request),
    new Promise((_, reject) => setTimeout(() => reject(new Error("IndexedDB did not open (blocked)")), 3000)),
  ]);
}

/** What a history list needs, without the events (which can be large). */
function summary(record) {
  const { id, task, title, status, stopReason, createdAt, updatedAt, recorded, usage, cost, steps } = record;
  return { id, task, title, status, stopReason, createdAt, updatedAt, recorded, usage, cost, stepCount: steps?.length ?? 0 };
}

function describe(err) {
  if (err?.name === "QuotaExceededError") {
    return "The browser's storage is full, so new runs are kept only until this page closes. Delete old runs or free space to save them again.";
  }
  return `History is not saved in this browser (${err?.message || err?.name || "IndexedDB unavailable"}): runs are kept only until this page closes.`;
}

/**
 * @param {{factory?: IDBFactory}} [options] factory: another IndexedDB (tests); defaults to the global one
 * @returns {Promise<RunStore>}
 *
 * @typedef {{
 *   persistent: boolean, problem: string | null,
 *   onProblem: (listener: (text: string) => void) => void,
 *   saveRun: (record: object) => Promise<void>, getRun: (id: string) => Promise<object | undefined>,
 *   listRuns: () => Promise<object[]>, deleteRun: (id: string) => Promise<void>,
 * }} RunStore
 */
export async function openStore({ factory } = {}) {
  const memory = new Map(); // id -> record: what could not be (or cannot be) written to IndexedDB
  const listeners = new Set();
  let db = null;
  let problem = null;
  try {
    db = await openDb(factory ?? globalThis.indexedDB);
  } catch (err) {
    problem = describe(err);
  }

  function fail(err) {
    problem = describe(err);
    for (const listener of listeners) listener(problem);
  }

  async function withStore(mode, body) {
    const tx = db.transaction(RUNS, mode);
    const result = body(tx.objectStore(RUNS));
    await settle(tx);
    return result instanceof IDBRequest ? result.result : result;
  }

  const store = {
    get persistent() {
      return db !== null && problem === null;
    },
    get problem() {
      return problem;
    },
    onProblem(listener) {
      listeners.add(listener);
      if (problem) listener(problem);
    },
    async saveRun(record) {
      const clean = withoutKeys(record);
      if (db && problem === null) {
        try {
          await withStore("readwrite", (runs) => runs.put(clean));
          memory.delete(clean.id);
          return;
        } catch (err) {
          fail(err); // quota or a dead connection: keep going in memory, and say so
        }
      }
      memory.set(clean.id, clean);
    },
    async getRun(id) {
      if (memory.has(id)) return memory.get(id);
      if (!db) return undefined;
      try {
        return await withStore("readonly", (runs) => runs.get(id));
      } catch {
        return undefined;
      }
    },
    async listRuns() {
      let stored = [];
      if (db) {
        try {
          stored = await withStore("readonly", (runs) => runs.getAll());
        } catch {
          stored = [];
        }
      }
      const byId = new Map(stored.map((r) => [r.id, r]));
      for (const [id, record] of memory) byId.set(id, record);
      return [...byId.values()].map(summary).sort((a, b) => (b.updatedAt ?? 0) - (a.updatedAt ?? 0));
    },
    async deleteRun(id) {
      memory.delete(id);
      if (!db) return;
      try {
        await withStore("readwrite", (runs) => runs.delete(id));
      } catch (err) {
        fail(err);
      }
    },
  };
  return store;
}
