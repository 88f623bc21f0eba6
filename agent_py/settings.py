"""Run settings as the page sends them (camelCase JSON) -> typed, checked Python objects.

The page's settings panel, the CLI and the widget all send the same shape (docs/ARCHITECTURE.md):
    {provider, preset, baseUrl, model, apiKey, temperature, maxTokens, seed,
     limits: {maxSteps, maxWallClockS, maxTokens, maxCost},
     sandbox: {timeoutMs, memoryMb, outputLimit, allowedImports}, demo, tools: {...} (agent_py/tool_settings.py),
     createdTools: [{name, source}] (agent_py.created_tools),
     mode: "single" | "planner" | "two_sandboxes" (agent_py.team) | "managed" (agent_py.managed),
     planner: {provider, preset, baseUrl, model, apiKey, ...} (planner mode: the planner's own model),
     helperMaxSteps (managed mode: the helper agent's step budget per call, default 5),
     cache (true: identical model requests are answered from the response cache, agent_py.models.cache)}
Bad input raises ConfigError naming the field and what it accepts; nothing is silently replaced by a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent_py.errors import ConfigError
from agent_py.tool_settings import ToolSettings

__all__ = ["RunSettings", "SandboxSettings", "LimitSettings", "MODES"]

# How many agents and sandboxes a run has (agent_py.team, agent_py.managed): one agent, planner + implementer, two
# sandboxes, a manager that can call a helper agent as a tool.
MODES = ("single", "planner", "two_sandboxes", "managed")


def _number(data: dict[str, Any], key: str, default: float | None, *, minimum: float = 0,
            integer: bool = False) -> Any:
    value = data.get(key, default)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"setting {key!r} must be a number, got {value!r}", field=key)
    if value < minimum:
        raise ConfigError(f"setting {key!r} must be >= {minimum}, got {value!r}", field=key)
    if integer and int(value) != value:
        raise ConfigError(f"setting {key!r} must be a whole number, got {value!r}", field=key)
    return int(value) if integer else float(value)


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    section = data.get(key)
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(f"setting {key!r} must be an object, got {type(section).__name__}", field=key)
    return section


@dataclass(slots=True)
class LimitSettings:
    max_steps: int = 12
    max_wall_clock_s: float = 300.0
    max_tokens: int | None = None
    max_cost: float | None = None
    max_tool_calls_per_step: int = 50

    @classmethod
    def from_page(cls, data: dict[str, Any]) -> LimitSettings:
        return cls(
            max_steps=_number(data, "maxSteps", 12, minimum=1, integer=True),
            max_wall_clock_s=_number(data, "maxWallClockS", 300.0, minimum=1),
            max_tokens=_number(data, "maxTokens", None, minimum=1, integer=True),
            max_cost=_number(data, "maxCost", None, minimum=0),
            max_tool_calls_per_step=_number(data, "maxToolCallsPerStep", 50, minimum=1, integer=True),
        )


def _module_list(data: dict[str, Any], key: str) -> str:
    """The import policy (wasm_sandbox/import_policy.py): "" (MicroPython's own modules), "*" (any), or module names
    (a list, or one string separated by commas or spaces), normalised to "a, b"."""
    value = data.get(key)
    if value is None:
        return ""
    names = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ConfigError(f"setting {key!r} must be module names (text or a list), got {value!r:.60}", field=key)
    names = [name.strip() for name in names if name.strip()]
    if "*" in names:
        return "*"
    bad = [name for name in names if not all(part.isidentifier() for part in name.split("."))]
    if bad:
        raise ConfigError(f"setting {key!r}: {bad[0]!r} is not a module name", field=key)
    return ", ".join(dict.fromkeys(names))


@dataclass(slots=True)
class SandboxSettings:
    timeout_ms: int = 10_000
    memory_mb: int = 256
    output_limit: int = 20_000
    allowed_imports: str = ""  # the import policy: "" MicroPython's own modules, "*" any, else "json, re"

    @classmethod
    def from_page(cls, data: dict[str, Any]) -> SandboxSettings:
        return cls(
            timeout_ms=_number(data, "timeoutMs", 10_000, minimum=100, integer=True),
            memory_mb=_number(data, "memoryMb", 256, minimum=16, integer=True),
            output_limit=_number(data, "outputLimit", 20_000, minimum=1000, integer=True),
            allowed_imports=_module_list(data, "allowedImports"),
        )

    def create_options(self) -> dict[str, Any]:
        """The keyword arguments of BrowserSandbox.create: every sandbox of a run (team runs have several) gets
        the same limits and import policy from this one place."""
        return {"timeout_ms": self.timeout_ms, "memory_mb": self.memory_mb, "output_limit": self.output_limit,
                "allowed_imports": self.allowed_imports}


@dataclass(slots=True)
class RunSettings:
    """`model` is a ModelConfig, or None for a recorded demo (then `demo` names the trace)."""

    model: Any = None
    generation: Any = None
    limits: LimitSettings = field(default_factory=LimitSettings)
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)
    demo: str | None = None
    deny_tools: list[str] = field(default_factory=list)  # tools a DenyTools hook vetoes (agent_py/hooks.py)
    created_tools: list[Any] = field(default_factory=list)  # agent_py.created_tools.CreatedTool
    mode: str = "single"
    planner: Any = None  # the planner's ModelConfig in planner mode (the implementer uses `model`)
    helper_max_steps: int = 5  # managed mode: the helper's step budget for each call
    tools: ToolSettings = field(default_factory=ToolSettings)
    cache: bool = False  # opt-in: identical requests answered from the response cache (costs no tokens)

    def model_client(self, config: Any) -> Any:
        """A live model for `config` (the main or the planner's), behind the response cache when opted in."""
        from agent_py.models import CachingModel, ModelClient

        client = ModelClient(config)
        return CachingModel(client) if self.cache else client

    @classmethod
    def from_page(cls, data: dict[str, Any]) -> RunSettings:
        if not isinstance(data, dict):
            raise ConfigError(f"settings must be an object, got {type(data).__name__}")
        limits = LimitSettings.from_page(_section(data, "limits"))
        sandbox = SandboxSettings.from_page(_section(data, "sandbox"))
        demo = data.get("demo") or None
        if demo is not None and not isinstance(demo, str):
            raise ConfigError("setting 'demo' must be the name of a recorded demo", field="demo")
        from agent_py.models import GenerationOptions

        generation = GenerationOptions(
            temperature=_number(data, "temperature", None, minimum=0),
            max_tokens=_number(data, "maxTokens", None, minimum=1, integer=True),
            seed=_number(data, "seed", None, minimum=0, integer=True),
        )
        deny_tools = data.get("denyTools") or []
        if not isinstance(deny_tools, list) or not all(isinstance(name, str) for name in deny_tools):
            raise ConfigError("setting 'denyTools' must be a list of tool names", field="denyTools")
        model = None if demo else _model_config(data)
        mode = data.get("mode") or "single"
        if mode not in MODES:
            raise ConfigError(f"setting 'mode' must be one of {', '.join(MODES)}, got {mode!r:.40}", field="mode")
        planner = _planner_config(_section(data, "planner")) if mode == "planner" and not demo else None
        helper_max_steps = _number(data, "helperMaxSteps", 5, minimum=1, integer=True)
        cache = data.get("cache", False)
        if not isinstance(cache, bool):
            raise ConfigError(f"setting 'cache' must be true or false, got {cache!r:.40}", field="cache")
        from agent_py.created_tools import from_settings

        return cls(model=model, generation=generation, limits=limits, sandbox=sandbox, demo=demo,
                   deny_tools=deny_tools, created_tools=from_settings(data.get("createdTools")), mode=mode,
                   planner=planner, helper_max_steps=helper_max_steps,
                   tools=ToolSettings.from_page(data.get("tools")), cache=cache)


def _planner_config(data: dict[str, Any]) -> Any:
    """The planner's model: the same fields as the main model, its errors naming `planner.<field>`."""
    try:
        return _model_config(data)
    except ConfigError as err:
        where = getattr(err, "field", "") or "model"
        raise ConfigError(f"planner model: {err.message}", field=f"planner.{where}") from None


def _model_config(data: dict[str, Any]) -> Any:
    from agent_py.models import ModelConfig

    model = str(data.get("model") or "").strip()
    if not model:
        raise ConfigError("no model is set: choose one in Settings (or start a recorded demo)", field="model")
    overrides: dict[str, Any] = {"model": model, "api_key": str(data.get("apiKey") or "")}
    base_url = str(data.get("baseUrl") or "").strip()
    if base_url:
        overrides["base_url"] = base_url
    headers = data.get("extraHeaders") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ConfigError("setting 'extraHeaders' must map header names to strings", field="extraHeaders")
    if headers:
        overrides["extra_headers"] = dict(headers)
    num_ctx = _number(data, "numCtx", None, minimum=256, integer=True)
    if num_ctx:
        overrides["num_ctx"] = num_ctx
    preset = data.get("preset")
    if preset:
        return ModelConfig.from_preset(str(preset), **overrides)
    provider = data.get("provider") or "openai"
    if not base_url:
        raise ConfigError("no base URL is set: choose a preset or enter the server's URL", field="baseUrl")
    return ModelConfig(provider=provider, **overrides)
