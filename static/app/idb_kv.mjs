/**
 * A promise-based key-value store on IndexedDB, small enough to read in one sitting. The agent worker registers it
 * into Pyodide as `codeact_idb`, where agent_py.models.cache.BrowserCacheStore keeps model replies in it.
 *
 * @example
 *   const kv = await open("codeact-cache", "responses");
 *   await kv.put("k", '{"events": []}');       // any structured-clonable value; strings are measured exactly
 *   await kv.get("k");                          // the value, or undefined
 *   await kv.evict({maxEntries: 200, maxBytes: 20e6});   // drops the oldest records until both caps hold
 *   await kv.stats();                           // {entries, bytes}
 *   await kv.delete("k"); await kv.clear(); await kv.count();
 *
 * Every failure is a KvError with a `name` the caller can branch on, never a silent no-op:
 *   IdbUnavailableError  no IndexedDB here (some private modes, a sandboxed origin) or the database cannot open
 *   IdbQuotaError        the browser refused to store more (QuotaExceededError)
 *   IdbError             anything else (a blocked upgrade, an aborted transaction)
 *
 * Records are stored as {key, value, bytes, at}: [at, bytes] (`at` an increasing stamp) is indexed, so stats and
 * eviction walk the oldest first without reading any value.
 */

const VERSION = 1;
const BY_AGE = "by_age";

export class KvError extends Error {
  /** @param {"IdbUnavailableError" | "IdbQuotaError" | "IdbError"} name @param {string} message */
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

/**
 * The typed error for whatever IndexedDB threw or reported (a DOMException, an Error, or nothing at all).
 * @param {unknown} err @param {string} doing what was being attempted, for the message
 * @returns {KvError}
 */
export function toKvError(err, doing) {
  if (err instanceof KvError) return err;
  const name = /** @type {any} */ (err)?.name ?? "";
  const detail = /** @type {any} */ (err)?.message || String(err ?? "unknown error");
  if (name === "QuotaExceededError") {
    return new KvError("IdbQuotaError", `${doing}: the browser's storage quota is exceeded (${detail})`);
  }
  if (name === "SecurityError" || name === "InvalidStateError") {
    // Firefox private windows and sandboxed origins refuse at open() with one of these.
    return new KvError("IdbUnavailableError", `${doing}: IndexedDB is not available here (${name}: ${detail})`);
  }
  return new KvError("IdbError", `${doing}: ${name ? `${name}: ` : ""}${detail}`);
}

/** @param {IDBRequest} request @param {string} doing @returns {Promise<any>} */
function settle(request, doing) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(toKvError(request.error, doing));
  });
}

/** @param {IDBTransaction} tx @param {string} doing @returns {Promise<void>} */
function committed(tx, doing) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    // A quota failure surfaces as the transaction's error when the commit is refused.
    tx.onabort = () => reject(toKvError(tx.error ?? new Error("transaction aborted"), doing));
    tx.onerror = () => reject(toKvError(tx.error, doing));
  });
}

/** @param {unknown} value @returns {number} bytes a value takes, exact for strings (UTF-8), rough otherwise */
function sizeOf(value) {
  if (typeof value === "string") return new TextEncoder().encode(value).byteLength;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return value.byteLength;
  try {
    return new TextEncoder().encode(JSON.stringify(value) ?? "").byteLength;
  } catch {
    return 0;
  }
}

/**
 * @typedef {{entries: number, bytes: number}} KvStats
 * @typedef {{
 *   get: (key: string) => Promise<any>,
 *   put: (key: string, value: any) => Promise<void>,
 *   delete: (key: string) => Promise<void>,
 *   clear: () => Promise<void>,
 *   count: () => Promise<number>,
 *   stats: () => Promise<KvStats>,
 *   evict: (caps: {maxEntries?: number, maxBytes?: number}) => Promise<number>,
 *   close: () => void,
 * }} KvStore
 */

/**
 * Open (creating if needed) `storeName` in database `dbName`.
 * @param {string} dbName @param {string} storeName
 * @param {{factory?: IDBFactory}} [options] factory: another IndexedDB (tests); defaults to the global one
 * @returns {Promise<KvStore>}
 */
