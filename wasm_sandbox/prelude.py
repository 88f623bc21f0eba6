# Runs once in each MicroPython sandbox worker, before any model code. MicroPython syntax and modules only.
#
# Model code runs in _G, a namespace of its own: it sees final_answer, the tools and the ToolError classes, not
# this runner's state. final_answer() records its value before it raises a BaseException subclass, so a cell that
# swallows it (`except Exception`, even `except BaseException`) still ends with a final answer.
#
# Everything is defined inside _codeact_make_runner and reaches its modules through closures: the prelude's globals
# (this module, __main__) hold no module object and not the real __import__, because `final_answer.__globals__`
# leads there and the import policy (import_policy.py) must not be undone through it. JS calls the three entry points set
# at the end: _codeact_install_tools, _codeact_configure, _codeact_run_sync (returns the result as JSON) and
# _codeact_run_async (leaves it in _codeact_result).


def _codeact_make_runner():
    import io
    import json
    import os
    import sys

    import _codeact_host

    try:
        os.mkdir("/workspace")
    except OSError:
        pass
    os.chdir("/workspace")

    class ToolError(Exception):
        pass

    class UnknownTool(ToolError):
        pass

    class ToolArgumentError(ToolError):
        pass

    class ToolResultError(ToolError):
        pass

    class ToolDenied(ToolError):
        pass

    class ToolCallLimitExceeded(ToolError):
        pass

    class ToolRegistrationError(ToolError):
        pass

    class ManagedAgentStopped(ToolError):
        pass

    # Remote tools (MCP servers, gateways, web pages) fail in these ways too; typed, so code can retry a timeout
    # but not a refusal.
    class ToolTimeout(ToolError):
        pass

    class ToolConnectError(ToolError):
        pass

    class ToolCorsError(ToolConnectError):
        pass

    class ToolAuthError(ToolError):
        pass

    class ToolServerError(ToolError):
        pass

    _TOOL_ERRORS = {
        "ToolError": ToolError,
        "UnknownTool": UnknownTool,
        "ToolArgumentError": ToolArgumentError,
        "ToolResultError": ToolResultError,
        "ToolDenied": ToolDenied,
        "ToolCallLimitExceeded": ToolCallLimitExceeded,
        "ToolRegistrationError": ToolRegistrationError,
        "ManagedAgentStopped": ManagedAgentStopped,
        "ToolTimeout": ToolTimeout,
        "ToolConnectError": ToolConnectError,
        "ToolCorsError": ToolCorsError,
        "ToolAuthError": ToolAuthError,
        "ToolServerError": ToolServerError,
    }

    class _FinalAnswerSignal(BaseException):
        pass

    _state = {"has_final": False, "final": None, "code": "", "registered": []}
    _reserved = set()  # names a created tool may not take: builtins, the runner's, the host tools (install_tools)

    def final_answer(value=None):
        """Finish the task with `value` (text, number, list or dict). Nothing after this call runs."""
        _state["has_final"] = True
        _state["final"] = value
        raise _FinalAnswerSignal()

    def _is_public_name(name):
        return (isinstance(name, str) and 0 < len(name) <= 64 and name[0].isalpha()
                and all(c.isalpha() or c.isdigit() or c == "_" for c in name))

    def _def_lines(code, name):
        # The lines of the last `def name(` at the cell's top level. MicroPython has no inspect.getsource, so the
        # source comes from the cell's text; a cell the agent rewrote for awaits is one `async def` indented by 4.
        lines = code.split("\n")
        base = 4 if code.startswith("async def __codeact_cell__") else 0
        start = None
        for i, line in enumerate(lines):
            text = line[base:]
            if line[:base].strip() == "" and (text.startswith("def " + name + "(")
                                              or text.startswith("async def " + name + "(")):
                start = i
        if start is None:
            return None
        end = start
        while end < len(lines) and not lines[end].split("#")[0].rstrip().endswith(":"):
            end += 1
        body = []
        for line in lines[end + 1:]:
            if line.strip() and len(line) - len(line.lstrip()) <= base:
                break
            body.append(line)
        return lines[start:end + 1], body

    def register_tool(func):
        """Keep `func` as a tool for later steps and later runs (usable as a decorator). It must be defined with
        `def` at the top level of this cell, have a docstring and be self-contained (imports inside it)."""
        name = getattr(func, "__name__", None)
        if not callable(func) or not isinstance(name, str):
            raise ToolRegistrationError("register_tool takes a function defined with def, got %s"
                                        % type(func).__name__)
        if not _is_public_name(name):
            raise ToolRegistrationError("tool name %r must be a public Python identifier (letters, digits, _; not "
                                        "starting with _; at most 64 characters)" % name)
        if name in _reserved:
            raise ToolRegistrationError("tool name %r is taken by a built-in or a host tool; choose another name"
                                        % name)
        found = _def_lines(_state["code"], name)
        if found is None:
            raise ToolRegistrationError("define %s with def at the top level of the cell that registers it (not "
                                        "nested, not a lambda): its source is taken from that cell" % name)
        header, body = found
        first = [line.strip() for line in body if line.strip()][:1]
        if not first or first[0][:1] not in ("'", '"'):
            raise ToolRegistrationError("%s needs a docstring (the first line of its body) saying what it does, "
                                        "its arguments and what it returns" % name)
        size = sum(len(line) + 1 for line in header + body)
        if size > 20000:
            raise ToolRegistrationError("%s is %d characters; a created tool's source may be at most 20000"
                                        % (name, size))
        if name not in _state["registered"]:
            if len(_state["registered"]) >= 20:
                raise ToolRegistrationError("at most 20 tools can be registered in one cell")
            _state["registered"].append(name)
        return func

    def _unwrap(raw):
        reply = json.loads(raw)
        if reply.get("ok"):
            return reply.get("value")
        error = reply.get("error") or {}
        raise _TOOL_ERRORS.get(error.get("type"), ToolError)(error.get("message", "the tool failed"))

    def _call_tool(name, args):
        return _unwrap(_codeact_host.call_sync(name, json.dumps(args)))

    async def _call_tool_async(name, args):
        return _unwrap(await _codeact_host.call_async(name, json.dumps(args)))

    def _fresh_namespace():
        # The tool stubs call _call_tool / _call_tool_async, so those two are visible to model code as well.
        namespace = {"__name__": "__main__", "final_answer": final_answer, "register_tool": register_tool,
                     "_call_tool": _call_tool, "_call_tool_async": _call_tool_async}
        namespace.update(_TOOL_ERRORS)
        return namespace

    _G = _fresh_namespace()

    def install_tools(source):
        import builtins

        before = set(_G)
        if source:
            exec(source, _G)
        # The host may add names a created tool must not take (its builtins list), as __codeact_reserved__.
        extra = _G.pop("__codeact_reserved__", ())
        _reserved.update(before, _G, dir(builtins), extra)

    def _json_value(value):
        try:
            return json.loads(json.dumps(value)), False
        except Exception:
            return repr(value), True

    def _begin(code):
        _state["has_final"] = False
        _state["final"] = None
        _state["code"] = code
        _state["registered"] = []

    def _error_of(exc):
        buffer = io.StringIO()
        sys.print_exception(exc, buffer)
        # Frames of this prelude ("<stdin>": the runner, the tool bridge) mean nothing to the model.
        lines = [line for line in buffer.getvalue().rstrip().split("\n") if "<stdin>" not in line]
        return {"type": type(exc).__name__, "message": str(exc), "traceback": lines}

    def _report(error):
        result = {"error": error, "final": _state["has_final"]}
        if _state["registered"]:
            result["registered_tools"] = list(_state["registered"])
        if _state["has_final"]:
            result["final_value"], result["final_repr"] = _json_value(_state["final"])
        return json.dumps(result)

    def run_sync(code):
        # Called by the worker straight through a proxy it kept: no wrapper to compile, no promise to settle; a
        # trivial cell's round trip is mostly hops, and this was a third of it.
        _begin(code)
        error = None
        try:
            exec(code, _G)
        except _FinalAnswerSignal:
            pass
        except BaseException as exc:  # noqa: B036 - every failure of the cell is the model's, reported back to it
            error = _error_of(exc)
        return _report(error)

    async def run_async(code):
        # The agent rewrote the cell as `async def __codeact_cell__(): ...` so tool calls can be awaited.
        global _codeact_result
        _begin(code)
        error = None
        try:
            exec(code, _G)
            await _G.pop("__codeact_cell__")()
        except _FinalAnswerSignal:
            pass
        except BaseException as exc:  # noqa: B036
            error = _error_of(exc)
        _codeact_result = _report(error)

    return run_sync, run_async, install_tools


