"""The sandbox as the agent sees it in the browser: MicroPython workers in the opaque-origin iframe.

    box = await BrowserSandbox.create("main", tools=[SandboxTool(...)], timeout_ms=10_000, memory_mb=256)
    result = await box.run("print(add(2, 3))")          # ExecResult-shaped dict wrapper, see sandbox_api
    prompt_part = await box.tools_listing()

Only importable in Pyodide: it drives wasm_sandbox/client.mjs, which the agent worker registers as the JS module
`codeact_sandbox` once the page has handed it the iframe's port. Tool calls from sandboxed code come back here:
every call goes through sandbox_tools.dispatch_tool_call (schema check, hooks' vetoes, the per-step cap), the
implementation runs in this worker, and the reply goes back as JSON. On a page that is not cross-origin isolated,
cells are rewritten so tool calls are awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

from agent_py import created_tools
from agent_py.errors import SandboxCrashed, SandboxError, SandboxIsolationError
from agent_py.log import get_logger
from agent_py.sandbox_rewrite import names_bound_by, rewrite_cell
from agent_py.sandbox_tools import SandboxTool, ToolGate, dispatch_tool_call, tool_stubs, tools_listing

__all__ = ["BrowserSandbox", "sandbox_client", "probe"]

log = get_logger("sandbox")


def sandbox_client() -> Any:
    """The JS SandboxClient, or SandboxIsolationError: never run model code anywhere else."""
    try:
        import codeact_sandbox  # type: ignore[import-not-found]  # registered by static/app/agent_worker.mjs
    except ImportError:
        raise SandboxIsolationError("the sandbox iframe is not connected to this worker; model code will not run "
                                    "outside it") from None
    return codeact_sandbox.client


def _to_py(value: Any) -> Any:
    """A JS value as plain Python. Through JSON: Pyodide turns JS null into `jsnull`, not None, in to_py()."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    import js  # type: ignore[import-not-found]

    return json.loads(js.JSON.stringify(value))


def _run_eagerly(coro: Coroutine[Any, Any, str]) -> Any:
    """The coroutine's result now if it finishes without waiting (a tool that computes), else its task for JS to
    await. JS awaiting a coroutine has Pyodide's event loop schedule it: ~0.5 ms, most of a blocking tool call's
    round trip; run eagerly, a tool that does not wait costs ~0.01 ms here."""
    loop = asyncio.get_event_loop()
    try:
        task = asyncio.Task(coro, loop=loop, eager_start=True)  # type: ignore[call-arg]  # Python 3.12+
    except TypeError:  # an older Python: no eager start, the loop runs it
        return asyncio.ensure_future(coro, loop=loop)
    return task.result() if task.done() else task