export async function open(dbName, storeName, { factory = globalThis.indexedDB } = {}) {
  if (!factory || typeof factory.open !== "function") {
    throw new KvError("IdbUnavailableError", "IndexedDB is not available in this browser context");
  }
  let request;
  try {
    request = factory.open(dbName, VERSION);
  } catch (err) {
    throw toKvError(err, `opening ${dbName}`);
  }
  request.onupgradeneeded = () => {
    const store = request.result.createObjectStore(storeName, { keyPath: "key" });
    // [at, bytes]: a key cursor on this index yields age and size without loading any value.
    store.createIndex(BY_AGE, ["at", "bytes"]);
  };
  /** @type {IDBDatabase} */
  const db = await new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(toKvError(request.error, `opening ${dbName}`));
    request.onblocked = () => reject(new KvError("IdbError", `opening ${dbName}: blocked by another open tab`));
  });
  if (!db.objectStoreNames.contains(storeName)) {
    db.close();
    throw new KvError("IdbError", `database ${dbName} has no store ${storeName} (one store per database)`);
  }
  // Another tab upgrading the database must not wait on us forever.
  db.onversionchange = () => db.close();
  // Stamps only grow within a page; across reloads Date.now() keeps them ordered.
  let lastStamp = 0;
  const stamp = () => (lastStamp = Math.max(Date.now(), lastStamp + 1));

  /** @param {IDBTransactionMode} mode @param {string} doing */
  function transaction(mode, doing) {
    try {
      const tx = db.transaction(storeName, mode);
      return { tx, store: tx.objectStore(storeName) };
    } catch (err) {
      throw toKvError(err, doing);
    }
  }

  return {
    async get(key) {
      const { store } = transaction("readonly", "reading");
      const record = await settle(store.get(key), `reading ${key}`);
      return record?.value;
    },

    async put(key, value) {
      const doing = `storing ${key}`;
      const { tx, store } = transaction("readwrite", doing);
      const done = committed(tx, doing);
      try {
        store.put({ key, value, bytes: sizeOf(value), at: stamp() });
      } catch (err) {
        tx.abort();
        done.catch(() => {});
        throw toKvError(err, doing);
      }
      await done;
    },

    async delete(key) {
      const { tx, store } = transaction("readwrite", `deleting ${key}`);
      store.delete(key);
      await committed(tx, `deleting ${key}`);
    },

    async clear() {
      const { tx, store } = transaction("readwrite", "clearing");
      store.clear();
      await committed(tx, "clearing");
    },

    async count() {
      const { store } = transaction("readonly", "counting");
      return settle(store.count(), "counting");
    },

    async stats() {
      const { store } = transaction("readonly", "measuring");
      let stats = { entries: 0, bytes: 0 };
      await walk(store.index(BY_AGE).openKeyCursor(), (ages, bytes) => {
        stats = { entries: ages.length, bytes };
      });
      return stats;
    },

    /** Deletes the oldest records until at most maxEntries and maxBytes remain; returns how many went. */
    async evict({ maxEntries = Infinity, maxBytes = Infinity } = {}) {
      const doing = "evicting";
      const { tx, store } = transaction("readwrite", doing);
      const done = committed(tx, doing);
      let removed = 0;
      // The deletes are issued from the cursor's last callback, while the transaction is certainly still active.
      await walk(store.index(BY_AGE).openKeyCursor(), (ages, total) => {
        let entries = ages.length;
        for (const [key, bytes] of ages) {
          if (entries <= maxEntries && total <= maxBytes) break;
          store.delete(key);
          entries -= 1;
          total -= bytes;
          removed += 1;
        }
      });
      await done;
      return removed;
    },

    close() {
      db.close();
    },
  };
}

/**
 * Walk a cursor of records oldest first, gathering [key, bytes], then call `atEnd` synchronously inside the last
 * success callback (so it may still issue requests on the same transaction: an awaited continuation might not).
 * @param {IDBRequest<IDBCursor | null>} request a key cursor on the [at, bytes] index
 * @param {(ages: Array<[string, number]>, total: number) => void} atEnd
 * @returns {Promise<void>}
 */
function walk(request, atEnd) {
  /** @type {{ages: Array<[string, number]>, total: number}} */
  const into = { ages: [], total: 0 };
  return new Promise((resolve, reject) => {
    request.onsuccess = () => {
      const cursor = request.result;
      if (cursor) {
        const bytes = /** @type {[number, number]} */ (cursor.key)[1];
        into.ages.push([/** @type {string} */ (cursor.primaryKey), bytes]);
        into.total += bytes;
        cursor.continue();
        return;
      }
      try {
        atEnd(into.ages, into.total);
        resolve();
      } catch (err) {
        reject(toKvError(err, "walking the store"));
      }
    };
    request.onerror = () => reject(toKvError(request.error, "reading the store"));
  });
}
