"""Split each test cell into what the trusted reference kernel computes and what the student's does.

A test cell calls ``check(label, got, expected, ...)`` and ``check_function(label, func,
reference, cases, ...)``. Grading keeps the two sides apart:

* the *expected* side (``expected``, ``reference`` and its outputs, the cell's other
  computations) runs only in the trusted reference kernel, on the instructor's source notebook;
* the *student* side (``got``; calls of ``func`` on the cases, sent in as data) runs in the
  student's sandboxed kernel and comes out as plain data.

A name is *tainted* when it holds the student's work: bound by a solution cell, or computed from
a tainted name. A top-level statement of a test cell that reads a tainted name runs on the
student's side (``got = feature_extractor(mine, 5)``); the untainted names it reads are sent in
from the reference kernel just before it (``mine``). Definitions (``def``, ``lambda``) that
the student's side needs are run there too; plain values a check's ``got`` reads (a loop
variable) are sent per check. Everything else -- the expected values -- never enters the
student's kernel. ``id(x)`` in a test cell becomes a name that is the same in both kernels.

Hidden tests are stricter: their code never enters the student's kernel at all, only the name
of the checked value or of the called function, and the call's inputs.
"""

from __future__ import annotations

import ast
import symtable
from dataclasses import dataclass, field

G = "_cnnbook_grader_"  # the agent module, as a name in both kernels
CHECKS = ("check", "check_function")
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)

__all__ = ["CellSplit", "Site", "SplitError", "Taint", "names_of", "solution_names", "split_cell"]


class SplitError(ValueError):
    """A test cell the grader cannot split; the message names the cell, the line and the fix."""


@dataclass
class Site:
    kind: str  # "check" (emit ``code``) or "call" (call the function ``code`` on the cases)
    code: str


@dataclass
class CellSplit:
    grade_id: str
    trusted: str  # the rewritten cell for the reference kernel
    steps: list = field(default_factory=list)  # ("exec", index, source) | ("sites", index, [site ids])
    sites: dict[int, Site] = field(default_factory=dict)


@dataclass
class Taint:
    """What the analysis knows across a notebook's test cells, in order."""

    tainted: set[str]
    plain: set[str] = field(default_factory=set)  # untainted values bound by test cells


def names_of(source: str) -> tuple[set[str], set[str]]:
    """(names read, names bound) at module level by code, nested scopes' global reads included."""
    reads, writes = set(), set()

    def walk(table, top):
        for sym in table.get_symbols():
            name = sym.get_name()
            if top:
                if sym.is_referenced():
                    reads.add(name)
                if sym.is_assigned() or sym.is_imported():
                    writes.add(name)
            elif sym.is_global() and sym.is_referenced():
                reads.add(name)
        for child in table.get_children():
            walk(child, False)

    walk(symtable.symtable(source, "<test cell>", "exec"), True)
    return reads, writes


def solution_names(sources: list[str]) -> set[str]:
    """Names the student's answer cells bind (their solution versions)."""
    names: set[str] = set()
    for source in sources:
        try:
            names |= names_of(source)[1]
        except SyntaxError:
            continue
    return names


def _is_def(stmt) -> bool:
    return isinstance(stmt, _DEFS) or (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Lambda))


def _calls(node) -> list[ast.Call]:
    """check/check_function calls in a statement, not inside nested functions."""
    found = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in CHECKS:
            found.append(child)
        found += _calls(child)
    return found


