/**
 * Fetch the wheels a set of packages needs, per the vendored pyodide-lock.json, and verify each one's sha256.
 *
 * Why not `pyodide.loadPackage`: it can only run after Pyodide has booted, it only logs a failed package, and the
 * references it leaves behind make a memory snapshot impossible. Fetching here runs in parallel with the boot, and
 * any missing or altered wheel throws with its name.
 *
 * @example
 *   const lock = await (await fetch(indexURL + "pyodide-lock.json")).json();
 *   const wheels = await fetchWheels(lock, indexURL, ["agent_py"]);   // [{name, fileName, bytes}], deps first
 *   for (const w of wheels) pyodide.unpackArchive(w.bytes, "wheel");
 */

/** @param {string} name */
export function canonicalName(name) {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/**
 * Every package `names` need, dependencies before dependents, each once.
 * @param {{packages: Record<string, {name: string, depends: string[]}>}} lock
 * @param {string[]} names
 * @returns {string[]} canonical names
 */
export function resolveDependencies(lock, names) {
  const order = [];
  const seen = new Set();
  const visit = (name, chain) => {
    const key = canonicalName(name);
    if (seen.has(key)) return;
    const entry = lock.packages[key];
    if (!entry) throw new Error(`package ${name} is not in the vendored lock (needed by ${chain.join(" -> ") || "boot"})`);
    seen.add(key);
    for (const dep of entry.depends ?? []) visit(dep, [...chain, key]);
    order.push(key);
  };
  names.forEach((name) => visit(name, []));
  return order;
}

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * @param {object} lock the parsed pyodide-lock.json
 * @param {string} baseUrl where the wheels are (the lock's file names are relative to it)
 * @param {string[]} names packages to fetch, with their dependencies
 * @returns {Promise<{name: string, fileName: string, bytes: Uint8Array}[]>}
 */
export async function fetchWheels(lock, baseUrl, names) {
  const order = resolveDependencies(lock, names);
  return Promise.all(
    order.map(async (key) => {
      const entry = lock.packages[key];
      const response = await fetch(new URL(entry.file_name, baseUrl));
      if (!response.ok) throw new Error(`package ${key} failed to load: HTTP ${response.status} for ${entry.file_name}`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      const actual = await sha256Hex(bytes);
      if (actual !== entry.sha256) throw new Error(`package ${key} failed its integrity check (sha256 ${actual})`);
      return { name: key, fileName: entry.file_name, bytes };
    }),
  );
}
