"""Which ``helpers`` modules each chapter uses: computed from the notebooks' imports, written as a
list into the package docstring (``helpers/__init__.py``) and ``CONTRIBUTING.md``.

    python -m booktools.modules          # rewrite both lists (``make exercises`` does it)
    python -m booktools.modules --check  # exit 1 if either list is out of date
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from pathlib import Path

from booktools.book import ROOT

START, END = "module-table-start", "module-table-end"  # inside ``.. `` (reST) or ``<!-- -->`` (Markdown)
TARGETS = ("helpers/__init__.py", "CONTRIBUTING.md")
_IMPORT = re.compile(r"^\s*from (helpers(?:\.\w+)+) import|^\s*import (helpers(?:\.\w+)+)", re.M)

__all__ = ["chapter_modules", "module_table", "update", "main"]


def chapter_modules(root: Path = ROOT) -> dict[str, list[str]]:
    """``{"01_why_not_mlp": ["checks", "config", ...], ...}``: the ``helpers`` modules imported by
    each chapter notebook and its solution notebook (``helpers.`` left out), sorted."""
    table = {}
    for chapter in sorted((root / "chapters").glob("*.ipynb")):
        modules = set()
        for path in (chapter, root / "solutions" / chapter.name):
            if not path.is_file():
                continue
            for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
                if cell["cell_type"] == "code":
                    for m in _IMPORT.finditer("".join(cell["source"])):
                        modules.add((m.group(1) or m.group(2)).removeprefix("helpers."))
        table[chapter.stem] = sorted(modules)
    return table


def module_table(root: Path = ROOT) -> str:
    """The list as it stands between the markers: one wrapped line per chapter."""
    lines = []
    for chapter, modules in chapter_modules(root).items():
        lines += textwrap.wrap(f"* {chapter}: {', '.join(modules)}", width=100, subsequent_indent="  ")
    return "\n".join(lines)


def _replace(text: str, table: str, name: str) -> str:
    start, end = ((f"<!-- {START} -->", f"<!-- {END} -->") if name.endswith(".md")
                  else (f".. {START}", f".. {END}"))
    if start not in text or end not in text:
        raise ValueError(f"{name} has no '{start}' / '{end}' markers to write the module list between")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n\n{table}\n\n{end}{tail}"


def update(root: Path = ROOT, *, check: bool = False) -> list[str]:
    """Rewrite the list in every target file; return the files that were (or, with ``check``,
    would be) changed."""
    table, changed = module_table(root), []
    for name in TARGETS:
        path = root / name
        text = path.read_text(encoding="utf-8")
        new = _replace(text, table, name)
        if new != text:
            changed.append(name)
            if not check:
                path.write_text(new, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m booktools.modules", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the lists are up to date")
    args = parser.parse_args(argv)
    changed = update(check=args.check)
    for name in changed:
        print(f"{'out of date' if args.check else 'updated'}: {name} (chapter -> modules list)")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
