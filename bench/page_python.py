"""Run Python in the real page's agent worker, for the bench modules that measure from inside it."""

from __future__ import annotations

from typing import Any

PYTHON_READY = "document.body.dataset.pythonReady === 'true'"


def python_in_page(browser: Any, base_url: str, code: str) -> Any:
    """`code`'s last expression (top-level await allowed), run in a fresh context's page once Python is ready."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(base_url)
        page.wait_for_function(PYTHON_READY, timeout=120_000)
        return page.evaluate("(c) => window.codeact.agent.execPython(c)", code)
    finally:
        context.close()
