# Compiled in the sandbox on the first `import math` or `import re` (import_policy.py calls _codeact_math_shim or
# _codeact_re_shim with the real module; see embed.mjs): where
# MicroPython 1.27 lacks what CPython has and the gap can be closed exactly, close it (a stable sorted() is in
# prelude.py). tests/browser/test_sandbox_faithfulness.py checks each against CPython's output; what cannot be
# closed (dict order, str methods, list.sort stability, ...) is named in the system prompt (agent_py/prompts.py).
#
#   math          + gcd, lcm, isqrt, comb, perm, prod (exact integer functions)
#   re            + findall, finditer, split, escape at module level; Pattern.findall/finditer; match.groups()
#
# The modules are taken as arguments and held in closures, never in this file's globals: a function's __globals__
# leads model code to the prelude's namespace, which must hold no module object (see import_policy.py).


def _codeact_module_view(name, base, extra):
    """An object standing in for module `base` with `extra` names added: `import name` gets it."""

    class Module:
        def __getattr__(self, attr):
            if attr in extra:
                return extra[attr]
            return getattr(base, attr)

        def __dir__(self):
            return sorted(set(dir(base)) | set(extra))

        def __repr__(self):
            return "<module '%s'>" % name

    return Module()


def _codeact_math_shim(math):
    def _int(value, what):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("'%s' object cannot be interpreted as an integer" % type(value).__name__)
        return value

    def gcd(*integers):
        result = 0
        for value in integers:
            a, b = abs(_int(value, "gcd")), result
            while b:
                a, b = b, a % b
            result = a
        return result

    def lcm(*integers):
        result = 1
        for value in integers:
            value = abs(_int(value, "lcm"))
            if value == 0 or result == 0:
                result = 0
            else:
                result = result * value // gcd(result, value)
        return result

    def isqrt(n):
        n = _int(n, "isqrt")
        if n < 0:
            raise ValueError("isqrt() argument must be nonnegative")
        if n == 0:
            return 0
        x = 1 << ((n.bit_length() + 1) // 2) if hasattr(n, "bit_length") else n
        while True:
            y = (x + n // x) // 2
            if y >= x:
                return x
            x = y

    def perm(n, k=None):
        n = _int(n, "perm")
        k = n if k is None else _int(k, "perm")
        if n < 0 or k < 0:
            raise ValueError("n must be a non-negative integer" if n < 0 else "k must be a non-negative integer")
        if k > n:
            return 0
        result = 1
        for value in range(n - k + 1, n + 1):
            result *= value
        return result

    def comb(n, k):
        n, k = _int(n, "comb"), _int(k, "comb")
        if n < 0 or k < 0:
            raise ValueError("n must be a non-negative integer" if n < 0 else "k must be a non-negative integer")
        if k > n:
            return 0
        k = min(k, n - k)
        result = 1
        for i in range(1, k + 1):
            result = result * (n - k + i) // i
        return result

    def prod(iterable, start=1):
        result = start
        for value in iterable:
            result = result * value
        return result

    return _codeact_module_view("math", math, {"gcd": gcd, "lcm": lcm, "isqrt": isqrt, "perm": perm,
                                               "comb": comb, "prod": prod})


def _codeact_re_shim(re):
    # MicroPython's match objects have only group(), and die with the re.sub() call that made them: a Match copies
    # the groups out at once. It has no positions (start/end/span): the VM does not give them.
    def _groups_of(native):
        found = []
        i = 1
        while True:
            try:
                found.append(native.group(i))
            except IndexError:
                return tuple(found)
            i += 1

    class Match:
        def __init__(self, native):
            self._whole = native.group(0)
            self._groups = _groups_of(native)

        def group(self, *numbers):
            if not numbers:
                return self._whole
            values = []
            for n in numbers:
                if n == 0:
                    values.append(self._whole)
                elif isinstance(n, int) and 0 < n <= len(self._groups):
                    values.append(self._groups[n - 1])
                else:
                    raise IndexError("no such group")
            return values[0] if len(values) == 1 else tuple(values)

        def groups(self, default=None):
            return tuple(default if g is None else g for g in self._groups)

        def __getitem__(self, n):
            return self.group(n)

        def __bool__(self):
            return True

        def __repr__(self):
            return "<re.Match object; match=%r>" % (self._whole,)

    def _wrap(native):
        return None if native is None else Match(native)

    def counted(pattern):
        # MicroPython's re has no counted repetition: X{m}, X{m,}, X{m,n} (and lazy ones) are spelled out as copies
        # of X and X? / X*, which matches the same. A capturing group cannot be copied (it would add groups).
        out = []  # atoms: (text, captures)
        i, n = 0, len(pattern)
        while i < n:
            c = pattern[i]
            if c == "\\":
                out.append((pattern[i:i + 2], False))
                i += 2
            elif c == "[":
                j = i + 1
                if j < n and pattern[j] == "^":
                    j += 1
                if j < n and pattern[j] == "]":
                    j += 1
                while j < n and pattern[j] != "]":
                    j += 2 if pattern[j] == "\\" else 1
                out.append((pattern[i:j + 1], False))
                i = j + 1
            elif c == "(":
                depth, j = 1, i + 1
                while j < n and depth:
                    if pattern[j] == "\\":
                        j += 1
                    elif pattern[j] == "(":
                        depth += 1
                    elif pattern[j] == ")":
                        depth -= 1
                    j += 1
                inner = pattern[i + 1:j - 1]
                captures = not inner.startswith("?:") or "(" in inner.replace("\\(", "").replace("(?:", "")
                prefix = "(?:" if inner.startswith("?:") else "("
                body = inner[2:] if inner.startswith("?:") else inner
                out.append((prefix + counted(body) + ")", captures))
                i = j
            elif c == "{" and out:
                j = pattern.find("}", i)
                spec = pattern[i + 1:j] if j > 0 else ""
                parts = spec.split(",")
                if j < 0 or len(parts) > 2 or not all(p.isdigit() or (p == "" and k > 0) for k, p in enumerate(parts)):
                    out.append((c, False))  # not a repetition: a literal brace, as in CPython
                    i += 1
                    continue
                lazy = j + 1 < n and pattern[j + 1] == "?"
                atom, captures = out.pop()
                if captures:
                    raise ValueError("this sandbox's re cannot repeat a capturing group with {m,n}: "
                                     "write the group out, or use (?:...)")
                low = int(parts[0])
                high = low if len(parts) == 1 else (None if parts[1] == "" else int(parts[1]))
                text = atom * low
                if high is None:
                    text += atom + ("*?" if lazy else "*")
                else:
                    text += (atom + ("??" if lazy else "?")) * (high - low)
                out.append((text, False))
                i = j + (2 if lazy else 1)
            else:
                out.append((c, False))
                i += 1
        return "".join(text for text, _ in out)

    class Pattern:
        def __init__(self, pattern, flags=0):
            self.pattern = pattern
            self.flags = flags
            native = counted(pattern) if "{" in pattern else pattern
            self._native = re.compile(native, flags) if flags else re.compile(native)

        def search(self, string, *pos):
            return _wrap(self._native.search(string, *pos))

        def match(self, string, *pos):
            return _wrap(self._native.match(string, *pos))

        def sub(self, repl, string, count=0):
            if callable(repl):
                return self._native.sub(lambda native: repl(Match(native)), string, count)
            return self._native.sub(repl, string, count)

        def split(self, string, maxsplit=0):
            return self._native.split(string, maxsplit)

        def finditer(self, string):
            found = []

            def take(native):
                found.append(Match(native))
                return ""

            self._native.sub(take, string)
            return iter(found)

        def findall(self, string):
            found = []
            for m in self.finditer(string):
                groups = m.groups("")
                found.append(m.group(0) if not groups else groups[0] if len(groups) == 1 else groups)
            return found

        def __repr__(self):
            return "re.compile(%r)" % (self.pattern,)

    cache = {}

    def compile(pattern, flags=0):
        if isinstance(pattern, Pattern):
            return pattern
        compiled = cache.get((pattern, flags))
        if compiled is None:
            if len(cache) > 200:
                cache.clear()
            compiled = cache[(pattern, flags)] = Pattern(pattern, flags)
        return compiled

    def search(pattern, string, flags=0):
        return compile(pattern, flags).search(string)

    def match(pattern, string, flags=0):
        return compile(pattern, flags).match(string)

    def sub(pattern, repl, string, count=0, flags=0):
        return compile(pattern, flags).sub(repl, string, count)

    def split(pattern, string, maxsplit=0, flags=0):
        return compile(pattern, flags).split(string, maxsplit)

    def findall(pattern, string, flags=0):
        return compile(pattern, flags).findall(string)

    def finditer(pattern, string, flags=0):
        return compile(pattern, flags).finditer(string)

    special = "()[]{}?*+-|^$\\.&~# \t\n\r\v\f"

    def escape(pattern):
        return "".join("\\" + c if c in special else c for c in pattern)

    return _codeact_module_view("re", re, {
        "compile": compile, "search": search, "match": match, "sub": sub, "split": split, "findall": findall,
        "finditer": finditer, "escape": escape, "Pattern": Pattern, "Match": Match})
