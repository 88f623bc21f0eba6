"""Is there a local Ollama? The settings page calls this on load to offer its models without any typing."""

from __future__ import annotations

import httpx

from agent_py.errors import ModelError

from .client import ModelClient
from .config import DEFAULT_OLLAMA_URL, ModelConfig

__all__ = ["detect_ollama"]


async def detect_ollama(
    base_url: str = DEFAULT_OLLAMA_URL, transport: httpx.AsyncBaseTransport | None = None, timeout_s: float = 2.0
) -> list[str] | None:
    """The local models' names, or None when no Ollama answers there (or it refuses this page's origin)."""
    config = ModelConfig(provider="ollama", base_url=base_url, max_retries=0, read_timeout_s=timeout_s,
                         connect_timeout_s=timeout_s)
    async with ModelClient(config, transport) as client:
        try:
            return await client.list_models()
        except ModelError:
            return None
