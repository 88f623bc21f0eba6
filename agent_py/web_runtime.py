"""The agent worker's Python side: what the page asks of Python, as JSON strings in and out.

static/app/agent_worker.mjs makes one `WebRuntime(post)` once Python is up and routes page messages to it:
    await runtime.request(kind, payload_json) -> reply JSON      ("test-connection", "set-log-level", ...)
    runtime.start_run(run_id, task, settings_json, resume_json)  events go out through post(event_json)
    runtime.stop_run(run_id)                                      cancels the run's task: fetch aborted, sandbox killed
    runtime.put_file(name, bytes) / get_file(path) / restore_files(files)   the workspace (agent_py.workspace)
JSON strings cross the boundary both ways: no proxies to leak or destroy, and the same shape the page stores.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from agent_py.errors import AgentError, ConfigError
from agent_py.log import get_logger, register_secret, set_level
from agent_py.settings import RunSettings

__all__ = ["WebRuntime"]

log = get_logger("agent")
Post = Callable[[str], None]


def _error_reply(err: BaseException) -> dict[str, Any]:
    if isinstance(err, AgentError):
        return {"ok": False, "error": err.to_dict()}
    return {"ok": False, "error": {"type": type(err).__name__, "message": str(err)}}


def _raw_bytes(data: Any) -> bytes:
    """Bytes from the page: a JS Uint8Array/ArrayBuffer proxy in Pyodide, bytes in CPython."""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if hasattr(data, "to_bytes"):
        return data.to_bytes()
    raise ConfigError(f"expected file bytes, got {type(data).__name__}", field="bytes")


def _to_js(value: Any) -> Any:
    """A reply with bytes in it, as a plain JS object (bytes become Uint8Array)."""
    import js  # type: ignore[import-not-found]
    from pyodide.ffi import to_js  # type: ignore[import-not-found]

    return to_js(value, dict_converter=js.Object.fromEntries)


def _checkpoint_cap(raw: dict[str, Any]) -> int | None:
    """`checkpointCapMb` of the page's settings: the cap on one run's checkpoint contents (default 50 MB)."""
    value = raw.get("checkpointCapMb") if isinstance(raw, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"setting 'checkpointCapMb' must be a positive number, got {value!r}",
                          field="checkpointCapMb")
    return max(1, int(value * 1024 * 1024))


class WebRuntime:
    def __init__(self, post: Post, post_blobs: Callable[[str, Any], None] | None = None) -> None:
        from agent_py.workspace import Workspace

        self._post = post
        self._post_blobs = post_blobs
        self.workspace = Workspace()
        self.runs: dict[str, asyncio.Task[Any]] = {}
        self._handlers: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "test-connection": self._test_connection,
            "set-log-level": self._set_log_level,
        }

    def emit(self, event: dict[str, Any]) -> None:
        self._post(json.dumps(event, default=str))

    async def request(self, kind: str, payload_json: str) -> str:
        """One request from the page; always answers {ok, value} or {ok: false, error: {type, message, ...}}."""
        handler = self._handlers.get(kind)
        if handler is None:
            return json.dumps({"ok": False, "error": {"type": "ConfigError", "message": f"unknown request {kind!r}"}})
        try:
            payload = json.loads(payload_json or "{}")
            return json.dumps({"ok": True, "value": await handler(payload)}, default=str)
        except Exception as err:  # noqa: BLE001 - every failure becomes a typed reply for the page
            log.warn("request failed", kind=kind, error=type(err).__name__)
            return json.dumps(_error_reply(err), default=str)

    def start_run(self, run_id: str, task: str, settings_json: str, resume_json: str = "") -> None:
        """Start a run as an asyncio task; its events go to the page as they happen."""
        if run_id in self.runs and not self.runs[run_id].done():
            self.emit({"type": "RunError", "run_id": run_id, "error": {"type": "ConfigError",
                       "message": f"run {run_id} is already running"}})
            return
        self.runs[run_id] = asyncio.ensure_future(self._run(run_id, task, settings_json, resume_json))

    def stop_run(self, run_id: str) -> bool:
        """Cancel the run's task: the model fetch is aborted, the sandbox cell killed, the run marked cancelled."""
        task = self.runs.get(run_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    async def _run(self, run_id: str, task: str, settings_json: str, resume_json: str) -> None:
        from agent_py.session import run_session

        try:
            settings = RunSettings.from_page(json.loads(settings_json or "{}"))
            if settings.model is not None and settings.model.api_key:
                register_secret(settings.model.api_key)
            for secret in settings.tools.secrets():  # tool tokens and header values: never logged either
                register_secret(secret)
            resume = json.loads(resume_json) if resume_json else None
            await run_session(run_id, task, settings, resume=resume, emit=self.emit, workspace=self.workspace,
                              emit_blobs=self._emit_blobs if self._post_blobs else None,
                              checkpoint_cap=_checkpoint_cap(json.loads(settings_json or "{}")))
        except asyncio.CancelledError:
            pass  # the session already reported the run as cancelled
        except Exception as err:  # noqa: BLE001 - a run that cannot start still ends with a typed event
            log.warn("run failed to start", run_id=run_id, error=type(err).__name__)
            self.emit({"type": "RunError", "run_id": run_id, **_error_reply(err)})
            self.emit({"type": "RunFinished", "run_id": run_id, "status": "failed", "stop_reason": "error",
                       "final_answer": None, "steps": 0})
        finally:
            self.runs.pop(run_id, None)

    def _emit_blobs(self, run_id: str, blobs: dict[str, bytes]) -> None:
        assert self._post_blobs is not None
        self._post_blobs(run_id, _to_js([[sha, data] for sha, data in blobs.items()]))

    # --- workspace files: bytes cross as Uint8Array, never through JSON or the log ------------------------------

    def put_file(self, name: str, data: Any) -> str:
        """A file the user dropped: into the workspace, so every sandbox from now on has it. Reply JSON."""
        try:
            return json.dumps({"ok": True, "value": self.workspace.put(name, _raw_bytes(data))})
        except Exception as err:  # noqa: BLE001 - a typed reply for the page
            return json.dumps(_error_reply(err))

    def get_file(self, path: str) -> Any:
        """{ok, value: {path, size, bytes: Uint8Array}} as a JS object, or {ok: false, error}."""
        try:
            data = self.workspace.get(path)
            return _to_js({"ok": True, "value": {"path": path, "size": len(data), "bytes": data}})
        except Exception as err:  # noqa: BLE001
            return _to_js(_error_reply(err))

    def restore_files(self, files: Any) -> str:
        """Make the workspace a checkpoint's files ([{path, bytes}]); a live sandbox catches up before its next
        cell, a new one starts with them. Reply JSON."""
        try:
            return json.dumps({"ok": True, "value": self.workspace.restore(
                {str(item.path if hasattr(item, "path") else item["path"]):
                 _raw_bytes(item.bytes if hasattr(item, "bytes") else item["bytes"]) for item in files})})
        except Exception as err:  # noqa: BLE001
            return json.dumps(_error_reply(err))

    async def _test_connection(self, payload: dict[str, Any]) -> dict[str, Any]:
        """List the endpoint's models: proves the URL, the key and CORS in one call."""
        settings = RunSettings.from_page(payload.get("settings", payload))
        if settings.model is None:
            return {"models": [], "demo": settings.demo}
        from agent_py.models import ModelClient

        async with ModelClient(settings.model) as client:
            models = await client.list_models()
        return {"models": models, "model_listed": settings.model.model in models}

    async def _set_log_level(self, payload: dict[str, Any]) -> dict[str, Any]:
        level = payload.get("level")
        if not isinstance(level, str):
            raise ConfigError("set-log-level needs a level name (error, warn, info, debug, trace)", field="level")
        set_level(level)
        return {"level": level}
