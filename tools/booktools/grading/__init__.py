"""Exercise notebooks: generated from the solution notebooks (nbgrader's format) and graded.

``solutions/NN_topic.ipynb`` is the single source of truth. It uses nbgrader's version-3 cell
metadata (``solution``, ``grade``, ``grade_id``, ``points``, ``locked``) and
``### BEGIN SOLUTION`` / ``### END SOLUTION`` regions, so an instructor can take it to nbgrader
unchanged. ``python -m booktools.grading generate solutions exercises`` writes the student
versions; ``python -m booktools.grading grade --source ... --out gradebook.csv SUBMISSION...``
grades a class (see :mod:`booktools.grading.grader`).
"""

from booktools.grading.generate import generate_exercise, generate_all, exercise_label

__all__ = ["generate_exercise", "generate_all", "exercise_label"]
