"""nbgrader configuration for the CNN Book (see instructors.md, "Taking the notebooks to nbgrader").

Copy this file into your nbgrader course folder (next to ``source/``) or run nbgrader from the
repository root. ``nbgrader generate_assignment`` then writes the same student notebooks as
``make exercises``: pencil-and-paper answers become ``answer_2_1 = ...`` (so the check cell says
⏳ "not done yet" rather than failing with a NameError), function bodies raise
``NotImplementedError("Exercise 2.6: ...")``, and the title loses its " — solutions" suffix.
It needs the tools package installed (``make install`` does it; or ``pip install -e ./tools``).
"""

from booktools.grading.nbgrader_plugin import configure

configure(get_config())  # noqa: F821 (nbgrader defines get_config when it reads this file)
