"""The remedy, in words, for the failures a user can fix: a server that is not running, or one that refuses this
page's origin (CORS). Each known server has its own switch; the words name it."""

from __future__ import annotations

from .config import ModelConfig

__all__ = ["connect_fix", "cors_fix"]


def cors_fix(config: ModelConfig, page_origin: str) -> str:
    origin = page_origin or "this page's origin"
    if config.provider == "ollama" or config.preset == "ollama":
        return (f"Ollama refuses requests from other origins unless told: quit it and start it with "
                f"OLLAMA_ORIGINS={origin} ollama serve (or set OLLAMA_ORIGINS={origin} in its service environment)")
    by_preset = {
        "lmstudio": "in LM Studio's Developer tab, enable CORS for the local server",
        "vllm": f"start vLLM with --allowed-origins '[\"{origin}\"]'",
        "llamacpp": "llama-server allows CORS by default; check a proxy in front of it is not stripping the headers",
    }
    if config.preset in by_preset:
        return by_preset[config.preset]
    return (f"the server at {config.origin} must allow the origin {origin} (Access-Control-Allow-Origin, and the "
            f"Authorization and Content-Type headers in preflight), or be reached through a proxy that does")


def connect_fix(config: ModelConfig) -> str:
    if config.provider == "ollama":
        return f"start Ollama (ollama serve) and check it listens at {config.base_url}"
    return f"check that the server is running and reachable at {config.base_url}"
