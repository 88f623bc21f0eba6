"""Unit tests run async code on asyncio (what Pyodide's WebLoop is), via the anyio pytest plugin.

The scripted model server fixtures (tests/servers/fixtures.py) come from tests/conftest.py's pytest_plugins.
"""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
