"""The benchmark harness: one headless Chromium, one server, every bench module; writes bench/results.json.

    python -m bench.run [--only boot,sandbox] [--out bench/results.json]

Each module under bench/ exposes `run(browser, base_url) -> dict[str, float]` (or `run_cpython()` for figures
that need no browser). Figures are medians; milliseconds unless the name says otherwise. Ratios against a
baseline measured in the same run are what count: absolute numbers move with the machine.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib
import json
import platform
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from codeact_host.build import build
from codeact_host.chromium import CHROMIUM, CHROMIUM_ARGS
from codeact_host.paths import REPO_ROOT
from codeact_host.server import serving

MODULES = ["boot", "pyscript", "sandbox", "models", "loop", "ui", "widget", "workspace", "created_tools", "managed"]


def _run_module(name: str, browser, base_url: str) -> dict[str, float]:
    try:
        module = importlib.import_module(f"bench.bench_{name}")
    except ModuleNotFoundError as err:
        if err.name == f"bench.bench_{name}":
            print(f"[bench] {name}: no module yet, skipped", file=sys.stderr)
            return {}
        raise
    started = time.monotonic()
    if hasattr(module, "run"):
        figures = module.run(browser, base_url)
    else:
        # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            figures = pool.submit(module.run_cpython).result()
    print(f"[bench] {name}: {len(figures)} figures in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(MODULES), help="comma-separated bench modules")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results.json")
    args = parser.parse_args(argv)
    build()
    results: dict[str, float | str] = {}
    if args.out.exists():
        results.update(json.loads(args.out.read_text()))  # --only refreshes some figures, keeps the rest
    with serving(REPO_ROOT) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        results["machine"] = f"{platform.machine()} {platform.system()}, {platform.node()}, Chromium {browser.version}"
        try:
            for name in args.only.split(","):
                results.update(_run_module(name.strip(), browser, base_url))
        finally:
            browser.close()
    results = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in sorted(results.items())}
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
