"""Logging for the agent: named loggers, five levels, the browser console (or stderr), and a downloadable run log.

    from agent_py.log import get_logger
    log = get_logger("sandbox")                      # "agent", "model", "sandbox" (any name works)
    log.debug("killed", run_id=run_id, after_ms=412)
    if log.enabled("trace"):                         # for fields that cost something to build
        log.trace("chunk", preview=expensive())

Each record is {ts, level, logger, message, fields}. It goes to every sink: the console (js.console.<level> in
Pyodide, stderr in CPython) and the run log, a bounded in-memory buffer the page can export as text or JSONL
(`run_log().to_text()`, `.to_jsonl()`).

Nothing secret or bulky is ever recorded, whatever the caller passes:
- secrets registered with `register_secret()` (the API key, at run start) and anything shaped like `sk-...` or
  `Bearer ...` become `***` in the message and in every string field;
- fields named like a credential (api_key, authorization, token, secret, password) become `***`;
- fields named content/data/bytes (at any depth: a list of chat messages included) become their size.

The level is one threshold for all sinks: `set_level("debug")` (settings), `set_level(level_from_url(url))` (the
page's `?log=debug`); `set_level("trace", logger="model")` raises one logger alone. A call below the threshold
returns before anything is formatted.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

__all__ = [
    "LEVELS",
    "LogRecord",
    "Logger",
    "RunLog",
    "Sink",
    "add_sink",
    "clear_secrets",
    "get_level",
    "get_logger",
    "level_from_url",
    "redact_text",
    "redact_fields",
    "register_secret",
    "remove_sink",
    "run_log",
    "set_console",
    "set_level",
]

LEVELS: dict[str, int] = {"error": 40, "warn": 30, "info": 20, "debug": 10, "trace": 5}
_NAMES = {number: name for name, number in LEVELS.items()}
_ALIASES = {"warning": "warn", "err": "error", "critical": "error", "fatal": "error"}
DEFAULT_LEVEL = "info"
RUN_LOG_RECORDS = 5000  # ~1-2 MB of text at most: enough for a long run, never a memory leak

_SIZE_ONLY = {"content", "data", "bytes"}
# Matched as whole names or suffixes: `prompt_tokens` and `has_api_key: True` are not credentials.
_CREDENTIAL_NAMES = {"key", "apikey", "api_key", "authorization", "auth", "token", "secret", "password", "cookie"}
_CREDENTIAL_SUFFIXES = ("_key", "_token", "_secret", "_password", "-key", "-token")
# sk-... (OpenAI, Anthropic, OpenRouter, DeepSeek keys), and whatever follows "Bearer ".
_SK_KEY = re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}")
_BEARER = re.compile(r"\b(Bearer)\s+[^\s\"',;]+", re.IGNORECASE)
_MIN_SECRET_LEN = 4  # a shorter "secret" would redact ordinary words everywhere


def _level_number(level: str | int) -> int:
    if isinstance(level, int) and not isinstance(level, bool):
        return level
    name = str(level).strip().lower()
    name = _ALIASES.get(name, name)
    if name not in LEVELS:
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}")
    return LEVELS[name]


def _level_name(number: int) -> str:
    return _NAMES.get(number) or min(_NAMES.items(), key=lambda item: abs(item[0] - number))[1]


# --- redaction ------------------------------------------------------------------------------------------------

_secrets: set[str] = set()


def register_secret(secret: str | None) -> None:
    """Never log this value (call at run start with the API key; empty and tiny values are ignored)."""
    if secret and len(secret) >= _MIN_SECRET_LEN:
        _secrets.add(secret)


def clear_secrets() -> None:
    _secrets.clear()


def redact_text(text: str) -> str:
    """`text` with registered secrets and key-shaped strings replaced by ***."""
    for secret in sorted(_secrets, key=len, reverse=True):  # longest first: a key containing another key
        if secret in text:
            text = text.replace(secret, "***")
    if "sk-" in text:
        text = _SK_KEY.sub("sk-***", text)
    return _BEARER.sub(r"\1 ***", text)


def _size_of(value: Any) -> str:
    if isinstance(value, str):
        return f"<{len(value)} chars>"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, list | tuple | dict | set):
        return f"<{len(value)} items>"
    return "<redacted>"


def _is_credential(name: str) -> bool:
    lowered = name.lower()
    return lowered in _CREDENTIAL_NAMES or lowered.endswith(_CREDENTIAL_SUFFIXES)


def _clean(value: Any, depth: int = 0) -> Any:
    """A JSON-ready copy of `value` with secrets and contents taken out."""
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth > 6:
        return "<nested>"
    if isinstance(value, dict):
        return redact_fields({str(k): v for k, v in value.items()}, depth + 1)
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(item, depth + 1) for item in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return _size_of(value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _clean(to_dict(), depth + 1)
    return redact_text(repr(value))


def redact_fields(fields: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """Fields as they may be logged: credentials -> ***, content/data/bytes -> their size, secrets masked."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name.lower() in _SIZE_ONLY:
            out[name] = _size_of(value)
        elif _is_credential(name) and value is not None and not isinstance(value, bool):
            out[name] = "***"
        else:
            out[name] = _clean(value, depth)
    return out


