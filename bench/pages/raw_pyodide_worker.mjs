const index = new URL("../../static/vendor/pyodide/", import.meta.url).href;
const { loadPyodide } = await import(index + "pyodide.mjs");
const pyodide = await loadPyodide({ indexURL: index, lockFileURL: index + "pyodide-lock.json" });
postMessage(pyodide.runPython("1 + 1"));
