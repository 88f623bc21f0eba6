"""Host-side tooling for the CodeAct page: vendored-runtime build, local server, headless CLI runner.

Runs under CPython on the developer's machine or in CI; never shipped to the browser.
"""
