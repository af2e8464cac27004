"""The reference implementation each exercise names, and submissions that use it.

A test cell names its references: the ``helpers`` functions that compute its ``expected`` value
(``check``) or that it passes as ``reference`` (``check_function``), found through the cell's own
definitions (``def reference_2_6(...)``) and the notebook's imports, and whatever those definitions
import for themselves from any package (``torchvision.ops.box_iou``, Captum's
``IntegratedGradients``). Names that the solution's own answer cells use are tools the exercise
allows (``conv2d`` for 4.6), not references.

A submission whose cells reach a reference -- import it, read it by the name the notebook's
set-up gave it, take it as an attribute of an imported ``helpers`` module, or look it up by a
string -- gets the flag ``reference_used:<test cell>:<module>.<name>``. It is a flag for the
instructor to read, not a penalty: the checks still judge the values.
"""

from __future__ import annotations

import ast
import threading

__all__ = ["named_references", "reference_flags"]

# CPython 3.11 counts the AST constructor's recursion depth in one counter per interpreter, so two
# threads building syntax trees at once -- the grader grades submissions on threads (--jobs), each
# scanning its notebook here -- can corrupt it whenever a garbage collection in one runs code that
# lets the other in: "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905),
# a submission's grader_error. Seen in a test run on 2026-12-02. One parse at a time.
_PARSE_LOCK = threading.Lock()

CHECKS = {"check": ("label", "got", "expected"), "check_function": ("label", "func", "reference", "cases")}
PACKAGE = "helpers"


def _parse(source: str) -> ast.Module | None:
    try:
        with _PARSE_LOCK:
            return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _helper_imports(node: ast.AST, *, nested: bool, any_package: bool = False) -> dict[str, str]:
    """name -> ``module.name`` for ``from helpers... import name [as alias]`` in ``node``.

    ``nested``: look inside functions and classes too (else only the module level).
    ``any_package``: every package's names, not only ``helpers``' (a check cell's own imports)."""
    found: dict[str, str] = {}

    def walk(n):
        for child in ast.iter_child_nodes(n):
            if isinstance(child, ast.ImportFrom) and child.module and not child.level and (
                    any_package or child.module.split(".")[0] == PACKAGE):
                for alias in child.names:
                    if alias.name != "*":
                        found[alias.asname or alias.name] = f"{child.module}.{alias.name}"
            if nested or not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                walk(child)

    walk(node)
    return found


def _loads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _argument(call: ast.Call, position: int, name: str) -> ast.AST | None:
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == name), None)


def _cell_references(source: str, notebook: dict[str, str]) -> set[str]:
    tree = _parse(source)
    if tree is None:
        return set()
    defined: dict[str, list[ast.stmt]] = {}  # the cell's own names -> the statements binding them
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.setdefault(stmt.name, []).append(stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                for n in ast.walk(target):
                    if isinstance(n, ast.Name):
                        defined.setdefault(n.id, []).append(stmt)
    roots = []
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in CHECKS:
            arg = _argument(call, 2, CHECKS[call.func.id][2])
            if arg is not None:
                roots.append(arg)
    found: set[str] = set()
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        node = todo.pop()
        local = _helper_imports(node, nested=True, any_package=True)  # what the check imports for itself
        found |= set(local.values())
        for name in _loads(node) - set(local):
            if name in seen:
                continue
            seen.add(name)
            if name in defined:
                todo += defined[name]
            elif name in notebook:
                found.add(notebook[name])
    return found


def named_references(cells: list[tuple[str, str, str | None]]) -> dict[str, set[str]]:
    """The references of every test cell of a source notebook.

    Args:
        cells: the code cells in order, as ``(kind, source, grade_id)`` with kind ``"test"``,
            ``"answer"`` (a solution cell) or ``"source"`` (the instructor's other cells).

    Returns:
        test grade_id -> {``module.name``} (test cells without references are left out).
    """
    notebook: dict[str, str] = {}
    for kind, source, _ in cells:
        tree = _parse(source)
        if tree is not None and kind != "answer":
            notebook.update(_helper_imports(tree, nested=False))
    allowed: set[str] = set()  # helpers the solution itself uses
    for kind, source, _ in cells:
        tree = _parse(source)
        if kind == "answer" and tree is not None:
            local = _helper_imports(tree, nested=True, any_package=True)
            allowed |= set(local.values()) | {notebook[n] for n in _loads(tree) - set(local) if n in notebook}
    out = {}
    for kind, source, gid in cells:
        if kind == "test" and gid:
            refs = _cell_references(source, notebook) - allowed
            refs = {r for r in refs if not r.startswith("helpers.checks.")}  # the checking itself
            if refs:
                out[gid] = refs
    return out


def _reaches(tree: ast.Module, text: str, reference: str, setup: dict[str, str], own: set[str]) -> bool:
    module, name = reference.rsplit(".", 1)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == module and \
                any(a.name in (name, "*") for a in node.names):
            return True
        if isinstance(node, ast.Attribute) and node.attr == name and module.split(".")[0] in text:
            return True
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in own \
                and setup.get(node.id) == reference:
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                (module in node.value or module.replace(".", "/") in node.value) and name in text:
            return True
    return False


def reference_flags(student_sources: list[str], setup_sources: list[str],
                    references: dict[str, set[str]]) -> list[str]:
    """Flags ``reference_used:<test cell>:<module.name>`` for references the student's cells reach.

    Args:
        student_sources: the submission's answer and extra cells.
        setup_sources: the instructor's cells that run before and between them (their imports
            are names a student's cell can read).
        references: from :func:`named_references`.
    """
    setup: dict[str, str] = {}
    for source in setup_sources:
        tree = _parse(source)
        if tree is not None:
            setup.update(_helper_imports(tree, nested=False))
    trees = [(t, s) for s in student_sources if (t := _parse(s)) is not None]
    own = set()  # names the student binds (their own function may share the reference's name)
    for tree, _ in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                own.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
    flags = []
    for gid, refs in references.items():
        for reference in sorted(refs):
            if any(_reaches(tree, text, reference, setup, own) for tree, text in trees):
                flags.append(f"reference_used:{gid}:{reference}")
    return flags
