"""The reference architectures of Part VII, measured: parameters, depth and FLOPs of torchvision's models.

Nothing here is typed in: parameters are counted on the model torchvision builds (``weights=None``,
so nothing is downloaded), FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` on
one forward pass, and depth is the number of weight layers on the longest input-to-output path
of the traced graph. Models are built on PyTorch's ``meta`` device by default: shapes only, no
memory and no arithmetic, so measuring VGG-16 takes a fraction of a second.

The one typed-in table is history: :data:`IMAGENET_TOP5`, the ILSVRC top-5 errors with a source
for every entry.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple
import torch
from torch import nn

__all__ = ["Architecture", "ARCHITECTURES", "build_reference", "count_flops", "model_depth", "torchvision_meta", "architecture_summary", "Top5Entry", "IMAGENET_TOP5", "HUMAN_TOP5"]


class Architecture(NamedTuple):
    """One reference model: ``builder`` is a torchvision model name or ``"module:Class"``."""

    name: str
    builder: str
    year: int
    idea: str
    input_shape: tuple[int, int, int] = (3, 224, 224)


ARCHITECTURES: dict[str, Architecture] = {a.name: a for a in (
    Architecture("LeNet-5", "helpers.models.classic:LeNet5", 1998,
                 "convolutions with shared weights, pooling, then dense layers", (1, 28, 28)),
    Architecture("AlexNet", "alexnet", 2012, "a deep CNN trained on GPUs with ReLU and dropout"),
    Architecture("VGG-16", "vgg16", 2014, "only 3x3 convs, stacked deep; 2x2 max-pools"),
    Architecture("GoogLeNet", "googlenet", 2014, "inception modules: parallel 1x1/3x3/5x5/pool"),
    Architecture("ResNet-18", "resnet18", 2015, "residual blocks: y = F(x) + x"),
    Architecture("ResNet-50", "resnet50", 2015, "bottleneck residual blocks (1x1-3x3-1x1)"),
    Architecture("DenseNet-121", "densenet121", 2017, "each layer sees all earlier feature maps"),
    Architecture("MobileNet v2", "mobilenet_v2", 2018, "inverted residuals of depthwise-separable convs"),
    Architecture("MobileNet v3-L", "mobilenet_v3_large", 2019, "searched inverted residuals with SE"),
    Architecture("EfficientNet-B0", "efficientnet_b0", 2019, "MBConv + SE, depth/width/resolution scaled together"),
    Architecture("ViT-B/16", "vit_b_16", 2020, "16x16 patches as tokens, self-attention, no convolutions"),
)}


def _architecture(name: str) -> Architecture:
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose one of {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[name]


def build_reference(name: str, device: str | torch.device = "meta") -> nn.Module:
    """The reference model ``name`` (a key of :data:`ARCHITECTURES`), untrained, in eval mode.

    torchvision models are built with ``weights=None`` (no download); GoogLeNet without its two
    auxiliary classifiers (used only in training), as torchvision's published count is.
    ``device="meta"`` (default) gives a model with shapes but no values: enough to count
    parameters and FLOPs; pass ``"cpu"`` for a model that computes.
    """
    arch = _architecture(name)
    with torch.device(device):
        if ":" in arch.builder:
            module, cls = arch.builder.split(":")
            model = getattr(importlib.import_module(module), cls)()
        else:
            from torchvision.models import get_model

            extra = {"aux_logits": False, "init_weights": True} if arch.builder == "googlenet" else {}
            model = get_model(arch.builder, weights=None, **extra)
    return model.eval()


def count_flops(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """FLOPs of one forward pass of ONE image of ``input_shape`` ``(C, H, W)``.

    Counted by ``torch.utils.flop_counter.FlopCounterMode``, which counts the matrix products and
    convolutions (a multiply-add is 2 FLOPs) and ignores the cheap element-wise work (BatchNorm,
    activations, pooling, additions). Halve it for multiply-adds (MACs), the unit torchvision's
    ``_ops`` metadata calls "GFLOPS".
    """
    from torch.utils.flop_counter import FlopCounterMode

    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W) of one image; got {tuple(input_shape)}")
    device = next(model.parameters()).device
    x = torch.zeros(1, *input_shape, device=device)  # (1, C, H, W)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return int(counter.get_total_flops())


def model_depth(model: nn.Module) -> int:
    """Weight layers on the longest path from input to output of the traced graph.

    Conv2d and Linear count 1 each; ``nn.MultiheadAttention`` counts 2 (its input and output
    projections). Parallel branches (a ResNet shortcut, an inception branch) do not add up: only
    the longest chain counts, which is how "ResNet-50" and "GoogLeNet, 22 layers" are counted.
    Side paths that gate the main one (SE) are on a path too, so they count. A model whose
    ``forward`` cannot be traced (it checks its input's shape in Python, like the book's
    ``LeNet5``) is taken as the chain of its children, each traced on its own.
    """
    import torch.fx as fx

    try:
        graph = fx.symbolic_trace(model).graph
    except Exception:  # torch.fx cannot trace Python control flow on tensor values
        children = list(model.children())
        if not children:
            raise ValueError(f"cannot trace {type(model).__name__} and it has no children to "
                             "trace one by one") from None
        return sum(model_depth(child) for child in children)
    modules = dict(model.named_modules())
    longest: dict[fx.Node, int] = {}
    for node in graph.nodes:  # in topological order
        before = max((longest[n] for n in node.all_input_nodes), default=0)
        layer = modules.get(node.target) if node.op == "call_module" else None
        own = 2 if isinstance(layer, nn.MultiheadAttention) else int(isinstance(layer, (nn.Conv2d, nn.Linear)))
        longest[node] = before + own
    return max(longest.values())


def torchvision_meta(name: str) -> dict | None:
    """torchvision's own ``num_params`` and ``_ops`` (GMACs) for ``name``, offline (no download).

    Returns ``None`` for models that are not torchvision's (LeNet-5).
    """
    arch = _architecture(name)
    if ":" in arch.builder:
        return None
    from torchvision.models import get_model_weights

    meta = get_model_weights(arch.builder).DEFAULT.meta
    return {"num_params": meta["num_params"], "gmacs": meta["_ops"]}


def architecture_summary(names: list[str] | None = None) -> list[dict]:
    """One row per architecture: name, year, depth, params, GFLOPs (measured) and torchvision's figures.

    ``gflops`` counts a multiply-add as 2 FLOPs, for one image of the model's input size
    (224x224 RGB; 28x28 grey for LeNet-5).
    """
    from helpers.scratch.shapes import count_params

    rows = []
    for name in names or list(ARCHITECTURES):
        arch, model = _architecture(name), build_reference(name)
        meta = torchvision_meta(name) or {}
        rows.append({"name": name, "year": arch.year, "depth": model_depth(model),
                     "params": count_params(model),
                     "gflops": count_flops(model, arch.input_shape) / 1e9,
                     "input": "x".join(map(str, arch.input_shape)), "idea": arch.idea,
                     "tv_params": meta.get("num_params"), "tv_gmacs": meta.get("gmacs")})
    return rows


class Top5Entry(NamedTuple):
    """One ILSVRC classification result: top-5 error (%) on the competition's test set."""

    year: int
    entry: str
    top5_error: float
    source: str


