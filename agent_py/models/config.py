"""What to call and how: ModelConfig (endpoint, key, timeouts, retries), GenerationOptions, and provider presets.

The API key lives only here and in the Authorization header the client builds from it: `repr()`, `str()` and
`to_dict()` never show it (to_dict says `has_api_key` instead), so a config can be logged, exported or shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urlsplit

from agent_py.errors import ConfigError

__all__ = ["Provider", "Preset", "PRESETS", "ModelConfig", "GenerationOptions", "DEFAULT_OLLAMA_URL"]

Provider = Literal["openai", "ollama"]
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"


@dataclass(frozen=True, slots=True)
class Preset:
    """A known server: where it lives and its quirks.

    stream_usage: send `stream_options: {include_usage: true}` (Mistral rejects unknown fields, so not there).
    max_tokens_field: OpenAI's reasoning models only accept `max_completion_tokens`.
    """

    name: str
    provider: Provider
    base_url: str
    needs_key: bool = False
    extra_headers: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    stream_usage: bool = True
    max_tokens_field: str = "max_tokens"
    note: str = ""


def _headers(**pairs: str) -> MappingProxyType[str, str]:
    return MappingProxyType({k.replace("_", "-"): v for k, v in pairs.items()})


PRESETS: MappingProxyType[str, Preset] = MappingProxyType({
    p.name: p
    for p in (
        Preset("openai", "openai", "https://api.openai.com/v1", needs_key=True,
               max_tokens_field="max_completion_tokens"),
        Preset("vllm", "openai", "http://127.0.0.1:8000/v1", note="start with --api-key to require a key"),
        Preset("lmstudio", "openai", "http://127.0.0.1:1234/v1", note="enable CORS in LM Studio's server settings"),
        Preset("llamacpp", "openai", "http://127.0.0.1:8080/v1", note="llama-server; set --ctx-size for long runs"),
        Preset(
            "openrouter", "openai", "https://openrouter.ai/api/v1", needs_key=True,
            # OpenRouter attributes traffic to the app by these two headers (both optional, both harmless).
            extra_headers=_headers(HTTP_Referer="https://github.com/codeact-browser", X_Title="CodeAct in the browser"),
        ),
        Preset("groq", "openai", "https://api.groq.com/openai/v1", needs_key=True),
        Preset("mistral", "openai", "https://api.mistral.ai/v1", needs_key=True, stream_usage=False,
               note="reports usage in the last chunk without stream_options"),
        Preset("gemini", "openai", "https://generativelanguage.googleapis.com/v1beta/openai", needs_key=True),
        Preset(
            "anthropic", "openai", "https://api.anthropic.com/v1", needs_key=True,
            # Anthropic answers browsers' CORS preflights only when the caller opts in with this header.
            extra_headers=_headers(anthropic_dangerous_direct_browser_access="true"),
        ),
        Preset("ollama", "ollama", DEFAULT_OLLAMA_URL, note="start with OLLAMA_ORIGINS=<this page's origin>"),
    )
})


def _looks_secret(header: str) -> bool:
    """Some servers take their key in a custom header (x-api-key, api-key): export those as ***."""
    name = header.lower()
    return any(word in name for word in ("key", "auth", "token", "secret", "cookie"))


@dataclass(slots=True)
class GenerationOptions:
    """Sampling options. `extra` is merged into the request body as is (provider-specific fields)."""

    temperature: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "stop": self.stop,
                "seed": self.seed, "extra": dict(self.extra)}


@dataclass(slots=True, repr=False)
class ModelConfig:
    """One model endpoint.

    Timeouts: connect_timeout_s (CPython only; fetch has no such knob), read_timeout_s (the longest silence
    allowed while waiting for headers or the next chunk: a slow prompt eval on a laptop can take a minute).
    Retries: up to max_retries more attempts, full-jitter backoff from backoff_base_s, no wait above backoff_max_s.
    num_ctx: Ollama's context window, always sent because Ollama's default (4096) silently truncates long prompts.
    """

    provider: Provider = "openai"
    base_url: str = ""
    model: str = ""
    api_key: str = field(default="", repr=False)
    extra_headers: dict[str, str] = field(default_factory=dict)
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 120.0
    max_retries: int = 3
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    num_ctx: int = 8192
    preset: str = ""
    stream_usage: bool = True
    max_tokens_field: str = "max_tokens"

    def __post_init__(self) -> None:
        if self.provider not in ("openai", "ollama"):
            raise ConfigError(f"unknown provider {self.provider!r}: use 'openai' (any compatible server) or 'ollama'")
        if not self.base_url and self.provider == "ollama":
            self.base_url = DEFAULT_OLLAMA_URL
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        if parts.query or parts.username or parts.password:
            # Keys belong in the Authorization header; a URL ends up in errors, logs and exports.
            raise ConfigError("base_url must not carry a query string or credentials; put the key in api_key")
        self.base_url = self.base_url.rstrip("/")
        if self.max_retries < 0 or self.read_timeout_s <= 0 or self.connect_timeout_s <= 0 or self.num_ctx <= 0:
            raise ConfigError("max_retries must be >= 0 and timeouts and num_ctx > 0")

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> ModelConfig:
        """A config for a known server; any field can be overridden (base_url, model, api_key, ...)."""
        try:
            preset = PRESETS[name]
        except KeyError:
            raise ConfigError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}") from None
        fields: dict[str, Any] = {
            "provider": preset.provider,
            "base_url": preset.base_url,
            "preset": preset.name,
            "extra_headers": dict(preset.extra_headers),
            "stream_usage": preset.stream_usage,
            "max_tokens_field": preset.max_tokens_field,
        }
        extra = overrides.pop("extra_headers", None) or {}
        fields.update(overrides)
        fields["extra_headers"] = {**fields["extra_headers"], **extra}
        return cls(**fields)

    def with_model(self, model: str) -> ModelConfig:
        return replace(self, model=model)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def __repr__(self) -> str:
        # Built from to_dict(), which leaves out the key and masks secret-looking extra headers.
        return "ModelConfig(" + ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items()) + ")"

    __str__ = __repr__

    def to_dict(self) -> dict[str, Any]:
        """Everything but the key (for settings export, traces and the UI)."""
        return {
            "provider": self.provider,
            "base_url": self.base_url,
            "model": self.model,
            "has_api_key": bool(self.api_key),
            "extra_headers": {k: ("***" if _looks_secret(k) else v) for k, v in self.extra_headers.items()},
            "connect_timeout_s": self.connect_timeout_s,
            "read_timeout_s": self.read_timeout_s,
            "max_retries": self.max_retries,
            "backoff_base_s": self.backoff_base_s,
            "backoff_max_s": self.backoff_max_s,
            "num_ctx": self.num_ctx,
            "preset": self.preset,
            "stream_usage": self.stream_usage,
            "max_tokens_field": self.max_tokens_field,
        }
