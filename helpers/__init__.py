"""The CNN Book's helpers: the small, tested code the chapters import.

Every public name is importable from ``helpers`` directly (``from helpers import conv2d``); each
module is imported on first use, so ``import helpers`` stays fast (no torch until it is needed).

Modules, one job each:

* ``helpers.ops`` -- convolution and pooling, forward and backward, by hand in NumPy (the lesson);
* ``helpers.functional`` and ``helpers.gradcheck`` -- activations, losses, their gradients, and
  the finite-difference check;
* ``helpers.shapes`` -- output sizes, padding and parameter counts;
* ``helpers.mlp`` -- dense networks and pixel shuffling for Part I;
* ``helpers.layers`` -- activations, normalisation, losses and measurements for Part III;
* ``helpers.tinycnn`` -- a tiny NumPy CNN with a hand-written training step (Parts IV-V);
* ``helpers.data`` (with ``helpers.standins``) -- MNIST, Fashion-MNIST, CIFAR-10 and image folders,
  with clear errors offline and labelled stand-ins in quick mode;
* ``helpers.models`` and ``helpers.train`` -- the Part VI networks and a fast ``fit``;
* ``helpers.plot_training`` -- training curves, filters and feature maps;
* ``helpers.attention`` and ``helpers.transfer`` -- SE and CBAM modules; preparing a model for
  feature extraction or fine-tuning (Parts VII-VIII);
* ``helpers.transfer_data`` and ``helpers.pretrained`` -- source and target tasks cut from one
  data set, image folders written to disk; torchvision's ImageNet weights with a clear error
  offline (Part VIII);
* ``helpers.blocks``, ``helpers.zoo`` and ``helpers.resnets`` -- the classic architectures'
  building blocks; torchvision's reference models measured (parameters, depth, FLOPs) and the
  ImageNet timeline; a small CIFAR ResNet and the plain-vs-skip gradient experiment (Part VII);
* ``helpers.metrics`` and ``helpers.plot_metrics`` -- every Part IX metric, on scikit-learn, and
  its figures (confusion matrix, ROC curves, per-class bars, confused pairs);
* ``helpers.interpret`` and ``helpers.plot_interpret`` -- Grad-CAM, Grad-CAM++ and CAM by hand,
  Captum's attributions, the randomisation sanity check, heat-map overlays (Part X);
* ``helpers.nd_data`` and ``helpers.nd_models`` -- generated signals, DNA, volumes and masks;
  1-D/3-D CNNs, a tiny U-Net, a training loop for any rank, IoU and Dice (Part XI);
* ``helpers.config`` -- data folder and quick/full mode;
* ``helpers.checks`` -- instant ✅/❌ feedback for exercises;
* ``helpers.plot`` and ``helpers.widgets`` -- figures and interactive explorers;
* ``booktools.grading`` -- exercise notebooks generated from solutions, and the grader.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "ACTIVATIONS": "helpers.layers",
    "ARCHITECTURES": "helpers.zoo",
    "BasicBlock": "helpers.blocks",
    "Bottleneck": "helpers.blocks",
    "CAM": "helpers.interpret",
    "CBAM": "helpers.attention",
    "CheckFailed": "helpers.checks",
    "CifarCNN": "helpers.models",
    "CifarResNet": "helpers.resnets",
    "ConvNetND": "helpers.nd_models",
    "ConvStack": "helpers.resnets",
    "DataError": "helpers.data",
    "DataNotFoundError": "helpers.data",
    "Dataset": "helpers.data",
    "DenseBlock": "helpers.blocks",
    "DepthwiseSeparable": "helpers.blocks",
    "FrozenStatsBatchNorm2d": "helpers.transfer",
    "GradCAM": "helpers.interpret",
    "GradCAMPlusPlus": "helpers.interpret",
    "History": "helpers.train",
    "IMAGENET_TOP5": "helpers.zoo",
    "Inception": "helpers.blocks",
    "InvertedResidual": "helpers.blocks",
    "LeNet5": "helpers.models",
    "MBConv": "helpers.blocks",
    "MLP": "helpers.models",
    "NotDoneYet": "helpers.checks",
    "SEBlock": "helpers.attention",
    "TinyCNN": "helpers.tinycnn",
    "TinyUNet": "helpers.nd_models",
    "WeightsUnavailableError": "helpers.pretrained",
    "accuracy": "helpers.tinycnn",
    "activation": "helpers.layers",
    "activation_derivative": "helpers.layers",
    "activation_stds": "helpers.layers",
    "architecture_summary": "helpers.zoo",
    "as_rgb": "helpers.plot_interpret",
    "avg_pool2d": "helpers.ops",
    "avg_pool2d_backward": "helpers.ops",
    "batch_norm": "helpers.layers",
    "best_epoch": "helpers.layers",
    "binary_cross_entropy_with_logits": "helpers.layers",
    "build_reference": "helpers.zoo",
    "captum_attribution": "helpers.interpret",
    "cascading_randomization": "helpers.interpret",
    "cbam_params": "helpers.attention",
    "check": "helpers.checks",
    "check_function": "helpers.checks",
    "classification_models": "helpers.pretrained",
    "conv2d": "helpers.ops",
    "conv2d_backward": "helpers.ops",
    "conv_bn": "helpers.blocks",
    "conv_gradient_norms": "helpers.resnets",
    "conv_output_shape": "helpers.nd_models",
    "conv_output_size": "helpers.shapes",
    "conv_params": "helpers.shapes",
    "conv_params_nd": "helpers.nd_models",
    "count_flops": "helpers.zoo",
    "count_params": "helpers.shapes",
    "cross_entropy": "helpers.functional",
    "cross_entropy_backward": "helpers.functional",
    "data_root": "helpers.config",
    "dead_relu_fraction": "helpers.layers",
    "deep_mlp": "helpers.layers",
    "dense_params": "helpers.shapes",
    "dice_score": "helpers.nd_models",
    "dropout": "helpers.layers",
    "elu": "helpers.layers",
    "evaluate": "helpers.train",
    "evaluate_tensors": "helpers.nd_models",
    "example_histories": "helpers.plot_training",
    "find_head": "helpers.transfer",
    "fit": "helpers.train",
    "fit_tensors": "helpers.nd_models",
    "format_report": "helpers.metrics",
    "gradcam_maps": "helpers.interpret",
    "gradcam_weights": "helpers.interpret",
    "gradcampp_weights": "helpers.interpret",
    "gradient_check": "helpers.gradcheck",
    "gradient_norms_per_layer": "helpers.layers",
    "grid_segments": "helpers.interpret",
    "group_norm": "helpers.layers",
    "heatmap": "helpers.interpret",
    "image_folder": "helpers.data",
    "iou_score": "helpers.nd_models",
    "is_quick": "helpers.config",
    "labels_from_confusion": "helpers.metrics",
    "leaky_relu": "helpers.layers",
    "leaky_relu_backward": "helpers.layers",
    "load_checkpoint": "helpers.train",
    "load_dataset": "helpers.data",
    "make_bars": "helpers.tinycnn",
    "make_motif_sequences": "helpers.nd_data",
    "make_segmentation": "helpers.nd_data",
    "make_signals": "helpers.nd_data",
    "make_volumes": "helpers.nd_data",
    "max_pool2d": "helpers.ops",
    "max_pool2d_backward": "helpers.ops",
    "mlp": "helpers.mlp",
    "mlp_param_count": "helpers.mlp",
    "mode": "helpers.config",
    "model_depth": "helpers.zoo",
    "mosaic": "helpers.plot_training",
    "most_confused": "helpers.metrics",
    "normalize_maps": "helpers.interpret",
    "numerical_gradient": "helpers.gradcheck",
    "optimizer_path": "helpers.layers",
    "overlay": "helpers.plot_interpret",
    "pick_device": "helpers.train",
    "pixel_permutation": "helpers.mlp",
    "plot_activation": "helpers.layers",
    "plot_confusion": "helpers.plot_metrics",
    "plot_history": "helpers.plot_training",
    "plot_paths": "helpers.layers",
    "plot_per_class": "helpers.plot_metrics",
    "plot_per_layer": "helpers.layers",
    "plot_randomization": "helpers.plot_interpret",
    "plot_roc": "helpers.plot_metrics",
    "plot_signals": "helpers.nd_data",
    "plot_top5_timeline": "helpers.zoo",
    "pool_params": "helpers.shapes",
    "predict": "helpers.train",
    "predict_tensors": "helpers.nd_models",
    "prepare": "helpers.transfer",
    "pretrained": "helpers.pretrained",
    "rank_correlation": "helpers.interpret",
    "receptive_field": "helpers.shapes",
    "relu": "helpers.functional",
    "relu_backward": "helpers.functional",
    "report": "helpers.metrics",
    "resolve_targets": "helpers.interpret",
    "same_padding": "helpers.shapes",
    "sample_photo": "helpers.images",
    "save_checkpoint": "helpers.train",
    "se_params": "helpers.attention",
    "select_classes": "helpers.transfer_data",
    "set_seed": "helpers.train",
    "show_attributions": "helpers.plot_interpret",
    "show_confused_pairs": "helpers.plot_metrics",
    "show_feature_maps": "helpers.plot_training",
    "show_filters": "helpers.plot_training",
    "show_masks": "helpers.nd_data",
    "show_rgb_filters": "helpers.plot_interpret",
    "shuffle_pixels": "helpers.mlp",
    "sigmoid": "helpers.functional",
    "sigmoid_backward": "helpers.functional",
    "sigmoid_focal_loss": "helpers.layers",
    "softmax": "helpers.functional",
    "specificity": "helpers.metrics",
    "to_input": "helpers.train",
    "torchvision_meta": "helpers.zoo",
    "train_classifier": "helpers.tinycnn",
    "unshuffle_pixels": "helpers.mlp",
    "waveform": "helpers.nd_data",
    "weighted_map": "helpers.interpret",
    "weights_and_biases": "helpers.mlp",
    "weights_file": "helpers.pretrained",
    "write_image_folder": "helpers.transfer_data",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
