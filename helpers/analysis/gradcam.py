"""Explaining a CNN's predictions: CAM, Grad-CAM and Grad-CAM++ by hand; Captum for the rest.

* :class:`GradCAM` (and :class:`GradCAMPlusPlus`, :class:`CAM`, which share its hook code):
  ``with GradCAM(model, model.features[4]) as cam: maps = cam(x)`` gives ``ndarray[N, H, W]`` in
  [0, 1], upsampled to the input size. The hook is removed when the ``with`` block ends.
* The three steps of every class-activation map, on arrays or tensors: :func:`gradcam_weights`
  (or :func:`gradcampp_weights`), :func:`weighted_map`, :func:`normalize_maps`.
* :func:`captum_attribution`: guided backpropagation, occlusion, integrated gradients and LIME
  through Captum, with the same targets and the model's mode left as it was.
* The sanity check of Adebayo et al. (2018): :func:`cascading_randomization` re-initialises the
  layers from the top down and measures how much the maps change (:func:`rank_correlation`).

Every function works on the CPU and on a GPU: tensors stay on the device of the input.
"""

from __future__ import annotations

import contextlib
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["gradcam_weights", "gradcampp_weights", "weighted_map", "normalize_maps", "resolve_targets", "GradCAM", "GradCAMPlusPlus", "CAM", "gradcam_maps", "as_float_tensor", "check_input", "eval_mode"]


def as_float_tensor(a, name: str, ndim: int) -> torch.Tensor:
    t = a.detach() if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a, dtype=np.float64))
    if t.ndim != ndim or not t.is_floating_point():
        raise ValueError(f"{name} must be a float array with {ndim} dimensions; got {t.dtype} of shape "
                         f"{tuple(t.shape)}")
    return t


def gradcam_weights(gradients) -> torch.Tensor:
    """Grad-CAM's channel weights ``(N, K)``: ``alpha_k = mean_ij g_k[i, j]``, ``g = dscore/dA (N, K, h, w)``."""
    return as_float_tensor(gradients, "gradients", 4).mean(dim=(2, 3))  # (N, K)


def gradcampp_weights(gradients, activations) -> torch.Tensor:
    """Grad-CAM++'s channel weights ``(N, K)`` (Chattopadhay et al. 2018, exponential score).

    ``w_k = sum_ij a_kij relu(g_kij)`` with ``a_kij = g^2 / (2 g^2 + sum_ab A_kab g^3)`` (0 where
    ``g = 0``); ``gradients`` ``g = dscore/dA`` and ``activations`` ``A`` are ``(N, K, h, w)``.
    """
    g = as_float_tensor(gradients, "gradients", 4)
    a = as_float_tensor(activations, "activations", 4).to(g)
    if a.shape != g.shape:
        raise ValueError(f"activations and gradients must have the same shape; got {tuple(a.shape)} "
                         f"and {tuple(g.shape)}")
    g2, g3 = g.pow(2), g.pow(3)
    denom = 2 * g2 + a.sum(dim=(2, 3), keepdim=True) * g3  # (N, K, h, w)
    alpha = torch.where(g != 0, g2 / torch.where(denom != 0, denom, torch.ones_like(denom)),
                        torch.zeros_like(g))
    return (alpha * F.relu(g)).sum(dim=(2, 3))  # (N, K)


def weighted_map(activations, weights) -> torch.Tensor:
    """``relu(sum_k w_k A_k)``, tensor ``(N, h, w)``: activations ``(N, K, h, w)``, weights ``(N, K)`` or ``(K,)``."""
    a = as_float_tensor(activations, "activations", 4)
    w = weights.detach() if isinstance(weights, torch.Tensor) else torch.as_tensor(np.asarray(weights, float))
    w = w.to(a).expand(a.shape[0], -1) if w.ndim == 1 else w.to(a)
    if w.shape != a.shape[:2]:
        raise ValueError(f"weights must be (N, K) = {tuple(a.shape[:2])} (one per channel); got {tuple(w.shape)}")
    return F.relu((w[:, :, None, None] * a).sum(dim=1))  # (N, h, w)


