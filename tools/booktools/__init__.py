"""The CNN Book's authoring and instructor tools -- not part of the student package ``helpers``.

* :mod:`booktools.book` -- notebooks' Colab set-up cells, the table of contents, re-execution
  (``make exercises``, ``make execute``);
* :mod:`booktools.modules` -- the chapter -> ``helpers`` modules list in the package docstring and
  CONTRIBUTING.md (``make exercises`` rewrites it, a test checks it);
* :mod:`booktools.colab` -- a Colab-like runtime for the tests: the package installed from a git
  URL by the notebooks' own set-up cell, each notebook alone in an empty folder;
* :mod:`booktools.site` -- the little web server and link checker behind the browser test;
* :mod:`booktools.sphinx_fixes` -- a Sphinx extension the book build loads;
* :mod:`booktools.grading` -- exercise notebooks generated from solutions, and the grader
  (``make grade``).

``make`` installs this package (editable) into ``.venv`` next to ``helpers``; a student's
``pip install`` of the course package in Colab brings only ``helpers``.
"""
