"""Build the vendored browser runtime into static/vendor/ from the package registries, offline at run time.

    python -m codeact_host.build            # idempotent: does nothing when no input changed
    python -m codeact_host.build --force    # rebuild everything

What it makes (all git-ignored):
    static/vendor/pyodide/      Pyodide core from npm + the wheels we ship + a minimal pyodide-lock.json
    static/vendor/micropython/  MicroPython-WebAssembly from npm
    static/vendor/libs/         UI libraries from npm (one file each)
    static/vendor/BUILD.json    a stamp: the hash of every input, so a second run with nothing changed is instant

Why a regenerated lock: Pyodide's upstream lock lists its own repackaged wheels, whose sha256 do not match PyPI's,
so loading by name fails the browser's integrity check and loadPackage() only logs it. We ship exactly the wheels
below and a lock made for them by pyodide-build (which needs Python >= 3.13, so it runs in its own venv).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from codeact_host.paths import NODE_MODULES, REPO_ROOT, VENDOR_DIR
from codeact_host.sandbox_build import build_sandbox

# Pure-Python wheels for Pyodide's Python 3.14, pinned. agent_py's own wheel is built from this repo.
PYODIDE_WHEELS = [
    "micropip==0.11.1",
    "httpx==0.28.1",
    "httpcore==1.0.9",
    "h11==0.16.0",
    "anyio==4.16.0",
    "idna==3.20",
    "certifi==2026.10.18",
    "sniffio==1.3.1",
    "typing_extensions==4.16.0",
]
PYODIDE_PYTHON = "3.14"
PYODIDE_BUILD_REQUIREMENTS = ["pyodide-build==0.39.2", "pyodide-cli==0.5.0", "pkginfo"]

PYODIDE_CORE_FILES = [
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
]
MICROPYTHON_FILES = ["micropython.mjs", "micropython.wasm"]

# UI libraries: (npm package, file inside the package, name under static/vendor/libs/). ES-module builds only.
UI_LIBS: list[tuple[str, str, str]] = [
    ("marked", "lib/marked.esm.js", "marked.esm.js"),  # Markdown -> HTML
    ("dompurify", "dist/purify.es.mjs", "purify.es.mjs"),  # ... then sanitized, always
    ("@highlightjs/cdn-assets", "es/core.min.js", "hljs-core.min.js"),  # syntax highlighting, Python only
    ("@highlightjs/cdn-assets", "es/languages/python.min.js", "hljs-python.min.js"),
    ("@highlightjs/cdn-assets", "styles/github.min.css", "hljs-github.min.css"),
    ("@highlightjs/cdn-assets", "styles/github-dark.min.css", "hljs-github-dark.min.css"),
    ("uplot", "dist/uPlot.esm.js", "uPlot.esm.js"),  # charts: 45 KB, canvas, fast
    ("uplot", "dist/uPlot.min.css", "uPlot.min.css"),
    ("fflate", "esm/browser.js", "fflate.mjs"),  # checkpoint zips: 30 KB, maintained, no dependencies
]

BUILD_VENV = REPO_ROOT / ".venv-build"


def _log(message: str) -> None:
    print(f"[build] {message}", file=sys.stderr, flush=True)  # stdout belongs to the CLI's answer


def _hash_inputs() -> str:
    """Everything the output depends on: the npm lock, this file, agent_py's sources and the wheel pins."""
    digest = hashlib.sha256()
    paths = [REPO_ROOT / "package-lock.json", Path(__file__), REPO_ROOT / "pyproject.toml",
             Path(__file__).with_name("sandbox_build.py")]
    paths += sorted((REPO_ROOT / "agent_py").rglob("*.py"))
    paths += sorted((REPO_ROOT / "wasm_sandbox").rglob("*")) if (REPO_ROOT / "wasm_sandbox").exists() else []
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(REPO_ROOT)).encode())
            digest.update(path.read_bytes())
    digest.update(json.dumps(PYODIDE_WHEELS).encode())
    return digest.hexdigest()


def _find_python_313() -> str:
    """pyodide-build needs Python >= 3.13; the machine has it under pyenv, not on PATH by default."""
    candidates = [os.environ.get("PYTHON313", ""), shutil.which("python3.13") or ""]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.1[3-9]*/bin/python3"))
    for candidate in candidates:
        if not candidate:
            continue
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info >= (3, 13))"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return candidate
    raise SystemExit("build: Python >= 3.13 is needed for pyodide-build; set PYTHON313=/path/to/python3.13")


def _ensure_build_venv() -> Path:
    pyodide_cli = BUILD_VENV / "bin" / "pyodide"
    if pyodide_cli.exists():
        return pyodide_cli
    _log("creating the pyodide-build venv (Python 3.13)")
    subprocess.run([_find_python_313(), "-m", "venv", str(BUILD_VENV)], check=True)
    subprocess.run([str(BUILD_VENV / "bin" / "pip"), "install", "-q", *PYODIDE_BUILD_REQUIREMENTS], check=True)
    return pyodide_cli