def normalize_maps(maps) -> torch.Tensor:
    """Each map of ``(N, H, W)`` scaled to [0, 1]: ``(m - min) / (max - min)``; a constant map -> zeros."""
    m = as_float_tensor(maps, "maps", 3)
    lo = m.amin(dim=(1, 2), keepdim=True)
    span = m.amax(dim=(1, 2), keepdim=True) - lo
    return torch.where(span > 0, (m - lo) / torch.where(span > 0, span, torch.ones_like(span)),
                       torch.zeros_like(m))


def resolve_targets(logits: torch.Tensor, target=None) -> torch.Tensor:
    """int64 ``(N,)`` classes from logits ``(N, classes)``: ``target`` None (the prediction), an int, or N ints."""
    n, classes = logits.shape
    if target is None:
        return logits.argmax(dim=1)
    t = torch.as_tensor(target, device=logits.device)
    if t.is_floating_point() or t.dtype == torch.bool:
        raise TypeError(f"target must be None, an int or integer class indices; got {t.dtype}")
    t = t.long().expand(n) if t.ndim == 0 else t.long()
    if t.shape != (n,):
        raise ValueError(f"target must be None, an int or one class per image ({n}); got shape {tuple(t.shape)}")
    if n and (int(t.min()) < 0 or int(t.max()) >= classes):
        raise ValueError(f"target must hold class indices in 0..{classes - 1} (the model has {classes} "
                         f"outputs); got values from {int(t.min())} to {int(t.max())}")
    return t


def check_input(x) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        got = f"{x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"x must be a float tensor (N, C, H, W), e.g. helpers.training.inputs.to_input(images); got {got}")


@contextlib.contextmanager
def eval_mode(model: nn.Module):
    """Evaluation mode inside the block; every module's own mode restored afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, training in modes:
            m.training = training


class GradCAM:
    """Grad-CAM (Selvaraju et al. 2017): ``relu(sum_k alpha_k A_k)`` with ``alpha_k`` the mean gradient.

    A context manager: ``with GradCAM(model, layer) as cam: maps = cam(x)``; the forward hook on
    ``target_layer`` is removed when the block ends (or by :meth:`remove`). The model runs in
    evaluation mode during a call and gets its own mode back; parameters' ``.grad`` are not touched,
    and parameters need not have ``requires_grad``.

    Args:
        model: a classifier, ``(N, C, H, W) -> logits (N, classes)``.
        target_layer: one of ``model``'s modules whose output ``A`` is ``(N, K, h, w)``.
    """

    def __init__(self, model: nn.Module, target_layer: nn.Module):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
        if not isinstance(target_layer, nn.Module) or not any(m is target_layer for m in model.modules()):
            raise ValueError(f"target_layer must be a module inside model (e.g. model.features[4]); got "
                             f"{type(target_layer).__name__}, which is not one of its modules (a copy's "
                             "layers are not the original's: take the layer from the model you pass)")
        self.model, self.target_layer = model, target_layer
        self._activations: torch.Tensor | None = None
        self._handle = target_layer.register_forward_hook(self._save)

    def _save(self, _module, _inputs, output):
        self._activations = output
        if isinstance(output, torch.Tensor):  # later in-place ops (ReLU(inplace=True), +=) then change
            return output.clone()  # the copy the model goes on with, not A (Captum does the same)

    def __enter__(self) -> GradCAM:
        return self

    def __exit__(self, *_exc) -> None:
        self.remove()

    def remove(self) -> None:
        """Remove the hook (safe to call twice)."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
        self._activations = None

    def activations_and_gradients(self, x: torch.Tensor, target=None):
        """One pass: ``A, dscore/dA`` ``(N, K, h, w)``, targets ``(N,)``, logits ``(N, classes)``, detached."""
        if self._handle is None:
            raise RuntimeError("this GradCAM's hook was removed (its `with` block ended): make a new one")
        check_input(x)
        try:
            with eval_mode(self.model), torch.enable_grad():
                logits = self.model(x.detach().requires_grad_(True))  # grads flow even with frozen weights
                acts = self._activations
                if not isinstance(acts, torch.Tensor) or acts.ndim != 4:
                    raise ValueError("target_layer must produce a (N, K, h, w) tensor in model's forward pass; "
                                     f"got {type(acts).__name__ if acts is None else tuple(acts.shape)}")
                if logits.ndim != 2:
                    raise ValueError(f"model must return logits (N, classes); got shape {tuple(logits.shape)}")
                targets = resolve_targets(logits.detach(), target)
                score = logits.gather(1, targets[:, None]).sum()
                (grads,) = torch.autograd.grad(score, acts)
        finally:
            self._activations = None
        return acts.detach(), grads.detach(), targets, logits.detach()

    def channel_weights(self, activations, gradients, targets) -> torch.Tensor:
        """``(N, K)`` weights of the channels; Grad-CAM: the mean gradient."""
        return gradcam_weights(gradients)

    def layer_maps(self, x: torch.Tensor, target=None) -> torch.Tensor:
        """Un-normalised maps at the layer's resolution, ``(N, h, w)``, zero or positive."""
        acts, grads, targets, _ = self.activations_and_gradients(x, target)
        return weighted_map(acts, self.channel_weights(acts, grads, targets))

    def __call__(self, x: torch.Tensor, target=None) -> np.ndarray:
        """Maps ``ndarray[N, H, W]``, upsampled (bilinear) to the size of ``x`` ``(N, C, H, W)``, each in [0, 1].

        ``target``: ``None`` (each image's predicted class), an int, or one class per image.
        """
        maps = self.layer_maps(x, target)[:, None]  # (N, 1, h, w)
        maps = F.interpolate(maps, size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)
        return normalize_maps(maps[:, 0]).cpu().numpy()

    cam = __call__