class _Ids(ast.NodeTransformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "id" and len(node.args) == 1:
            node.func = ast.Attribute(ast.Name(G, ast.Load()), "identity", ast.Load())
        return node


def _args(call: ast.Call, params: tuple[str, ...], where: str) -> dict:
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        raise SplitError(f"{where}: write {call.func.id}(...) without * or ** arguments")
    bound = dict(zip(params, call.args))
    bound.update({k.arg: k.value for k in call.keywords})
    missing = [p for p in params if p not in bound]
    if missing:
        raise SplitError(f"{where}: {call.func.id}(...) lacks {', '.join(missing)}")
    return bound


def split_cell(source: str, grade_id: str, taint: Taint, *, hidden: bool = False) -> CellSplit:
    """Split one test cell (or hidden-test section); ``taint`` is updated for the next cells."""
    where = f"test cell {grade_id}" + (" (hidden tests)" if hidden else "")
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise SplitError(f"{where}, line {exc.lineno}: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CHECKS:
            raise SplitError(f"{where}, line {node.lineno}: call {node.func.attr}(...) by its bare name "
                             "(from helpers.checks import check, check_function)")
    tree = _Ids().visit(tree)
    out = CellSplit(grade_id, "")
    cell = ast.Constant(grade_id)
    ships: dict[int, set[str]] = {}
    defs: dict[str, tuple[int, ast.stmt, set[str]]] = {}
    needed_reads: set[str] = set()  # names the student's side reads (to find needed definitions)

    def reads(node) -> set[str]:
        return names_of(ast.unparse(node))[0]

    def site_for(call: ast.Call, lineno: int) -> ast.Call:
        here = f"{where}, line {lineno}"
        number = len(out.sites)
        g = lambda attr: ast.Attribute(ast.Name(G, ast.Load()), attr, ast.Load())  # noqa: E731
        if call.func.id == "check_function":
            a = _args(call, ("label", "func", "reference", "cases"), here)
            if reads(a["reference"]) & taint.tainted or reads(a["cases"]) & taint.tainted:
                raise SplitError(f"{here}: the reference and the cases must not depend on the student's answers")
            out.sites[number] = Site("call", ast.unparse(a["func"]))
            needed_reads.update(reads(a["func"]) | _closure(reads(a["cases"])))
            rest = [k for k in call.keywords if k.arg not in ("label", "func", "reference", "cases")]
            return ast.Call(g("check_function"), [cell, ast.Constant(number), a["label"], a["func"],
                                                  a["reference"], a["cases"]], rest)
        a = _args(call, ("label", "got", "expected"), here)
        got, expected, split = a["got"], a["expected"], False
        rest = [k for k in call.keywords if k.arg not in ("label", "got", "expected")]
        if (isinstance(got, ast.Compare) and len(got.ops) == 1 and isinstance(got.ops[0], ast.Eq)
                and isinstance(expected, ast.Constant) and expected.value is True
                and reads(got.left) & taint.tainted and not reads(got.comparators[0]) & taint.tainted):
            got, expected, split = got.left, got.comparators[0], True  # check(l, A == B, True)
        if reads(expected) & taint.tainted:
            raise SplitError(f"{here}: the expected value must not depend on the student's answers")
        if hidden:
            if isinstance(got, ast.Call) and isinstance(got.func, ast.Name) and got.func.id in taint.tainted \
                    and not reads(ast.Tuple(got.args + [k.value for k in got.keywords], ast.Load())) & taint.tainted \
                    and not any(isinstance(x, ast.Starred) for x in got.args) and all(k.arg for k in got.keywords):
                out.sites[number] = Site("call", got.func.id)
                kwargs = ast.Dict([ast.Constant(k.arg) for k in got.keywords], [k.value for k in got.keywords])
                return ast.Call(g("check_call"), [cell, ast.Constant(number), a["label"], got.func,
                                                  ast.Tuple(got.args, ast.Load()), kwargs, expected], rest)
            if not (isinstance(got, ast.Name) and got.id in taint.tainted):
                raise SplitError(f"{here}: a hidden test may check only a name the student binds or a "
                                 "call of the student's function whose arguments do not depend on the answers")
        bridge = sorted(reads(got) & taint.plain)
        out.sites[number] = Site("check", ast.unparse(got))
        needed_reads.update(reads(got))
        bridge_dict = ast.Dict([ast.Constant(n) for n in bridge], [ast.Name(n, ast.Load()) for n in bridge])
        if split:
            rest.append(ast.keyword("split", ast.Constant(True)))
        return ast.Call(g("check"), [cell, ast.Constant(number), bridge_dict, a["label"], got, expected], rest)

    plain_writers: dict[str, list[set[str]]] = {}

    def _closure(names: set[str]) -> set[str]:
        """Names read by the untainted statements that computed ``names`` (to find definitions)."""
        seen, todo = set(names), list(names)
        while todo:
            for r in plain_writers.get(todo.pop(), []):
                todo += [n for n in r - seen]
                seen |= r
        return seen

    class Rewrite(ast.NodeTransformer):
        def __init__(self):
            self.sites: list[int] = []

        def visit_Call(self, node):
            self.generic_visit(node)
            if isinstance(node.func, ast.Name) and node.func.id in CHECKS:
                self.sites.append(len(out.sites))
                return site_for(node, node.lineno)
            return node

        def visit_FunctionDef(self, node):
            return node  # checks inside a function are not graded (the analysis refuses them below)

        visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    body = []
    for index, stmt in enumerate(tree.body):
        r, w = names_of(ast.unparse(stmt))
        here = f"{where}, line {stmt.lineno}"
        if isinstance(stmt, ast.Assert) and r & taint.tainted:
            test = stmt.test
            if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
                raise SplitError(f"{here}: an assert on the student's answer must read `assert ANSWER == EXPECTED`")
            label = stmt.msg if stmt.msg is not None and not hidden else ast.Constant(f"{grade_id} (assert)")
            stmt = ast.Expr(ast.Call(ast.Name("check", ast.Load()), [label, test.left, test.comparators[0]], []))
            ast.copy_location(stmt, tree.body[index])
            ast.fix_missing_locations(stmt)
        if _calls(stmt) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                            and isinstance(stmt.value.func, ast.Name) and stmt.value.func.id in CHECKS):
            rewrite = Rewrite()
            for inner in ast.walk(stmt):
                if isinstance(inner, ast.stmt) and inner is not stmt and not _calls(inner) and \
                        not isinstance(inner, (ast.Pass, ast.Break, ast.Continue)):
                    if names_of(ast.unparse(inner))[0] & taint.tainted:
                        raise SplitError(f"{where}, line {inner.lineno}: a statement that uses the student's "
                                         "answer sits in a block with checks; move it above the block")
            if isinstance(stmt, (ast.For, ast.While)) and reads(stmt.iter if isinstance(stmt, ast.For) else stmt.test) \
                    & taint.tainted:
                raise SplitError(f"{here}: a loop over the student's values cannot be graded; "
                                 "check the values one by one")
            taint.plain |= w - {G}
            taint.tainted -= w
            for name in w:
                plain_writers.setdefault(name, []).append(r)
            stmt = rewrite.visit(stmt)
            out.steps.append(("sites", index, rewrite.sites))
        elif r & taint.tainted and not hidden:
            ships.setdefault(index, set()).update(r & taint.plain - set(defs))
            taint.tainted |= w
            taint.plain -= w | r  # inputs it reads may be changed by the student's code: not sent again
            needed_reads.update(r)
            out.steps.append(("exec", index, ast.unparse(stmt)))
        elif r & taint.tainted:
            raise SplitError(f"{here}: a hidden test may not compute with the student's answers; "
                             "use check(label, f(inputs), expected) or check_function")
        elif _is_def(stmt) and not hidden:
            for name in w:
                defs[name] = (index, stmt, r, set(taint.plain))
            taint.plain |= w
            taint.tainted -= w
        else:
            taint.plain |= w
            taint.tainted -= w
            for name in w:
                plain_writers.setdefault(name, []).append(r)
        body.append((index, stmt))

    # definitions the student's side needs run there, at their place; the values they read are sent in
    needed, todo = set(), [n for n in needed_reads if n in defs]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += [n for n in defs[name][2] if n in defs and n not in needed]
    for index, stmt, r, plain in sorted({defs[n][0]: defs[n] for n in needed}.values(), key=lambda d: d[0]):
        ships.setdefault(index, set()).update(r & plain - set(defs))
        out.steps.append(("exec", index, ast.unparse(stmt)))
        taint.plain -= set(names_of(ast.unparse(stmt))[1])
    out.steps.sort(key=lambda step: step[1])

    trusted = []
    for index, stmt in body:
        if ships.get(index):
            names = sorted(ships[index])
            trusted.append(ast.Expr(ast.Call(
                ast.Attribute(ast.Name(G, ast.Load()), "ship", ast.Load()),
                [cell, ast.Constant(index), ast.Dict([ast.Constant(n) for n in names],
                                                     [ast.Name(n, ast.Load()) for n in names])], [])))
        trusted.append(stmt)
    module = ast.fix_missing_locations(ast.Module(trusted, []))
    out.trusted = ast.unparse(module)
    if not out.sites:
        raise SplitError(f"{where}: no check(...) or check_function(...) call to grade")
    return out
