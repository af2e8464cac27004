"""Captum's attribution methods behind one call, heat maps from attributions, rank correlation, and the cascading-randomisation sanity check (Part X).
"""

from __future__ import annotations

import copy
from typing import Callable, Mapping
import numpy as np
import torch
from torch import nn
from helpers.analysis.gradcam import as_float_tensor, check_input, eval_mode, normalize_maps, resolve_targets

__all__ = ["CAPTUM_METHODS", "grid_segments", "captum_attribution", "heatmap", "rank_correlation", "cascading_randomization"]


CAPTUM_METHODS = ("guided_backprop", "occlusion", "integrated_gradients", "lime")


def grid_segments(height: int, width: int, cell: int) -> torch.Tensor:
    """LIME's interpretable features: square patches ``cell x cell``, numbered row by row, ``(H, W)``."""
    if not isinstance(cell, int) or cell < 1 or height % cell or width % cell:
        raise ValueError(f"cell must be an int dividing the image size {height}x{width}; got {cell!r}")
    rows = torch.arange(height)[:, None] // cell
    cols = torch.arange(width)[None, :] // cell
    return rows * (width // cell) + cols  # (H, W)


def captum_attribution(model: nn.Module, x: torch.Tensor, method: str, target=None, *,
                       window: int = 4, stride: int = 2, steps: int = 50, cell: int = 4,
                       samples: int = 300, seed: int = 0) -> torch.Tensor:
    """A per-pixel attribution ``(N, C, H, W)`` from Captum, for ``target`` (None = the prediction).

    The baseline ("absence of evidence") is 0 in the model's input scale: a mid-grey image for
    :func:`helpers.training.inputs.to_input` inputs.

    Args:
        method: ``"guided_backprop"``, ``"occlusion"`` (a ``window`` square of grey slid by
            ``stride``), ``"integrated_gradients"`` (``steps`` points on the path from the baseline)
            or ``"lime"`` (``samples`` perturbations of ``cell`` x ``cell`` patches, one image at a time).
    """
    import warnings

    from captum.attr import GuidedBackprop, IntegratedGradients, Lime, Occlusion

    check_input(x)
    if method not in CAPTUM_METHODS:
        raise ValueError(f"method must be one of {CAPTUM_METHODS}; got {method!r}")
    c, h, w = x.shape[1:]
    x = x.detach().clone().requires_grad_(method in ("guided_backprop", "integrated_gradients"))
    with eval_mode(model), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")  # removed afterwards
        with torch.no_grad():
            targets = resolve_targets(model(x), target)
        if method == "guided_backprop":
            attr = GuidedBackprop(model).attribute(x, target=targets)
        elif method == "occlusion":
            attr = Occlusion(model).attribute(x, target=targets, sliding_window_shapes=(c, window, window),
                                              strides=(c, stride, stride), baselines=0.0, perturbations_per_eval=32)
        elif method == "integrated_gradients":
            attr = IntegratedGradients(model).attribute(x, baselines=0.0, target=targets, n_steps=steps)
        else:
            mask = grid_segments(h, w, cell).to(x.device)[None, None].expand(1, c, h, w)
            torch.manual_seed(seed)
            attr = torch.cat([Lime(model).attribute(x[i:i + 1], target=int(targets[i]), feature_mask=mask,
                                                    n_samples=samples, baselines=0.0, perturbations_per_eval=50)
                              for i in range(x.shape[0])])
    return attr.detach()


def heatmap(attribution) -> np.ndarray:
    """``(N, C, H, W)`` attribution -> ``ndarray[N, H, W]`` in [0, 1]: |sum over channels|, scaled."""
    a = as_float_tensor(attribution, "attribution", 4)
    return normalize_maps(a.sum(dim=1).abs()).cpu().numpy()


def rank_correlation(maps_a, maps_b) -> np.ndarray:
    """Spearman rank correlation of each pair of maps ``(N, H, W)``, ``ndarray[N]``; NaN for a constant map."""
    from scipy.stats import rankdata

    a = as_float_tensor(maps_a, "maps_a", 3).cpu().numpy().reshape(len(maps_a), -1)
    b = as_float_tensor(maps_b, "maps_b", 3).cpu().numpy().reshape(len(maps_b), -1)
    if a.shape != b.shape:
        raise ValueError(f"maps_a and maps_b must have the same shape; got {a.shape} and {b.shape} (flattened)")
    ra, rb = rankdata(a, axis=1), rankdata(b, axis=1)
    ra, rb = ra - ra.mean(1, keepdims=True), rb - rb.mean(1, keepdims=True)
    denom = np.sqrt((ra**2).sum(1) * (rb**2).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (ra * rb).sum(1) / np.where(denom > 0, denom, 1.0), np.nan)


def cascading_randomization(model: nn.Module, explain: Callable[..., np.ndarray], x: torch.Tensor,
                            target, *, seed: int = 0, stages: list[str] | None = None) -> Mapping[str, np.ndarray]:
    """Re-initialise the layers one by one from the output down; compare each stage's maps with the trained ones.

    Args:
        model: the trained model (left unchanged; a copy is randomised).
        explain: ``explain(model, x, target) -> ndarray[N, H, W]``, e.g. ``functools.partial(gradcam_maps,
            layer="features.4")``.
        x: float ``(N, C, H, W)``; target: fixed classes (not re-predicted by the random model).
        seed: seeds each stage's re-initialisation.
        stages: module names, from the output down (``["classifier", "features.12", ...]``): each stage
            re-initialises every layer with parameters inside that module, on top of the stages before
            it. Default: every layer with parameters on its own, from the last to the first.

    Returns:
        ``{"trained": ndarray[N] (all 1), "<stage>": ndarray[N], ...}``: the Spearman rank correlation
        per image after randomising that stage and every stage above it.
    """
    reference = explain(model, x, target)
    randomized = copy.deepcopy(model)
    own = lambda m: hasattr(m, "reset_parameters") and any(True for _ in m.parameters(recurse=False))
    if stages is None:
        groups = [(name, [m]) for name, m in reversed(list(randomized.named_modules())) if own(m)]
    else:
        known = dict(randomized.named_modules())
        missing = [s for s in stages if s not in known or s == ""]
        if missing:
            raise ValueError(f"stages must name modules of model; {missing} are not among them")
        groups = [(s, [m for m in known[s].modules() if own(m)]) for s in stages]
    if not any(layers for _, layers in groups):
        raise ValueError("model has no layer with parameters to randomise")
    result = {"trained": rank_correlation(reference, reference)}
    for i, (name, layers) in enumerate(groups):
        torch.manual_seed(seed + i)
        for module in layers:
            module.reset_parameters()
        result[name] = rank_correlation(reference, explain(randomized, x, target))
    return result
