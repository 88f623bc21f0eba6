"""A stand-in for a site that embeds the widget: HTML pages set by the test, on a loopback origin of its own.

    with HostServer(isolation=False) as host:          # a plain site (not cross-origin isolated)
        host.pages["/shop.html"] = "<!doctype html>..."
        page.goto(host.url + "/shop.html")              # http://localhost:PORT: another origin than the app's

The origin is http://localhost:<port> (the app is on http://127.0.0.1:<port>), so the two differ in host and port,
as a real site and the agent's origin do. `isolation=True` sends COOP/COEP: a host page that is itself
cross-origin isolated. Pages are served verbatim; anything else is a 404. `requests` records every request line
("GET /shop.html"), so a test can say nothing else reached the host's origin.
"""

from __future__ import annotations

import http.server
import threading
from typing import Any

from codeact_host.server import ISOLATION_HEADERS


class HostServer:
    def __init__(self, *, isolation: bool = False) -> None:
        self.pages: dict[str, str] = {}
        self.requests: list[str] = []
        self.isolation = isolation
        self._httpd = _QuietServer(("127.0.0.1", 0), _make_handler(self))

    @property
    def url(self) -> str:
        return f"http://localhost:{self._httpd.server_address[1]}"

    def __enter__(self) -> HostServer:
        threading.Thread(target=self._httpd.serve_forever, name="host-server", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a browser closing a connection early is not a test failure


def _make_handler(server: HostServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def parse_request(self) -> bool:
            # Every method, also those answered 501 (a beacon's POST): what reached the host is what was recorded.
            parsed = super().parse_request()
            server.requests.append(f"{self.command} {self.path}")
            return parsed

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            body = server.pages.get(self.path.split("?", 1)[0])
            self.send_response(200 if body is not None else 404)
            data = (body or "not here").encode()
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if server.isolation:
                for name, value in ISOLATION_HEADERS.items():
                    self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
