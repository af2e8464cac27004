"""The shape of the ``helpers`` package: one import path per public name, no private name used
across modules, small modules, no authoring tools inside, a light NumPy part, a true module list."""

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import helpers
from booktools.modules import update

PACKAGE = Path(helpers.__file__).parent
MODULES = sorted(m.name for m in pkgutil.walk_packages(helpers.__path__, "helpers.") if not m.ispkg)
PACKAGES = ["helpers"] + sorted(m.name for m in pkgutil.walk_packages(helpers.__path__, "helpers.") if m.ispkg)


def _source(name: str) -> Path:
    return PACKAGE.parent.joinpath(*name.split(".")).with_suffix(".py")


def _defined(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_the_package_has_rooms_not_one_flat_room():
    assert {p.split(".")[1] for p in PACKAGES[1:]} == {"scratch", "models", "data", "training", "analysis",
                                                       "figures", "widgets"}
    flat = [m for m in MODULES if m.count(".") == 1]
    assert flat == ["helpers.checks", "helpers.config"]


@pytest.mark.parametrize("name", MODULES)
def test_each_module_defines_exactly_what_its_all_says(name):
    module = importlib.import_module(name)
    tree = ast.parse(_source(name).read_text())
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    defined = _defined(tree)
    for public in module.__all__:
        assert public in defined, f"{name}.__all__ lists {public!r}, which it does not define (a re-export?)"
    assert len(set(module.__all__)) == len(module.__all__), f"{name}.__all__ lists a name twice"


def test_one_import_path_per_public_name():
    where = {}
    for name in MODULES:
        for public in importlib.import_module(name).__all__:
            where.setdefault(public, []).append(name)
    twice = {k: v for k, v in where.items() if len(v) > 1}
    assert not twice, f"defined and exported by more than one module: {twice}"


@pytest.mark.parametrize("name", PACKAGES)
def test_packages_export_nothing_themselves(name):
    package = importlib.import_module(name)
    tree = ast.parse(Path(package.__file__).read_text())
    assert not [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))], \
        f"{name}/__init__.py imports something: the modules are the one import path"
    assert not getattr(package, "__all__", [])


@pytest.mark.parametrize("name", MODULES)
def test_no_private_name_is_imported_across_modules(name):
    tree = ast.parse(_source(name).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private, f"{name} imports private {private} from {node.module}: make it public there"


@pytest.mark.parametrize("name", MODULES)
def test_modules_are_small(name):
    lines = len(_source(name).read_text().splitlines())
    assert lines <= 300, f"{name} has {lines} lines; split it by job (at most about 300)"


def test_figures_are_drawn_only_in_helpers_figures():
    for name in MODULES:
        if name.startswith(("helpers.figures.", "helpers.widgets.")):
            continue
        text = _source(name).read_text()
        for drawing in ("pyplot", "matplotlib.axes", "matplotlib.figure", ".imshow(", ".plot("):
            assert drawing not in text, f"{name} draws ({drawing}): figures belong in helpers.figures"


def test_no_authoring_tools_in_the_student_package():
    for name in MODULES:
        text = _source(name).read_text()
        for tool in ("nbformat", "nbclient", "jupyter_client", "booktools", "sphinx"):
            assert tool not in text, f"{name} mentions {tool}: authoring tools live in tools/booktools"


def test_the_numpy_lessons_import_without_torch():
    code = ("import sys, helpers, helpers.config, helpers.checks, helpers.scratch.conv, helpers.scratch.pool, "
            "helpers.scratch.functional, helpers.scratch.shapes, helpers.scratch.gradcheck; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False", "importing the NumPy lessons must not import torch"


def test_the_chapter_module_lists_are_up_to_date():
    stale = update(check=True)
    assert not stale, f"run `make exercises` (python -m booktools.modules): {stale} list old imports"


def test_checkpoints_ship_with_the_package():
    from helpers.training.checkpoints import SHIPPED, shipped_folder

    assert shipped_folder() == PACKAGE / "checkpoints"
    for name in SHIPPED:
        assert (shipped_folder() / f"{name}.pt").is_file(), name
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text()
    assert 'helpers = ["checkpoints/*.pt"]' in pyproject
