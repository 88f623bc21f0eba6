"""The model layer: one streaming client for OpenAI-compatible servers and Ollama, in Pyodide and CPython.

See client.py for the call pattern, config.py for presets, agent_py.errors for what can go wrong.
Modules: types (events, Usage, ModelResponse), config (ModelConfig, presets), sse / ndjson (stream framing),
openai / ollama (wire formats), think (<think> routing), errormap (HTTP error -> typed error), retry (backoff),
usage (estimates, run totals), pricing (cost), fixes (remedies in words), transport_fetch (Pyodide's fetch),
detect (local Ollama), cache (the opt-in response cache: CachingModel over a memory or IndexedDB store).
"""

from .cache import (
    BrowserCacheStore,
    CacheError,
    CacheFull,
    CacheStore,
    CacheUnavailable,
    CachingModel,
    MemoryCacheStore,
    cache_key,
    cache_stats,
    clear_cache,
)
from .client import ModelClient, default_transport
from .config import DEFAULT_OLLAMA_URL, PRESETS, GenerationOptions, ModelConfig, Preset, Provider
from .detect import detect_ollama
from .errormap import is_context_overflow
from .pricing import Price, PriceTable
from .retry import RetryPolicy, parse_retry_after
from .types import FinishEvent, ModelEvent, ModelResponse, ReasoningDelta, TextDelta, Usage, UsageEvent
from .usage import RunUsage, estimate_prompt_tokens, estimate_tokens

__all__ = [
    "DEFAULT_OLLAMA_URL",
    "PRESETS",
    "BrowserCacheStore",
    "CacheError",
    "CacheFull",
    "CacheStore",
    "CacheUnavailable",
    "CachingModel",
    "FinishEvent",
    "GenerationOptions",
    "MemoryCacheStore",
    "ModelClient",
    "ModelConfig",
    "ModelEvent",
    "ModelResponse",
    "Preset",
    "Price",
    "PriceTable",
    "Provider",
    "ReasoningDelta",
    "RetryPolicy",
    "RunUsage",
    "TextDelta",
    "Usage",
    "UsageEvent",
    "cache_key",
    "cache_stats",
    "clear_cache",
    "default_transport",
    "detect_ollama",
    "estimate_prompt_tokens",
    "estimate_tokens",
    "is_context_overflow",
    "parse_retry_after",
]
