"""The CNN Book's helpers: the small, tested code the chapters import.

Modules, one job each:

* ``helpers.ops`` -- convolution and pooling, forward and backward, by hand in NumPy (the lesson);
* ``helpers.functional`` and ``helpers.gradcheck`` -- activations, losses, their gradients, and
  the finite-difference check;
* ``helpers.shapes`` -- output sizes, padding and parameter counts;
* ``helpers.mlp`` -- dense networks and pixel shuffling for Part I;
* ``helpers.layers`` -- activations, normalisation, losses and measurements for Part III;
* ``helpers.tinycnn`` -- a tiny NumPy CNN with a hand-written training step (Parts IV-V);
* ``helpers.config`` -- data folder and quick/full mode;
* ``helpers.checks`` -- instant ✅/❌ feedback for exercises;
* ``helpers.plot`` and ``helpers.widgets`` -- figures and interactive explorers;
* ``helpers.grading`` -- exercise notebooks generated from solutions, and the grader.
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
from helpers.layers import (
    ACTIVATIONS,
    activation,
    activation_derivative,
    activation_stds,
    batch_norm,
    best_epoch,
    binary_cross_entropy_with_logits,
    dead_relu_fraction,
    deep_mlp,
    dropout,
    elu,
    gradient_norms_per_layer,
    group_norm,
    leaky_relu,
    leaky_relu_backward,
    optimizer_path,
    plot_activation,
    plot_paths,
    plot_per_layer,
    sigmoid_focal_loss,
)
from helpers.mlp import (
    mlp,
    mlp_param_count,
    pixel_permutation,
    shuffle_pixels,
    unshuffle_pixels,
    weights_and_biases,
)
from helpers.ops import (
    avg_pool2d,
    avg_pool2d_backward,
    conv2d,
    conv2d_backward,
    max_pool2d,
    max_pool2d_backward,
)
from helpers.tinycnn import TinyCNN, accuracy, make_bars, train_classifier
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
    "ACTIVATIONS",
    "CheckFailed",
    "NotDoneYet",
    "TinyCNN",
    "accuracy",
    "activation",
    "activation_derivative",
    "activation_stds",
    "avg_pool2d",
    "avg_pool2d_backward",
    "batch_norm",
    "best_epoch",
    "binary_cross_entropy_with_logits",
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
    "dead_relu_fraction",
    "deep_mlp",
    "dense_params",
    "dropout",
    "elu",
    "gradient_check",
    "gradient_norms_per_layer",
    "group_norm",
    "is_quick",
    "leaky_relu",
    "leaky_relu_backward",
    "make_bars",
    "max_pool2d",
    "max_pool2d_backward",
    "mlp",
    "mlp_param_count",
    "mode",
    "numerical_gradient",
    "optimizer_path",
    "pixel_permutation",
    "plot_activation",
    "plot_paths",
    "plot_per_layer",
    "pool_params",
    "receptive_field",
    "relu",
    "relu_backward",
    "same_padding",
    "sample_photo",
    "shuffle_pixels",
    "sigmoid",
    "sigmoid_backward",
    "sigmoid_focal_loss",
    "softmax",
    "train_classifier",
    "unshuffle_pixels",
    "weights_and_biases",
]
