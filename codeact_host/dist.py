"""Make dist/: the page as plain files for any static host (GitHub Pages, S3, a CDN bucket, a USB stick).

    python -m codeact_host.dist

dist/ holds the page, its code and the vendored runtime, plus `_headers` (read by Netlify and Cloudflare Pages)
with the COOP/COEP pair: on such hosts the page is cross-origin isolated and tools are plain blocking calls; on a
host that ignores `_headers` it still works, with tool calls rewritten to awaits (see README, "Hosting modes").
"""

from __future__ import annotations

import shutil

from codeact_host.build import build
from codeact_host.paths import DIST_DIR, REPO_ROOT
from codeact_host.server import ISOLATION_HEADERS

# What a visitor's browser needs; bench pages and tests stay out.
SHIPPED = ["index.html", "sw.js", "manifest.json", "static", "wasm_sandbox", "examples"]
IGNORED = shutil.ignore_patterns("*.map", "__pycache__", "pyscript")  # pyscript: benchmark only


def make_dist() -> None:
    build()
    shutil.rmtree(DIST_DIR, ignore_errors=True)
    DIST_DIR.mkdir()
    for name in SHIPPED:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, DIST_DIR / name, ignore=IGNORED)
        elif source.is_file():
            shutil.copy2(source, DIST_DIR / name)
    header_lines = ["/*"] + [f"  {name}: {value}" for name, value in ISOLATION_HEADERS.items()]
    (DIST_DIR / "_headers").write_text("\n".join(header_lines) + "\n")
    total = sum(p.stat().st_size for p in DIST_DIR.rglob("*") if p.is_file())
    print(f"[dist] {DIST_DIR.relative_to(REPO_ROOT)}/ ready: {total / 1e6:.1f} MB")


if __name__ == "__main__":
    make_dist()
