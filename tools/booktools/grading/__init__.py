"""Exercise notebooks: generated from the solution notebooks (nbgrader's format) and graded.

``solutions/NN_topic.ipynb`` is the single source of truth. It uses nbgrader's version-3 cell
metadata (``solution``, ``grade``, ``grade_id``, ``points``, ``locked``) and
``### BEGIN SOLUTION`` / ``### END SOLUTION`` regions, so an instructor can take it to nbgrader
(with ``nbgrader_config.py``, see :mod:`booktools.grading.nbgrader_plugin`).
``python -m booktools.grading generate solutions exercises`` writes the student versions;
``python -m booktools.grading grade --source ... --out gradebook.csv SUBMISSION...`` grades a
class: each test cell is split (:mod:`~booktools.grading.split`) into an expected side, run once
on the source in a trusted kernel (:mod:`~booktools.grading.reference`), and the student's side,
run in the submission's bubblewrap sandbox (:mod:`~booktools.grading.sandbox`) and sent out as
plain data (:mod:`~booktools.grading.codec`); the verdicts are reached in the grader's own
process (:mod:`~booktools.grading.judge`, :mod:`~booktools.grading.grader`).
"""

from booktools.grading.generate import generate_exercise, generate_all, exercise_label

__all__ = ["generate_exercise", "generate_all", "exercise_label"]
