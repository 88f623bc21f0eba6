"""The local server for the demo and the tests: static files on 127.0.0.1 with the headers the app needs.

    python -m codeact_host.server [--port 8000] [--root .|dist] [--no-isolation]

Headers, and why:
- COOP `same-origin` + COEP `require-corp` on every document: the page becomes cross-origin isolated, which gives
  SharedArrayBuffer, so sandboxed code can call tools as plain blocking functions (Atomics.wait).
  `--no-isolation` drops them, to exercise the static-host fallback (tools become awaits).
- `.mjs` as JavaScript and `.wasm` as application/wasm (streaming compilation needs the exact type).
- `Cache-Control: no-cache` with Last-Modified validation: a reload revalidates and gets a 304, never stale code.
Only the files a page needs are served (see SERVED); the rest of the repository (.git, .venv, keys) is not.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import mimetypes
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from codeact_host.paths import REPO_ROOT

# Top-level names a page may request from the repository root (dist/ holds only these anyway).
SERVED = ("index.html", "static", "wasm_sandbox", "examples", "bench", "sw.js", "favicon.ico", "manifest.json")

ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}

mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("application/json", ".json")
mimetypes.add_type("application/zip", ".whl")


class AppRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with isolation headers. Subclass attributes are set by `make_handler`."""

    isolation = True
    served = SERVED
    extra_headers: dict[str, str] = {}

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature fixed by the base class
        pass  # the tests and the demo print their own summaries; per-request lines drown them

    def _allowed(self) -> bool:
        first = self.path.split("?", 1)[0].lstrip("/").split("/", 1)[0]
        return first == "" or first in self.served

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if not self._allowed():
            self.send_error(404, "Not served")
            return
        super().do_GET()

    def do_HEAD(self) -> None:  # noqa: N802
        if not self._allowed():
            self.send_error(404, "Not served")
            return
        super().do_HEAD()

    def end_headers(self) -> None:
        if self.isolation:
            for name, value in ISOLATION_HEADERS.items():
                self.send_header(name, value)
        # Same-origin resources are fine under COEP; CORP lets a cross-origin host page embed the widget's files.
        self.send_header("Cross-Origin-Resource-Policy", "cross-origin")
        # Public static files, no credentials: a host page on another origin may load widget.js as a module.
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def guess_type(self, path: str | Path) -> str:
        guessed = mimetypes.guess_type(str(path))[0]
        return guessed or "application/octet-stream"


def make_handler(root: Path, *, isolation: bool = True) -> type[AppRequestHandler]:
    handler = type("BoundAppRequestHandler", (AppRequestHandler,), {"isolation": isolation})
    return functools.partial(handler, directory=str(root))  # type: ignore[return-value]


class AppServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def serving(root: Path = REPO_ROOT, *, port: int = 0, host: str = "127.0.0.1",
            isolation: bool = True) -> Iterator[str]:
    """Serve `root` in a background thread; yields the base URL ("http://127.0.0.1:PORT/")."""
    server = AppServer((host, port), make_handler(root, isolation=isolation))
    thread = threading.Thread(target=server.serve_forever, name="codeact-server", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the CodeAct page on loopback.")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1", help="keep it on loopback unless you mean to share it")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the repository (dev) or dist/ (static build)")
    parser.add_argument("--no-isolation", action="store_true", help="omit COOP/COEP, as a plain static host would")
    args = parser.parse_args(argv)
    server = AppServer((args.host, args.port), make_handler(args.root.resolve(), isolation=not args.no_isolation))
    url = f"http://{args.host}:{server.server_address[1]}/"
    print(f"CodeAct demo: {url}  (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
