/**
 * Which stored runs are still alive: the tab running a run holds a Web Lock named after the run's id for as long as
 * the run goes on; the browser frees it when that tab reloads, closes or crashes. A run stored as "running" whose
 * lock is free was therefore cut off mid-step (SECURITY-CASES 25): it is marked interrupted, never re-run.
 *
 * @example
 *   const release = holdRunLock(runId);          // when the run starts in this tab
 *   release();                                   // when it finishes
 *   watchAbandonedRuns(store, { onInterrupted: (record) => show(record) });   // once, on page load
 *
 * Without navigator.locks (very old browsers), a run stored as "running" when the page loads is taken as cut off:
 * the page cannot tell whether another tab still runs it, and the common case is the reload of this one.
 */
import { scoped } from "../storage_scope.mjs";
import { interruptedRecord } from "./run_record.mjs";

const locks = globalThis.navigator?.locks;

/** @param {string} runId @returns {string} the lock's name (scoped per widget in embed mode) */
export function runLockName(runId) {
  return scoped(`codeact-run:${runId}`);
}

/**
 * Hold the run's lock until the returned function is called (or this tab goes away).
 * @param {string} runId @returns {() => void} release
 */
export function holdRunLock(runId) {
  if (!locks) return () => {};
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  locks.request(runLockName(runId), () => held).catch((err) => console.warn("run lock:", err.message));
  return () => release();
}

/**
 * Run `whenFree` once no tab holds the run's lock: at once if it is free, else when the tab running it is gone or
 * the run ends. Resolves to what `whenFree` returns.
 * @param {string} runId @param {() => Promise<any> | any} whenFree
 */
export function whenRunAbandoned(runId, whenFree) {
  if (!locks) return Promise.resolve().then(whenFree);
  // No ifAvailable: a run live in another tab is checked again the moment that tab lets go of it.
  return locks.request(runLockName(runId), async () => whenFree());
}

/**
 * Find the runs stored as "running" that no tab holds, mark each interrupted in the store, and report them.
 * Runs this tab is itself running (`isLocal`) are left alone.
 * @param {import("./store.mjs").RunStore} store
 * @param {{onInterrupted: (record: object) => void, isLocal?: (runId: string) => boolean}} options
 * @returns {Promise<void>} once the runs stored as running have been listed (their checks may finish later)
 */
export async function watchAbandonedRuns(store, { onInterrupted, isLocal = () => false }) {
  const running = (await store.listRuns()).filter((summary) => summary.status === "running");
  for (const { id } of running) {
    whenRunAbandoned(id, async () => {
      if (isLocal(id)) return;
      const record = await store.getRun(id); // read again: the run may have finished while we waited
      if (record?.status !== "running") return;
      const cut = interruptedRecord(record);
      await store.saveRun(cut);
      onInterrupted(cut);
    }).catch((err) => console.warn("could not check run", id, err.message));
  }
}