def _copy_npm_files(package: str, files: list[str], dest: Path) -> None:
    source = NODE_MODULES / package
    if not source.exists():
        raise SystemExit(f"build: {source} is missing; run `npm ci` first")
    dest.mkdir(parents=True, exist_ok=True)
    for name in files:
        shutil.copy2(source / name, dest / name)


def _download_wheels(dest: Path) -> None:
    _log(f"downloading {len(PYODIDE_WHEELS)} wheels for Python {PYODIDE_PYTHON}")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
         "--python-version", PYODIDE_PYTHON, "-d", str(dest), *PYODIDE_WHEELS],
        check=True,
    )


def _build_agent_wheel(dest: Path) -> None:
    for old in dest.glob("agent_py-*.whl"):
        old.unlink()
    _log("building the agent_py wheel")
    build_dir = REPO_ROOT / "build"
    shutil.rmtree(build_dir, ignore_errors=True)  # setuptools reuses build/lib, which would keep deleted modules
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dest),
         str(REPO_ROOT)],
        check=True,
    )
    shutil.rmtree(build_dir, ignore_errors=True)
    for wheel in dest.glob("agent_py-*.whl"):
        _strip_host_packages(wheel)


def _strip_host_packages(wheel: Path) -> None:
    """Drop codeact_host/ (host-only tooling) from the browser's wheel and from its RECORD."""
    kept = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(kept, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename.startswith("codeact_host/"):
                continue
            data = source.read(item)
            if item.filename.endswith(".dist-info/RECORD"):
                lines = data.decode().splitlines(keepends=True)
                data = "".join(line for line in lines if not line.startswith("codeact_host/")).encode()
            elif item.filename.endswith(".dist-info/top_level.txt"):
                data = b"agent_py\n"
            target.writestr(item, data)
    kept.replace(wheel)


def _write_minimal_lock(pyodide_dir: Path) -> None:
    """A lock that lists exactly the wheels in pyodide_dir, with their real sha256 and dependencies."""
    upstream = json.loads((NODE_MODULES / "pyodide" / "pyodide-lock.json").read_text())
    upstream["packages"] = {}
    empty = pyodide_dir / "empty-lock.json"
    empty.write_text(json.dumps(upstream))
    wheels = sorted(str(p) for p in pyodide_dir.glob("*.whl"))
    subprocess.run(
        [str(_ensure_build_venv()), "lockfile", "add-wheels", "--input", str(empty),
         "--output", str(pyodide_dir / "pyodide-lock.json"), "--base-path", str(pyodide_dir), *wheels],
        check=True,
    )
    empty.unlink()
    lock = json.loads((pyodide_dir / "pyodide-lock.json").read_text())
    shipped = {Path(w).name for w in wheels}
    listed = {entry["file_name"] for entry in lock["packages"].values()}
    if shipped != listed:
        raise SystemExit(f"build: lock and wheels disagree: {sorted(shipped ^ listed)}")


def build(force: bool = False) -> Path:
    stamp = VENDOR_DIR / "BUILD.json"
    inputs = _hash_inputs()
    if not force and stamp.exists() and json.loads(stamp.read_text()).get("inputs") == inputs:
        _log("up to date")
        return VENDOR_DIR

    pyodide_dir = VENDOR_DIR / "pyodide"
    _copy_npm_files("pyodide", PYODIDE_CORE_FILES, pyodide_dir)
    if force or not all(any(pyodide_dir.glob(f"{pin.split('==')[0]}-*.whl")) for pin in PYODIDE_WHEELS):
        _download_wheels(pyodide_dir)
    _build_agent_wheel(pyodide_dir)
    _write_minimal_lock(pyodide_dir)
    _copy_npm_files("@micropython/micropython-webassembly-pyscript", MICROPYTHON_FILES, VENDOR_DIR / "micropython")
    build_sandbox(VENDOR_DIR / "sandbox")
    # PyScript is measured against our boot in bench/bench_pyscript.py; the page itself does not load it.
    shutil.rmtree(VENDOR_DIR / "pyscript", ignore_errors=True)
    shutil.copytree(NODE_MODULES / "@pyscript" / "core" / "dist", VENDOR_DIR / "pyscript",
                    ignore=shutil.ignore_patterns("*.map"))
    (VENDOR_DIR / "libs").mkdir(parents=True, exist_ok=True)
    for package, file_in_package, name in UI_LIBS:
        source = NODE_MODULES / package / file_in_package
        if not source.exists():
            raise SystemExit(f"build: {source} is missing; run `npm ci` first")
        shutil.copy2(source, VENDOR_DIR / "libs" / name)

    stamp.write_text(json.dumps({"inputs": inputs}, indent=1))
    _log(f"vendored runtime ready in {VENDOR_DIR.relative_to(REPO_ROOT)}")
    return VENDOR_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="rebuild even when no input changed")
    args = parser.parse_args(argv)
    build(force=args.force)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
