"""Make ordinary model code work where tool calls cannot block (a page that is not cross-origin isolated).

There, a tool call inside the sandbox is a Promise, so it must be awaited. Models write `rows = read_table()`,
not `await`, so the agent rewrites the cell with CPython's `ast` before sending it:
- every call of a tool becomes `await tool(...)`;
- a function that now awaits becomes `async def`, and calls of it are awaited too, until nothing changes;
- a comprehension that awaits becomes a small async helper with a plain loop (MicroPython has no async
  comprehensions);
- the cell becomes `async def __codeact_cell__():` with `global` for every name it binds, so variables still
  land in the sandbox's namespace and persist to the next cell.
A cell that does not parse, or awaits nothing, is sent unchanged (a SyntaxError is reported by the sandbox as usual).
`rewrite_cell` also returns the names of the functions that are async after the cell, so a helper defined in one
cell and called in a later one is awaited there too (the agent keeps that set per session).

Not covered (the blocking mode has none of these limits): a tool called through a method (`obj.fetch()` where the
method calls a tool), a lambda, or a callback run by a builtin (`sorted(key=...)`, `map`): there the call returns a
coroutine instead of a value.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

__all__ = ["rewrite_cell", "names_bound_by", "CELL_FUNCTION"]

CELL_FUNCTION = "__codeact_cell__"
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _contains_await(node: ast.AST) -> bool:
    return any(isinstance(child, ast.Await) for child in ast.walk(node))


class _AwaitCalls(ast.NodeTransformer):
    def __init__(self, async_names: set[str]) -> None:
        self.async_names = async_names

    def visit_Call(self, node: ast.Call) -> ast.AST:  # noqa: N802 - ast API
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in self.async_names:
            return ast.Await(value=node)
        return node

    def visit_Await(self, node: ast.Await) -> ast.AST:  # noqa: N802
        # Already awaited by the model: keep one await.
        if isinstance(node.value, ast.Call):
            node.value = self.generic_visit(node.value)  # type: ignore[assignment]
            return node
        return self.generic_visit(node)


class _AsyncComprehensions(ast.NodeTransformer):
    """[await f(x) for x in xs] -> await __codeact_comp_N() with a loop inside (no async comprehensions).

    Each helper is defined at the top of the function it is used in (a closure, so it sees that function's
    locals at call time); those of the cell itself end up in `helpers`.
    """

    def __init__(self) -> None:
        self.helpers: list[ast.AsyncFunctionDef] = []
        self.count = 0

    def _scope(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        outer, self.helpers = self.helpers, []
        self.generic_visit(node)
        node.body = [*self.helpers, *node.body]
        self.helpers = outer
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = _scope  # noqa: N815

    def _replace(self, node: ast.AST) -> ast.AST:
        # Helpers of nested comprehensions go inside this one's helper: they may use its loop variables.
        outer, self.helpers = self.helpers, []
        self.generic_visit(node)
        inner, self.helpers = self.helpers, outer
        if not _contains_await(node):
            return node
        name = f"__codeact_comp_{self.count}"
        self.count += 1
        result = ast.Name(id="__r", ctx=ast.Load())
        if isinstance(node, ast.DictComp):
            init: ast.expr = ast.Dict(keys=[], values=[])
            add: ast.stmt = ast.Assign(targets=[ast.Subscript(value=result, slice=node.key, ctx=ast.Store())],
                                       value=node.value)
        else:
            init = ast.Set(elts=[]) if isinstance(node, ast.SetComp) else ast.List(elts=[], ctx=ast.Load())
            if isinstance(node, ast.SetComp):
                init = ast.Call(func=ast.Name(id="set", ctx=ast.Load()), args=[], keywords=[])
            method = "add" if isinstance(node, ast.SetComp) else "append"
            add = ast.Expr(ast.Call(func=ast.Attribute(value=result, attr=method, ctx=ast.Load()),
                                    args=[node.elt], keywords=[]))  # type: ignore[attr-defined]
        body: list[ast.stmt] = [add]
        for generator in reversed(node.generators):  # type: ignore[attr-defined]
            for condition in reversed(generator.ifs):
                body = [ast.If(test=condition, body=body, orelse=[])]
            body = [ast.For(target=generator.target, iter=generator.iter, body=body, orelse=[])]
        helper = ast.AsyncFunctionDef(
            name=name, args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
            body=[*inner, ast.Assign(targets=[ast.Name(id="__r", ctx=ast.Store())], value=init), *body,
                  ast.Return(value=result)],
            decorator_list=[], returns=None, type_params=[],
        )
        self.helpers.append(helper)
        return ast.Await(value=ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=[], keywords=[]))

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _replace  # noqa: N815


def _make_async(tree: ast.Module, known_async: set[str]) -> set[str]:
    """Await calls of async names, make functions that await async, to a fixpoint; returns the async names after."""
    async_names = set(known_async)
    # A module-level `def` that awaits nothing in this cell replaces an async one of the same name from before.
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in async_names:
            async_names.discard(node.name)
    while True:
        _AwaitCalls(async_names).visit(tree)
        changed = False
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and _contains_await(node):
                node.__class__ = ast.AsyncFunctionDef  # same fields: name, args, body, decorators, returns
                async_names.add(node.name)
                changed = True
        if not changed:
            return async_names


def _bound_names(statements: Iterable[ast.stmt]) -> set[str]:
    """Names a module-level statement binds (not those of nested functions or classes)."""
    names: set[str] = set()

    def targets(node: ast.AST) -> None:
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                names.add(child.id)

    for statement in statements:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(statement.name)
        elif isinstance(statement, ast.Import | ast.ImportFrom):
            for alias in statement.names:
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(statement, ast.Global):
            names.update(statement.names)
        else:
            for field_name, value in ast.iter_fields(statement):
                if field_name in {"body", "orelse", "finalbody", "handlers"} and isinstance(value, list):
                    nested = [v.body if isinstance(v, ast.ExceptHandler) else [v] for v in value]
                    for part in nested:
                        names |= _bound_names(part)
                    for handler in value:
                        if isinstance(handler, ast.ExceptHandler) and handler.name:
                            names.add(handler.name)
                elif isinstance(value, ast.AST):
                    targets(value)
                elif isinstance(value, list):
                    for item in value:
                        if isinstance(item, ast.AST) and not isinstance(item, ast.stmt):
                            targets(item)
    return names


def names_bound_by(code: str) -> set[str]:
    """The module-level names a cell defines (to tell the model what a lost cell took with it); none if unparsable.
    A cell as `rewrite_cell` sent it (the sandbox records what ran) binds the names of its `global` statement."""
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return set()
    if len(body) == 1 and isinstance(body[0], ast.AsyncFunctionDef) and body[0].name == CELL_FUNCTION:
        first = body[0].body[0] if body[0].body else None
        return set(first.names) if isinstance(first, ast.Global) else set()
    return _bound_names(body)


def rewrite_cell(code: str, async_names: Iterable[str]) -> tuple[str | None, set[str]]:
    """(the cell as `async def __codeact_cell__()` with tool calls awaited, or None if it awaits nothing, and the
    names of the functions that are async after it). `async_names`: the tools plus the session's async helpers."""
    known = set(async_names)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None, known
    known = _make_async(tree, known)
    if not _contains_await(tree):
        return None, known
    comprehensions = _AsyncComprehensions()
    comprehensions.visit(tree)
    globals_needed = sorted(_bound_names(tree.body))
    body: list[ast.stmt] = []
    if globals_needed:
        body.append(ast.Global(names=globals_needed))
    body += comprehensions.helpers
    body += tree.body or [ast.Pass()]
    cell = ast.AsyncFunctionDef(
        name=CELL_FUNCTION, args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=body, decorator_list=[], returns=None, type_params=[],
    )
    module = ast.Module(body=[cell], type_ignores=[])
    return ast.unparse(ast.fix_missing_locations(module)), known
