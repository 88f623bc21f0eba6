"""Unit tests run async code on asyncio (what Pyodide's WebLoop is), via the anyio pytest plugin.

The scripted model server fixtures (tests/servers/fixtures.py) are offered to every unit test from here.
"""

import pytest

from tests.servers.fixtures import model_server, model_server_session  # noqa: F401 - fixtures for the tests here


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
