/**
 * File contents of workspace checkpoints, in IndexedDB, one record per run and sha256 (deduplicated: a content the
 * run's checkpoints share is stored once). The agent worker sends each content once ({type: "checkpoint-blobs"}),
 * before the Checkpoint event that lists it; which contents a run keeps is decided by agent_py.workspace's cap,
 * and `keepOnly` drops the rest. Contents wait in memory until written, so a restore right after a step never
 * misses one; without IndexedDB they stay in memory for this page only.
 *
 * @example
 *   const blobs = await openBlobs();
 *   await blobs.put(runId, [[sha256, bytes]]);
 *   const bytes = await blobs.get(runId, sha256);      // Uint8Array or undefined
 *   await blobs.keepOnly(runId, new Set([sha256]));     // after checkpoints were dropped
 *   await blobs.deleteRun(runId);
 */
import { scoped } from "../storage_scope.mjs"; // embed mode: per widget (SECURITY-CASES 24)

const DB_NAME = scoped("codeact-checkpoints");
const STORE = "blobs";

const key = (runId, sha) => `${runId}/${sha}`;
const runRange = (runId) => IDBKeyRange.bound(`${runId}/`, `${runId}/\uffff`);

function settle(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error("transaction aborted"));
    tx.onerror = () => reject(tx.error);
  });
}

async function openDb(factory) {
  if (!factory || typeof factory.open !== "function") throw new Error("IndexedDB is not available");
  const request = factory.open(DB_NAME, 1);
  request.onupgradeneeded = () => request.result.createObjectStore(STORE);
  return Promise.race([
    settle(request),
    new Promise((_, reject) => setTimeout(() => reject(new Error("IndexedDB did not open (blocked)")), 3000)),
  ]);
}

/**
 * @param {{factory?: IDBFactory, onProblem?: (text: string) => void}} [options]
 * @returns {Promise<{put: Function, get: Function, keepOnly: Function, deleteRun: Function, persistent: boolean}>}
 */
export async function openBlobs({ factory = globalThis.indexedDB, onProblem = () => {} } = {}) {
  const memory = new Map(); // key -> Uint8Array not (yet, or ever) in IndexedDB
  let db = null;
  try {
    db = await openDb(factory);
  } catch (err) {
    onProblem(`Checkpoint contents are kept only until this page closes (${err?.message ?? err}).`);
  }

  async function inStore(mode, body) {
    const tx = db.transaction(STORE, mode);
    const result = body(tx.objectStore(STORE));
    await committed(tx);
    return result instanceof IDBRequest ? result.result : result;
  }

  return {
    get persistent() {
      return db !== null;
    },
    /** @param {string} runId @param {[string, Uint8Array][]} blobs */
    async put(runId, blobs) {
      for (const [sha, bytes] of blobs) memory.set(key(runId, sha), bytes);
      if (!db) return;
      try {
        await inStore("readwrite", (store) => {
          for (const [sha, bytes] of blobs) store.put(bytes, key(runId, sha));
        });
        for (const [sha] of blobs) memory.delete(key(runId, sha));
      } catch (err) {
        onProblem(`Checkpoint contents could not be saved (${err?.name ?? err}): they are kept until this page closes.`);
      }
    },
    /** @returns {Promise<Uint8Array | undefined>} */
    async get(runId, sha) {
      const held = memory.get(key(runId, sha));
      if (held || !db) return held;
      const value = await inStore("readonly", (store) => store.get(key(runId, sha)));
      return value === undefined ? undefined : new Uint8Array(value);
    },
    /** Drop every content of the run that `shas` does not list (checkpoints dropped by the cap). */
    async keepOnly(runId, shas) {
      for (const k of [...memory.keys()]) {
        if (k.startsWith(`${runId}/`) && !shas.has(k.slice(runId.length + 1))) memory.delete(k);
      }
      if (!db) return;
      const keys = await inStore("readonly", (store) => store.getAllKeys(runRange(runId)));
      const stale = keys.filter((k) => !shas.has(String(k).slice(runId.length + 1)));
      if (stale.length) await inStore("readwrite", (store) => stale.forEach((k) => store.delete(k)));
    },
    async deleteRun(runId) {
      return this.keepOnly(runId, new Set());
    },
  };
}
