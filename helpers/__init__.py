"""The CNN Book's helpers: the small, tested code the chapters import.

Modules, one job each:

* ``helpers.ops`` -- convolution and pooling written by hand in NumPy (the lesson);
* ``helpers.shapes`` -- output sizes, padding and parameter counts;
* ``helpers.config`` -- data folder and quick/full mode;
* ``helpers.checks`` -- instant ✅/❌ feedback for exercises;
* ``helpers.plot`` and ``helpers.widgets`` -- figures and interactive explorers;
* ``helpers.grading`` -- exercise generation from solutions (and, later, grading).
"""

from helpers.checks import CheckFailed, NotDoneYet, check, check_function
from helpers.config import data_root, is_quick, mode
from helpers.ops import avg_pool2d, conv2d, max_pool2d
from helpers.shapes import (
    conv_output_size,
    conv_params,
    count_params,
    dense_params,
    pool_params,
    receptive_field,
    same_padding,
)

__version__ = "0.1.0"

__all__ = [
    "CheckFailed",
    "NotDoneYet",
    "avg_pool2d",
    "check",
    "check_function",
    "conv2d",
    "conv_output_size",
    "conv_params",
    "count_params",
    "data_root",
    "dense_params",
    "is_quick",
    "max_pool2d",
    "mode",
    "pool_params",
    "receptive_field",
    "same_padding",
]
