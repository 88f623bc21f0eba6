"""Where things are in the repository, in one place."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = REPO_ROOT / "node_modules"
VENDOR_DIR = REPO_ROOT / "static" / "vendor"
DIST_DIR = REPO_ROOT / "dist"
