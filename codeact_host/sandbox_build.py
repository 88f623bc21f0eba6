"""Build the sandbox's runtime files: MicroPython's glue as a classic-worker script, and the iframe document.

Why a classic script: inside the opaque-origin iframe, a module worker made from a blob: URL fails to start (see
../shared/NOTES-browser-stack.md), so the ES-module glue npm ships is rewritten into plain script text. Each edit
must match exactly once; a new MicroPython release that changes the glue fails the build here, loudly, instead of
failing in a browser later.

Why generate frame.html: its CSP pins the one inline script by its sha256 hash (`'self'` or a URL in script-src
would let `importScripts('<allowed URL>?leak=...')` carry data out). The hash is computed from the script here.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from codeact_host.paths import NODE_MODULES, REPO_ROOT

SANDBOX_SRC = REPO_ROOT / "wasm_sandbox"
GLUE = NODE_MODULES / "@micropython" / "micropython-webassembly-pyscript" / "micropython.mjs"

# (what the glue says, what the classic worker needs instead, why)
GLUE_EDITS = [
    ("export default _createMicroPythonModule;", "", "no exports in a classic script"),
    ("export async function loadMicroPython(", "async function loadMicroPython(", "no exports in a classic script"),
    # The glue builds its own emscripten Module object; let the caller add instantiateWasm, so each worker
    # instantiates the WebAssembly.Module the iframe compiled once instead of fetching and compiling again.
    ("let Module={locateFile:", "let Module={...(options.moduleOverrides||{}),locateFile:", "precompiled module"),
    # A Node-only branch with top-level await: a syntax error in a classic script, and dead code in a browser.
    ('if(globalThis.loadMicroPython=loadMicroPython,"object"==typeof process',
     'if(globalThis.loadMicroPython=loadMicroPython,false&&"object"==typeof process', "Node-only branch off"),
    ('const path=await import("path"),url=await import("url"),', "const path=null,url=null,", "no top-level await"),
]

FRAME_CSP = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; "
    "script-src 'sha256-{hash}' 'wasm-unsafe-eval'; worker-src blob:; connect-src 'none'"
)


def classic_glue(source: str) -> str:
    for old, new, why in GLUE_EDITS:
        count = source.count(old)
        if count != 1:
            raise SystemExit(f"sandbox build: expected one {old!r} in micropython.mjs ({why}), found {count}")
        source = source.replace(old, new)
    # import.meta is a syntax error outside modules; the glue only uses it to locate files it never fetches here.
    return source.replace("import.meta.url", "self.location.href")


def _check_syntax(script: str, name: str) -> None:
    node = shutil.which("node")
    if node is None:
        return  # the browser tests will catch it; the build must not require node beyond npm
    with tempfile.NamedTemporaryFile("w", suffix=".cjs", delete=False) as handle:
        handle.write(script)
    try:
        result = subprocess.run([node, "--check", handle.name], capture_output=True, text=True)
    finally:
        Path(handle.name).unlink()
    if result.returncode != 0:
        raise SystemExit(f"sandbox build: {name} is not a valid classic script:\n{result.stderr[-2000:]}")


def frame_html(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    template = (SANDBOX_SRC / "frame.template.html").read_text()
    csp = FRAME_CSP.format(hash=digest)
    return template.replace("{{CSP}}", csp).replace("{{SCRIPT}}", script)


def build_sandbox(dest: Path) -> None:
    """Writes dest/micropython.classic.js and dest/frame.html."""
    dest.mkdir(parents=True, exist_ok=True)
    glue = classic_glue(GLUE.read_text())
    _check_syntax(glue, "micropython.classic.js")
    (dest / "micropython.classic.js").write_text(glue)
    script = (SANDBOX_SRC / "frame.js").read_text()
    _check_syntax(script, "wasm_sandbox/frame.js")
    _check_syntax((SANDBOX_SRC / "worker_runtime.js").read_text(), "wasm_sandbox/worker_runtime.js")
    (dest / "frame.html").write_text(frame_html(script))