_codeact_result = ""
_codeact_run_sync, _codeact_run_async, _codeact_install_tools = _codeact_make_runner()
del _codeact_make_runner


# sorted() as CPython's: stable (MicroPython's is a quicksort). list.sort() stays unstable: a built-in type's method.
def _codeact_stable_sorted(native_sorted):
    plain = (int, float, str, bytes, bool)

    class Ranked:
        # A key and its first-seen index; compares with `<` only, as CPython's sort does.
        __slots__ = ("key", "index", "reverse")

        def __init__(self, key, index, reverse):
            self.key, self.index, self.reverse = key, index, reverse

        def __lt__(self, other):
            a, b = (other.key, self.key) if self.reverse else (self.key, other.key)
            if a < b:
                return True
            if b < a:
                return False
            return self.index < other.index

    def is_plain(key):
        return type(key) in plain or (type(key) is tuple and all(type(k) in plain for k in key))

    def sorted(iterable, key=None, reverse=False):
        items = list(iterable)
        keys = items if key is None else [key(item) for item in items]
        reverse = bool(reverse)
        if all(is_plain(k) for k in keys):
            # Fast path: (key, index) tuples sort natively; ties keep their first-seen order, reversed or not.
            ranked = [(k, -i) if reverse else (k, i) for i, k in enumerate(keys)]
            order = native_sorted(range(len(items)), key=lambda i: ranked[i], reverse=reverse)
        else:
            # Other keys (objects with only __lt__): MicroPython's tuple comparison would ask them for __gt__.
            ranked = [Ranked(k, i, reverse) for i, k in enumerate(keys)]
            order = native_sorted(range(len(items)), key=lambda i: ranked[i])
        return [items[i] for i in order]

    return sorted


def _codeact_configure(stubs, allowed_imports):
    """Once per worker, before any model code: the session's tools, then its import policy (import_policy.py)."""
    del globals()["_codeact_configure"]  # once: model code that found this namespace cannot configure again
    exec(globals().pop("_CODEACT_POLICY"), globals())  # import_policy.py (see embed.mjs)
    _codeact_install_tools(stubs)
    import builtins

    builtins.sorted = _codeact_stable_sorted(builtins.sorted)
    _codeact_guard_imports(allowed_imports, globals().pop("_CODEACT_SHIMS"))
    for name in ("_codeact_guard_imports", "_codeact_install_tools"):
        globals().pop(name, None)
