# Runs once in each MicroPython sandbox worker, before any model code. MicroPython syntax and modules only.
#
# Model code runs in _G, a namespace of its own: it sees final_answer, the tools and the ToolError classes, not
# this runner's state. final_answer() records its value before it raises a BaseException subclass, so a cell that
# swallows it (`except Exception`, even `except BaseException`) still ends with a final answer.
#
# Everything is defined inside _codeact_make_runner and reaches its modules through closures: the prelude's globals
# (this module, __main__) hold no module object and not the real __import__, because `final_answer.__globals__`
# leads there and the import policy (import_policy.py) must not be undone through it. JS calls the three entry points set
# at the end: _codeact_install_tools, _codeact_configure, _codeact_run (which leaves its result in _codeact_result).


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

    _TOOL_ERRORS = {
        "ToolError": ToolError,
        "UnknownTool": UnknownTool,
        "ToolArgumentError": ToolArgumentError,
        "ToolResultError": ToolResultError,
        "ToolDenied": ToolDenied,
        "ToolCallLimitExceeded": ToolCallLimitExceeded,
    }

    class _FinalAnswerSignal(BaseException):
        pass

    _state = {"has_final": False, "final": None}

    def final_answer(value=None):
        """Finish the task with `value` (text, number, list or dict). Nothing after this call runs."""
        _state["has_final"] = True
        _state["final"] = value
        raise _FinalAnswerSignal()

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
        namespace = {"__name__": "__main__", "final_answer": final_answer, "_call_tool": _call_tool,
                     "_call_tool_async": _call_tool_async}
        namespace.update(_TOOL_ERRORS)
        return namespace

    _G = _fresh_namespace()

    def install_tools(source):
        if source:
            exec(source, _G)

    def _json_value(value):
        try:
            return json.loads(json.dumps(value)), False
        except Exception:
            return repr(value), True

    async def run(code, is_async):
        global _codeact_result
        _state["has_final"] = False
        _state["final"] = None
        error = None
        try:
            if is_async:
                # The agent rewrote the cell as `async def __codeact_cell__(): ...` so tool calls can be awaited.
                exec(code, _G)
                await _G.pop("__codeact_cell__")()
            else:
                exec(code, _G)
        except _FinalAnswerSignal:
            pass
        except BaseException as exc:  # noqa: B036 - every failure of the cell is the model's, reported back to it
            buffer = io.StringIO()
            sys.print_exception(exc, buffer)
            # Frames of this prelude ("<stdin>": the runner, the tool bridge) mean nothing to the model.
            lines = [line for line in buffer.getvalue().rstrip().split("\n") if "<stdin>" not in line]
            error = {"type": type(exc).__name__, "message": str(exc), "traceback": lines}
        result = {"error": error, "final": _state["has_final"]}
        if _state["has_final"]:
            result["final_value"], result["final_repr"] = _json_value(_state["final"])
        _codeact_result = json.dumps(result)

    return run, install_tools


_codeact_result = ""
_codeact_run, _codeact_install_tools = _codeact_make_runner()
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
