"""Shared fixtures: the app server on loopback, Debian's Chromium, and a guard that fails any non-loopback request.

Browser tests use pytest-playwright's `page`; this file points it at /usr/bin/chromium (Playwright's own browser
download does not work here) and wraps every page in the offline guard.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from codeact_host.build import build
from codeact_host.chromium import CHROMIUM, CHROMIUM_ARGS
from codeact_host.paths import REPO_ROOT
from codeact_host.server import serving

# Loopback servers the tests script (model endpoint, ...), as fixtures for every test module.
pytest_plugins = ["tests.servers.fixtures"]

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def is_loopback(url: str) -> bool:
    """True for loopback http(s) URLs and for schemes that never touch the network (data:, blob:)."""
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about", "chrome-extension"}:
        return True
    return parts.scheme in {"http", "https", "ws", "wss"} and (parts.hostname or "") in LOOPBACK_HOSTS


@pytest.fixture(scope="session")
def vendored_runtime() -> None:
    """The vendored runtime must exist before any page loads; the build is a no-op when up to date."""
    build()


@pytest.fixture(scope="session")
def app_url(vendored_runtime: None) -> Iterator[str]:
    """The app served from the repository with COOP/COEP (cross-origin isolated)."""
    with serving(REPO_ROOT) as url:
        yield url


@pytest.fixture(scope="session")
def app_url_plain(vendored_runtime: None) -> Iterator[str]:
    """The same files without isolation headers: how a plain static host serves them."""
    with serving(REPO_ROOT, isolation=False) as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


class OfflineGuard:
    """Records every request that would leave loopback, aborts it, and fails the test at teardown."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def __call__(self, route, request) -> None:  # noqa: ANN001 - Playwright's Route/Request
        if is_loopback(request.url):
            route.continue_()
        else:
            self.violations.append(request.url)
            route.abort()


@pytest.fixture
def offline_guard(context) -> Iterator[OfflineGuard]:  # noqa: ANN001 - pytest-playwright's BrowserContext
    guard = OfflineGuard()
    context.route("**/*", guard)
    yield guard
    assert not guard.violations, f"requests left 127.0.0.1: {guard.violations}"


@pytest.fixture
def page(page, offline_guard):  # noqa: ANN001 - wraps pytest-playwright's page with the guard
    """Every browser test gets the guarded page; console errors are kept for failure messages."""
    page.console_messages = []
    page.on("console", lambda msg: page.console_messages.append(f"{msg.type}: {msg.text}"))
    return page


@pytest.fixture
def ready_page(page, app_url):  # noqa: ANN001
    """The app page with Python booted (agent worker ready)."""
    page.goto(app_url)
    page.wait_for_function("window.codeact && document.body.dataset.pythonReady === 'true'", timeout=60_000)
    return page


@pytest.fixture(scope="session")
def dist_url(vendored_runtime: None) -> Iterator[str]:
    """dist/ (the static build) served without isolation headers, as a plain static host would."""
    from codeact_host.dist import make_dist
    from codeact_host.paths import DIST_DIR

    make_dist()
    with serving(DIST_DIR, isolation=False) as url:
        yield url


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest's hook signature
    """The hardening counts (fuzzed inputs, faults injected/survived, steps lost) when a suite recorded any."""
    from tests.tally import summary_lines

    lines = summary_lines()
    if lines:
        terminalreporter.section("hardening counts")
        for line in lines:
            terminalreporter.write_line(line)
