"""pytest fixtures for the scripted model server: one server per session, reset before each test.

Use from a test module with `from tests.servers.fixtures import model_server, model_server_session  # noqa: F401`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.model_server import ModelServer


@pytest.fixture(scope="session")
def model_server_session() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture
def model_server(model_server_session: ModelServer) -> Iterator[ModelServer]:
    """The session's server with an empty queue, no records and default settings."""
    model_server_session.reset()
    yield model_server_session
    model_server_session.reset()