_ILSVRC = "ILSVRC{} results, image-net.org/challenges/LSVRC/{}/results"


# Winners of the ILSVRC classification task (and VGG, 2014's runner-up), as the organisers
# published them; quoted, not measured here.
IMAGENET_TOP5: tuple[Top5Entry, ...] = (
    Top5Entry(2010, "NEC-UIUC (SIFT/LBP + SVM)", 28.2, "Russakovsky et al. 2015, IJCV 115 (ILSVRC 2010-2014 results)"),
    Top5Entry(2011, "XRCE (Fisher vectors)", 25.8, "Russakovsky et al. 2015, IJCV 115 (ILSVRC 2010-2014 results)"),
    Top5Entry(2012, "AlexNet (SuperVision)", 15.3, "Krizhevsky et al. 2012, NeurIPS; " + _ILSVRC.format(2012, 2012)),
    Top5Entry(2013, "ZFNet (Clarifai)", 11.7, "Zeiler & Fergus 2014, ECCV; " + _ILSVRC.format(2013, 2013)),
    Top5Entry(2014, "VGG (runner-up)", 7.32, "Simonyan & Zisserman 2015, ICLR; " + _ILSVRC.format(2014, 2014)),
    Top5Entry(2014, "GoogLeNet", 6.67, "Szegedy et al. 2015, CVPR, Table 2; " + _ILSVRC.format(2014, 2014)),
    Top5Entry(2015, "ResNet (MSRA)", 3.57, "He et al. 2016, CVPR, Table 5; " + _ILSVRC.format(2015, 2015)),
    Top5Entry(2016, "Trimps-Soushen", 2.99, _ILSVRC.format(2016, 2016)),
    Top5Entry(2017, "SENet (WMW)", 2.25, "Hu et al. 2018, CVPR; " + _ILSVRC.format(2017, 2017)),
)


HUMAN_TOP5 = Top5Entry(2014, "one trained human annotator", 5.1,
                       "Russakovsky et al. 2015, IJCV 115, section 6.4 (A. Karpathy)")