# --- records and sinks ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogRecord:
    """ts: seconds since the epoch. fields: already redacted, JSON-ready."""

    ts: float
    level: str
    logger: str
    message: str
    fields: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"ts": self.ts, "level": self.level, "logger": self.logger, "message": self.message,
                "fields": self.fields}

    def to_text(self) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.ts)) + f".{int(self.ts * 1000) % 1000:03d}Z"
        pairs = " ".join(f"{k}={_text_value(v)}" for k, v in self.fields.items())
        return f"{stamp} {self.level.upper():5} [{self.logger}] {self.message}" + (f" {pairs}" if pairs else "")


def _text_value(value: Any) -> str:
    if isinstance(value, str) and value and not any(c.isspace() or c in "\"=" for c in value):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


Sink = Callable[[LogRecord], None]


class RunLog:
    """The last `limit` records, for the downloadable run log. Oldest records go first when it is full."""

    def __init__(self, limit: int = RUN_LOG_RECORDS) -> None:
        self._records: deque[LogRecord] = deque(maxlen=limit)
        self.dropped = 0

    def __call__(self, record: LogRecord) -> None:
        if len(self._records) == self._records.maxlen:
            self.dropped += 1
        self._records.append(record)

    def __len__(self) -> int:
        return len(self._records)

    def records(self) -> list[LogRecord]:
        return list(self._records)

    def clear(self) -> None:
        self._records.clear()
        self.dropped = 0

    def to_jsonl(self) -> str:
        """One JSON object per line (what the page offers as run-log.jsonl)."""
        return "".join(json.dumps(r.to_dict(), ensure_ascii=False, default=str) + "\n" for r in self._records)

    def to_text(self) -> str:
        head = f"... {self.dropped} earlier records dropped (the run log keeps {self._records.maxlen})\n"
        return (head if self.dropped else "") + "".join(r.to_text() + "\n" for r in self._records)


def _console_sink() -> Sink:
    """js.console.<level> in Pyodide (shows in DevTools with the right severity), stderr elsewhere."""
    if sys.platform == "emscripten":
        import js  # type: ignore[import-not-found]

        methods = {"error": "error", "warn": "warn", "info": "info", "debug": "debug", "trace": "debug"}

        def to_console(record: LogRecord) -> None:
            getattr(js.console, methods.get(record.level, "log"))(record.to_text())

        return to_console

    def to_stderr(record: LogRecord) -> None:
        print(record.to_text(), file=sys.stderr, flush=True)

    return to_stderr


# --- state: one per interpreter (the worker runs one agent) ---------------------------------------------------