class BrowserSandbox:
    def __init__(self, name: str, session: Any, tools: list[SandboxTool], *, is_async: bool) -> None:
        self.name = name
        self._session = session
        self._tools = tools
        self._by_name = {tool.name: tool for tool in tools}
        self.tool_gate = getattr(self, "tool_gate", None) or ToolGate()
        self.is_async = is_async
        self.tool_calls: list[dict[str, Any]] = []
        self._async_names = {tool.name for tool in tools}
        self._run_options: dict[bool, Any] = {}
        self._reserved = created_tools.reserved_names(tool.name for tool in tools)
        self.created: dict[str, created_tools.CreatedTool] = {}  # tools the agent created, defined in this session
        self.on_tool_created: Callable[[created_tools.CreatedTool], None] | None = None

    @classmethod
    async def create(cls, name: str, *, tools: Sequence[SandboxTool] = (), timeout_ms: int = 10_000,
                     memory_mb: int = 256, output_limit: int = 20_000,
                     blocking_tools: bool | None = None, allowed_imports: str = "",
                     created: Sequence[created_tools.CreatedTool] = (),
                     on_tool_created: Callable[[created_tools.CreatedTool], None] | None = None) -> BrowserSandbox:
        """A new session in the sandbox iframe. Options and defaults: timeout_ms 10000 (per cell: past it the worker
        is killed, replaced and the session restored by replay), memory_mb 256 (heap growth refused past it: a
        MemoryError in the cell), output_limit 20000 (bytes of stdout kept, head and tail, the cut marked),
        blocking_tools None (plain blocking tool calls when the page is cross-origin isolated, else the cell is
        rewritten to await them; False forces the rewrite, True on a page that is not isolated is refused),
        allowed_imports "" (the import policy, enforced in the sandbox: "" MicroPython's own modules, "*" any module,
        or "json, re": only those and what they import; other imports raise ImportError naming the policy),
        created () (tools the agent created in earlier runs: each is defined by running its source as a cell),
        on_tool_created None (called with each tool a cell registers; agent_py.created_tools)."""
        import js  # type: ignore[import-not-found]
        from pyodide.ffi import create_proxy, to_js  # type: ignore[import-not-found]

        client = sandbox_client()
        ready = _to_py(await client.ready)
        isolated = bool(ready.get("isolated", False))
        if blocking_tools and not isolated:
            raise SandboxIsolationError("blocking tool calls need a cross-origin isolated page (COOP + COEP)",
                                        session=name)
        is_async = not isolated if blocking_tools is None else not blocking_tools
        tools = list(tools)
        box = cls.__new__(cls)
        impls = {tool.name: {"impl": create_proxy(box._make_impl(tool))} for tool in tools}
        options = {"timeoutMs": timeout_ms, "memoryMb": memory_mb, "outputLimit": output_limit,
                   "stubs": tool_stubs(tools, is_async=is_async)
                   + created_tools.reserved_stub(created_tools.reserved_names(t.name for t in tools)),
                   "asyncTools": is_async, "tools": impls,
                   "allowedImports": allowed_imports}
        try:
            session = await client.createSession(name, to_js(options, dict_converter=js.Object.fromEntries))
        except Exception as err:  # noqa: BLE001 - a JS rejection: the sandbox could not start
            raise SandboxCrashed(f"sandbox {name} could not start: {err}", session=name) from None
        cls.__init__(box, name, session, tools, is_async=is_async)
        # Made once: converting a dict to a JS object on every cell would cost more than the cell's own hop.
        box._run_options = {flag: to_js({"async": flag}, dict_converter=js.Object.fromEntries)
                            for flag in (False, True)}
        box.on_tool_created = on_tool_created
        await box._define_created(created)
        log.debug("sandbox ready", session=name, tools=len(tools), blocking_tools=not is_async)
        return box

    async def _define_created(self, tools: Sequence[created_tools.CreatedTool]) -> None:
        """Each stored tool is a cell of its own, so one that no longer compiles leaves the others defined."""
        for tool in tools:
            if tool.name in self._reserved:
                continue
            result = await self.run(tool.source)
            if result.get("error"):
                log.warn("created tool not defined", tool=tool.name, error=str(result["error"].get("type")))
                continue
            self.created[tool.name] = tool

    def _take_registered(self, code: str, result: dict[str, Any]) -> None:
        """The tools a cell registered (names checked in the sandbox): their source from the cell, checked again."""
        for name in result.pop("registered_tools", None) or []:
            try:
                tool = created_tools.capture(code, str(name), reserved=self._reserved)
            except created_tools.ToolRegistrationError as err:
                if not result.get("error"):  # rare: the sandbox's text check passed, CPython's ast did not
                    result["error"] = {"type": "ToolRegistrationError", "message": err.message, "traceback": []}
                continue
            self.created[tool.name] = tool
            if self.on_tool_created is not None:
                self.on_tool_created(tool)

    def _make_impl(self, tool: SandboxTool):  # noqa: ANN202 - returns the callback JS calls
        # Blocking (Atomics) and awaited calls both arrive here, and both go through the one gate.
        async def dispatch(args_json: str) -> str:
            reply, record = await dispatch_tool_call(self._by_name, tool.name, args_json, self.tool_gate)
            if record is not None:
                self.tool_calls.append(record)
            return reply

        def impl(args_json: str) -> Any:
            return _run_eagerly(dispatch(args_json))

        return impl

    def use_tool_gate(self, gate: ToolGate) -> None:
        """The agent's hooks and per-step cap for every later tool call (agent_py.loop.Agent calls this)."""
        self.tool_gate = gate

    async def run(self, code: str) -> dict[str, Any]:
        """One cell. Returns the sandbox's result dict: stdout, stderr, error, final, final_value, duration_ms,
        restored, restore_note, truncated, tool_calls. Timeouts and memory kills are results, not raises."""
        self.tool_calls = []
        self.tool_gate.new_step()
        source, is_async = code, False
        if self.is_async:
            rewritten, async_names = rewrite_cell(code, self._async_names)
            if rewritten is not None:
                source, is_async = rewritten, True
        try:
            result = json.loads(await self._session.runJson(source, self._run_options[is_async]))
        except Exception as err:  # noqa: BLE001 - the frame refused or lost the run
            raise SandboxCrashed(f"sandbox {self.name} failed: {err}", session=self.name) from None
        if not isinstance(result, dict):
            raise SandboxCrashed(f"sandbox {self.name} answered with {type(result).__name__}", session=self.name)
        if is_async:
            self._async_names = async_names  # helpers made async by this cell are awaited in later cells
        result["tool_calls"] = list(self.tool_calls)
        self._take_registered(code, result)
        lost = result.pop("lost_cells", None) or []
        if lost:
            names = sorted({name for cell in lost for name in names_bound_by(str(cell))})
            result["restore_note"] += f"; names defined only there: {', '.join(names)}" if names else ""
        return result

    async def tools_listing(self) -> str:
        created = created_tools.listing(self.created.values(), can_create=self.on_tool_created is not None)
        return tools_listing(self._tools) + (f"\n\n{created}" if created else "")

    @contextlib.asynccontextmanager
    async def deadline_held(self) -> AsyncIterator[None]:
        """The running cell's deadline paused while its user approves a tool call: their think time is not the
        cell's (wasm_sandbox/frame.js, hold-deadline). Nests; resumed on the way out, whatever happened."""
        await self._session.holdDeadline(True)
        try:
            yield
        finally:
            await self._session.holdDeadline(False)

    async def _frame(self, what: str, request: Any) -> Any:
        """A session request to the iframe; its refusal (no such session, a cell running, a bad path, a worker that
        crashed) is a typed SandboxError naming the sandbox, not a bare JsException."""
        try:
            return await request
        except Exception as err:  # noqa: BLE001 - a JS rejection: the iframe's message says why
            raise SandboxError(f"sandbox {self.name}: {what} failed: {err}", session=self.name) from None

    async def reset(self) -> None:
        await self._frame("reset", self._session.reset())

    async def close(self) -> None:
        await self._frame("close", self._session.terminate())

    async def put_file(self, path: str, data: bytes) -> dict[str, Any]:
        from pyodide.ffi import to_js  # type: ignore[import-not-found]

        return _to_py(await self._frame(f"writing {path}", self._session.putFile(path, to_js(data))))

    async def get_file(self, path: str) -> bytes:
        return bytes((await self._frame(f"reading {path}", self._session.getFile(path))).to_py())

    async def list_files(self) -> list[dict[str, Any]]:
        """[{path, size, mtime}] of every file under /workspace."""
        return _to_py(await self._frame("listing files", self._session.listFiles()))

    async def hash_files(self) -> list[dict[str, Any]]:
        """[{path, size, mtime, sha256?}]: the listing with contents hashed in the iframe (no sha256 where the page
        is not a secure context)."""
        return _to_py(await self._frame("hashing files", self._session.hashFiles()))

    async def delete_file(self, path: str) -> None:
        await self._frame(f"deleting {path}", self._session.deleteFile(path))


async def probe(op: str, value: str) -> Any:
    """The iframe's benchmark probes (wasm_sandbox/client.mjs `probe`): ("probe-spawn", "bare" | "sandbox") -> {ms},
    ("probe-echo", text) -> text through a worker that only echoes: the hops of a cell, without MicroPython."""
    return _to_py(await sandbox_client().probe(op, value))