class GradCAMPlusPlus(GradCAM):
    """Grad-CAM++: channel weights from :func:`gradcampp_weights` (positive gradients, weighted)."""

    def channel_weights(self, activations, gradients, targets) -> torch.Tensor:
        return gradcampp_weights(gradients, activations)


class CAM(GradCAM):
    """CAM (Zhou et al. 2016) for a model ending in global average pooling of ``target_layer`` and
    ``fc``: an ``nn.Linear`` with one input per channel, or a 1x1 ``nn.Conv2d`` (SqueezeNet's
    classifier, applied at every position before the pooling). Class ``c``'s channel weights are
    ``fc``'s weights of output ``c``; the map is ``relu(sum_k w_ck A_k)`` (no bias, as in the paper)."""

    def __init__(self, model: nn.Module, target_layer: nn.Module, fc: nn.Module):
        if not (isinstance(fc, nn.Linear) or (isinstance(fc, nn.Conv2d) and fc.kernel_size == (1, 1)
                                              and fc.groups == 1)):
            raise TypeError(f"fc must be the nn.Linear after the global average pooling, or a 1x1 nn.Conv2d "
                            f"before it; got {fc}")
        super().__init__(model, target_layer)
        self.fc = fc

    def channel_weights(self, activations, gradients, targets) -> torch.Tensor:
        inputs = self.fc.in_features if isinstance(self.fc, nn.Linear) else self.fc.in_channels
        if inputs != activations.shape[1]:
            raise ValueError(f"fc must have one input per channel of target_layer ({activations.shape[1]}); "
                             f"it has {inputs}")
        weight = self.fc.weight.detach().reshape(self.fc.weight.shape[0], -1)  # (classes, K)
        return weight[targets].to(activations)  # (N, K)


def gradcam_maps(model: nn.Module, x: torch.Tensor, target=None, *, layer: str,
                 plus_plus: bool = False) -> np.ndarray:
    """Grad-CAM (or ++) maps ``ndarray[N, H, W]`` of the layer named ``layer`` (``"features.4"``)."""
    modules = dict(model.named_modules())
    if layer not in modules:
        raise ValueError(f"layer must name a module of model, one of {sorted(k for k in modules if k)}; got {layer!r}")
    with (GradCAMPlusPlus if plus_plus else GradCAM)(model, modules[layer]) as cam:
        return cam(x, target)