_threshold = LEVELS[DEFAULT_LEVEL]
_per_logger: dict[str, int] = {}
_run_log = RunLog()
_console: Sink | None = None
_console_enabled = True
_extra_sinks: list[Sink] = []
_loggers: dict[str, Logger] = {}


def set_level(level: str | int, logger: str | None = None) -> None:
    """Set the threshold for every logger, or for one (`logger="model"`). Raises ValueError on an unknown name."""
    global _threshold
    number = _level_number(level)
    if logger is None:
        _threshold = number
        _per_logger.clear()
    else:
        _per_logger[logger] = number


def get_level(logger: str | None = None) -> str:
    return _level_name(_per_logger.get(logger, _threshold) if logger else _threshold)


def level_from_url(url: str) -> str | None:
    """The level asked for by a page URL's `?log=...` (a full URL or just its query), or None if absent/unknown."""
    before_fragment = url.split("#", 1)[0]
    query = before_fragment.split("?", 1)[1] if "?" in before_fragment else before_fragment
    for value in parse_qs(query).get("log", []):
        try:
            return _level_name(_level_number(value))
        except ValueError:
            continue
    return None


def set_console(enabled: bool) -> None:
    """Turn the console sink off (the CLI's quiet mode, tests) or back on; the run log keeps recording."""
    global _console_enabled
    _console_enabled = enabled


def add_sink(sink: Sink) -> Callable[[], None]:
    """Also send records to `sink` (e.g. a UI log panel); returns a function that removes it."""
    _extra_sinks.append(sink)
    return lambda: remove_sink(sink)


def remove_sink(sink: Sink) -> None:
    if sink in _extra_sinks:
        _extra_sinks.remove(sink)


def run_log() -> RunLog:
    return _run_log


def _emit(record: LogRecord) -> None:
    global _console
    _run_log(record)
    sinks: Iterable[Sink] = _extra_sinks
    if _console_enabled:
        if _console is None:
            _console = _console_sink()
        sinks = [_console, *_extra_sinks]
    for sink in sinks:
        try:
            sink(record)
        except Exception:  # noqa: BLE001 - a broken sink must never break the run it reports on
            pass


class Logger:
    """A named logger. Methods take a message and keyword fields; see the module docstring for redaction."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Logger({self.name!r}, level={get_level(self.name)!r})"

    def enabled(self, level: str | int) -> bool:
        return _level_number(level) >= _per_logger.get(self.name, _threshold)

    def log(self, level: str | int, message: str, **fields: Any) -> None:
        number = _level_number(level)
        if number < _per_logger.get(self.name, _threshold):
            return
        _emit(LogRecord(time.time(), _level_name(number), self.name, redact_text(str(message)), redact_fields(fields)))

    # One method per level, each checking the threshold before any work (the common case is "off").
    def error(self, message: str, **fields: Any) -> None:
        if LEVELS["error"] >= _per_logger.get(self.name, _threshold):
            self.log("error", message, **fields)

    def warn(self, message: str, **fields: Any) -> None:
        if LEVELS["warn"] >= _per_logger.get(self.name, _threshold):
            self.log("warn", message, **fields)

    def info(self, message: str, **fields: Any) -> None:
        if LEVELS["info"] >= _per_logger.get(self.name, _threshold):
            self.log("info", message, **fields)

    def debug(self, message: str, **fields: Any) -> None:
        if LEVELS["debug"] >= _per_logger.get(self.name, _threshold):
            self.log("debug", message, **fields)

    def trace(self, message: str, **fields: Any) -> None:
        if LEVELS["trace"] >= _per_logger.get(self.name, _threshold):
            self.log("trace", message, **fields)


def get_logger(name: str) -> Logger:
    """The logger called `name` (the same object for the same name)."""
    logger = _loggers.get(name)
    if logger is None:
        logger = _loggers[name] = Logger(name)
    return logger
