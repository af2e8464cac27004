"""The CNN Book's helpers: the small, tested code the chapters import.

Modules, one job each:

* ``helpers.ops`` -- convolution and pooling, forward and backward, by hand in NumPy (the lesson);
* ``helpers.functional`` and ``helpers.gradcheck`` -- activations, losses, their gradients, and
  the finite-difference check;
* ``helpers.shapes`` -- output sizes, padding and parameter counts;
* ``helpers.config`` -- data folder and quick/full mode;
* ``helpers.checks`` -- instant ✅/❌ feedback for exercises;
* ``helpers.plot`` and ``helpers.widgets`` -- figures and interactive explorers;
* ``helpers.grading`` -- exercise generation from solutions (and, later, grading).
"""

from helpers.checks import CheckFailed, NotDoneYet, check, check_function
from helpers.config import data_root, is_quick, mode
from helpers.functional import (
    cross_entropy,
    cross_entropy_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax,
)
from helpers.gradcheck import gradient_check, numerical_gradient
from helpers.images import sample_photo
from helpers.ops import (
    avg_pool2d,
    avg_pool2d_backward,
    conv2d,
    conv2d_backward,
    max_pool2d,
    max_pool2d_backward,
)
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
    "avg_pool2d_backward",
    "check",
    "check_function",
    "conv2d",
    "conv2d_backward",
    "conv_output_size",
    "conv_params",
    "count_params",
    "cross_entropy",
    "cross_entropy_backward",
    "data_root",
    "dense_params",
    "gradient_check",
    "is_quick",
    "max_pool2d",
    "max_pool2d_backward",
    "mode",
    "numerical_gradient",
    "pool_params",
    "receptive_field",
    "relu",
    "relu_backward",
    "same_padding",
    "sample_photo",
    "sigmoid",
    "sigmoid_backward",
    "softmax",
]
