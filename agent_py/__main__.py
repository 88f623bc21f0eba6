"""`python -m agent_py run "task" ...`: the headless runner (real page, headless Chromium). See codeact_host.cli."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    # The runner needs Playwright and the repository's server: host-side only, so it is imported here, not at the
    # top of agent_py (which also runs in Pyodide, where none of that exists).
    from codeact_host.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
