# Appended to the prelude (see embed.mjs). The import policy: which modules model code may import, enforced in the
# sandbox by an import hook that model code cannot take out. Installed once per worker, at configure time, from the
# session's `allowedImports` option (RunSettings.sandbox.allowed_imports):
#     ""            MicroPython's own modules (built in or frozen into this build), except __main__ (the runner)
#     "*"           any module, files in /workspace included (no policy; the math and re shims are still served)
#     "json, re"    only these (and their submodules), plus what they import themselves (below); any other import
#                   raises ImportError naming the policy
#
# How it holds:
# - `import x`, `__import__(...)`, exec/eval/compile of an import all go through builtins.__import__, which is
#   replaced in MicroPython's builtins override table. Model code can undo that only through the builtins module, so
#   `import builtins` gets a view of it that refuses to set or delete __import__ and to hand out __dict__ (the real
#   builtins table, which still holds the real import).
# - The hook and what it holds (the real import, the allowlist, the real builtins module) are closure variables:
#   MicroPython has no __closure__, so nothing reachable from model code leads to them. A function's __globals__
#   does lead to the prelude's namespace (__main__), which therefore holds no module object and not the real import
#   (see prelude.py); __main__ itself is never importable under a policy.
# - The check is by name, on every import, whoever imports: model code, a file it wrote, or one of MicroPython's
#   own modules. So an allowed module brings what it imports at load time (_CODEACT_DEPENDS, traced from this
#   build: allowing asyncio allows select, time, ...), which is reachable through it anyway (`asyncio.core.sys`).
#   A file in /workspace named like an allowed module imports under the same check. sys.modules does not help:
#   the modules the prelude loaded are taken out of it before model code runs.
# - uctypes reads and writes raw memory, so code that may import it (or tarfile, which imports it) can rewrite the
#   policy itself: leave both out of a list that must hold.

_CODEACT_OWN_MODULES = (
    "__main__ _asyncio abc array asyncio base64 binascii builtins cmath collections copy datetime deflate errno "
    "fnmatch framebuf functools gc gzip hashlib heapq hmac html inspect io itertools js jsffi json locale logging "
    "math micropython operator os pathlib platform random re select stat string struct sys tarfile time types "
    "uctypes unittest uu vfs zlib"
).split()

# What each of MicroPython's own modules imports while it loads (u-names folded into plain ones).
_CODEACT_DEPENDS = {
    "asyncio": "_asyncio io js jsffi micropython sys time", "base64": "binascii re struct",
    "copy": "collections sys types", "datetime": "micropython time", "fnmatch": "os re",
    "gzip": "builtins deflate io", "inspect": "sys", "logging": "io micropython sys time",
    "pathlib": "errno micropython os", "tarfile": "os uctypes", "time": "micropython", "types": "sys",
    "unittest": "io os sys", "uu": "binascii os sys", "zlib": "deflate io",
}


def _codeact_guard_imports(spec, shims_source):
    import builtins
    import sys

    shims = {}  # "math" / "re" -> stand-in (shims.py, compiled on first need, in a namespace of its own)
    shim_factories = {}

    def shim(top):
        if top not in shims:
            if not shim_factories:
                exec(shims_source, shim_factories)
            shims[top] = shim_factories["_codeact_%s_shim" % top](real_import(top))
        return shims[top]

    real_import = builtins.__import__
    own = frozenset(_CODEACT_OWN_MODULES)
    spec = (spec or "").strip()
    allow_all = spec == "*"
    if allow_all or not spec:
        allowed = frozenset(name for name in own if name != "__main__")
        described = "any module" if allow_all else "MicroPython's own modules only"
    else:
        names = [part.strip().split(".")[0] for part in spec.replace(";", ",").replace(" ", ",").split(",")]
        listed = sorted(set(name for name in names if name and name != "__main__"))
        closure, todo = set(), list(listed)
        while todo:
            name = todo.pop()
            if name not in closure:
                closure.add(name)
                todo.extend(_CODEACT_DEPENDS.get(name, "").split())
        allowed = frozenset(closure)
        extra = sorted(closure - set(listed))
        described = "only: " + ", ".join(listed) + (" (and what they import: %s)" % ", ".join(extra) if extra else "")

    def canonical(top):
        # The u-names (ujson, utime, ...) are the same modules as the plain ones.
        if top not in own and top[:1] == "u" and top[1:] in own:
            return top[1:]
        return top

    def refuse(name):
        raise ImportError("import of '%s' is blocked by the sandbox's import policy, which allows %s "
                          "(Settings > Allowed imports)" % (name, described))

    class BuiltinsView:
        # `import builtins`: reads and writes reach the real module, except the import hook itself.
        def __getattr__(self, attr):
            if attr == "__dict__":
                raise AttributeError("builtins.__dict__ is not available under the sandbox's import policy")
            # The module's own attribute is its built-in table's entry, not the override a name lookup finds.
            if attr in overridden:
                return overridden[attr]
            return getattr(builtins, attr)

        def __setattr__(self, attr, value):
            if attr == "__import__":
                refuse_change()
            setattr(builtins, attr, value)
            if attr in overridden:
                overridden[attr] = value

        def __delattr__(self, attr):
            if attr == "__import__":
                refuse_change()
            delattr(builtins, attr)
            overridden.pop(attr, None)

        def __dir__(self):
            return dir(builtins)

        def __repr__(self):
            return "<module 'builtins'>"

    def refuse_change():
        raise AttributeError("builtins.__import__ belongs to the sandbox's import policy and cannot be changed")

    builtins_view = BuiltinsView()

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if type(name) is not str or type(level) is not int or level < 0:
            raise TypeError("__import__() takes a module name (str) and a level (int >= 0)")
        if level:
            # Relative: resolved against the importer's __name__ (a forged one can only name a package's insides).
            if type(globals) is not dict or type(globals.get("__name__")) is not str:
                raise ImportError("relative import outside a package")
            top = globals["__name__"].split(".")[0]
            if not allow_all and top == "__main__":
                refuse(globals["__name__"])
        else:
            top = name.split(".")[0]
        top = canonical(top)
        if not allow_all and top not in allowed:
            refuse(name if not level else top)
        if top == "builtins" and not level:
            return builtins_view
        if top in ("math", "re") and not level and "." not in name:
            return shim(top)
        return real_import(name, globals, locals, fromlist, level)

    builtins.__import__ = guarded_import
    overridden = {"__import__": guarded_import, "sorted": sorted}  # sorted: the shim's stable one, set before
    for name in list(sys.modules):  # loaded by the prelude (io, os, the tool bridge): model code imports its own
        del sys.modules[name]
