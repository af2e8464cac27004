"""helpers.interpret: Grad-CAM, Grad-CAM++ and CAM on hand-weighted models and against Captum;
the Captum wrappers on linear models whose attributions are known; the randomisation check."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from captum.attr import LayerAttribution, LayerGradCam
from scipy.stats import spearmanr
from torch import nn

from helpers.analysis.attributions import (captum_attribution, cascading_randomization, grid_segments, heatmap, rank_correlation)
from helpers.analysis.gradcam import (CAM, GradCAM, gradcam_maps, gradcam_weights, GradCAMPlusPlus, gradcampp_weights, normalize_maps, resolve_targets, weighted_map)
from helpers.models.classic import CifarCNN, LeNet5
from helpers.analysis.faithfulness import Curves
from helpers.figures.interpret import (as_rgb, overlay, plot_deletion_insertion, plot_randomization, show_attributions,
                                      show_rgb_filters)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
W_HEAD = torch.tensor([[1.0, -2.0], [0.5, 3.0], [-1.0, 0.25]], dtype=torch.float64)  # (classes 3, K 2)


def gap_model() -> nn.Sequential:
    """(N, 2, 4, 4) -> identity 1x1 conv (the target layer) -> global average pool -> Linear(2, 3)."""
    model = nn.Sequential(nn.Conv2d(2, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.eye(2)[:, :, None, None])
        model[0].bias.zero_()
        model[3].weight.copy_(W_HEAD)
        model[3].bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    return model.eval()


def inplace_cnn() -> nn.Sequential:
    """Convolutions followed by ReLU(inplace=True), as in torchvision's VGG and ResNet."""
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(8, 8, 3, padding=1),
                         nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 6 * 6, 10))


def ramp_image(n: int = 2) -> torch.Tensor:
    """Deterministic sign-mixed images (n, 2, 4, 4)."""
    v = torch.arange(n * 2 * 16, dtype=torch.float64).reshape(n, 2, 4, 4)
    return torch.sin(v * 0.7) * 2 + 0.3


# ---------------------------------------------------------------- the three steps, by hand


def test_gradcam_steps_by_hand():
    grads = np.array([[[[1.0, 3.0], [0.0, 0.0]], [[-2.0, 0.0], [0.0, -2.0]]]])  # (1, 2, 2, 2)
    acts = np.array([[[[1.0, 0.0], [2.0, 1.0]], [[0.0, 1.0], [1.0, 3.0]]]])
    w = gradcam_weights(grads)
    np.testing.assert_allclose(w.numpy(), [[1.0, -1.0]])  # (1+3)/4, (-2-2)/4
    m = weighted_map(acts, w)  # relu(1*A0 - 1*A1) = relu([[1, -1], [1, -2]])
    np.testing.assert_allclose(m.numpy(), [[[1.0, 0.0], [1.0, 0.0]]])
    np.testing.assert_allclose(normalize_maps(np.array([[[2.0, 4.0], [3.0, 2.0]]])).numpy(),
                               [[[0.0, 1.0], [0.5, 0.0]]])
    np.testing.assert_array_equal(normalize_maps(np.full((1, 3, 3), 7.0)).numpy(), np.zeros((1, 3, 3)))


def test_gradcampp_weights_match_the_formula_elementwise():
    g = torch.tensor([[[[0.5, -1.0], [0.0, 2.0]]]], dtype=torch.float64)  # (1, 1, 2, 2)
    a = torch.tensor([[[[1.0, 2.0], [0.0, 1.0]]]], dtype=torch.float64)  # sum = 4
    expected = 0.0
    for gij in (0.5, -1.0, 0.0, 2.0):
        if gij != 0:
            alpha = gij**2 / (2 * gij**2 + 4.0 * gij**3)
            expected += alpha * max(gij, 0.0)
    np.testing.assert_allclose(gradcampp_weights(g, a).numpy(), [[expected]])


def test_weighted_map_and_weights_reject_bad_shapes():
    with pytest.raises(ValueError, match="weights must be"):
        weighted_map(np.ones((2, 3, 4, 4)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="gradients must be"):
        gradcam_weights(np.ones((3, 4, 4)))
    with pytest.raises(ValueError, match="same shape"):
        gradcampp_weights(np.ones((1, 2, 3, 3)), np.ones((1, 2, 3, 4)))


# ---------------------------------------------------------------- a hand-weighted GAP model


def test_gradcam_on_a_gap_model_is_the_hand_computed_cam():
    model, x = gap_model(), ramp_image()
    target = torch.tensor([1, 2])
    with GradCAM(model, model[0]) as cam:
        acts, grads, t, logits = cam.activations_and_gradients(x, target)
        layer = cam.layer_maps(x, target)
    # d score_c / d A_k[i, j] = W[c, k] / (h w): the mean gradient is W[c, k] / 16
    np.testing.assert_allclose(grads.numpy(), (W_HEAD[target] / 16)[:, :, None, None].expand(2, 2, 4, 4).numpy())
    hand = torch.relu(torch.einsum("nk,nkij->nij", W_HEAD[target] / 16, x))
    np.testing.assert_allclose(layer.numpy(), hand.numpy(), atol=1e-12)
    with CAM(model, model[0], model[3]) as cam_fc:
        cam_layer = cam_fc.layer_maps(x, target)
    np.testing.assert_allclose(cam_layer.numpy(), 16 * hand.numpy(), atol=1e-12)  # CAM = 16 x Grad-CAM


def test_gradcampp_on_a_gap_model():
    model, x = gap_model(), ramp_image()
    with GradCAMPlusPlus(model, model[0]) as cam:
        got = cam.layer_maps(x, 0)
    g = W_HEAD[0] / 16  # the same gradient at every position of channel k
    s = x.sum(dim=(2, 3))  # (N, K)
    alpha = g**2 / (2 * g**2 + s * g**3)  # (N, K)
    w = 16 * alpha * torch.relu(g)  # summed over the 16 positions
    hand = torch.relu(torch.einsum("nk,nkij->nij", w, x))
    np.testing.assert_allclose(got.numpy(), hand.numpy(), atol=1e-12)


# ---------------------------------------------------------------- against Captum


def _captum_gradcam(model, layer, x, target):
    attr = LayerGradCam(model, layer).attribute(x, target=target, relu_attributions=True)  # (N, 1, h, w)
    up = LayerAttribution.interpolate(attr, tuple(x.shape[-2:]), "bilinear")
    return normalize_maps(up[:, 0]).cpu().numpy()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("build,layer,shape", [
    (CifarCNN, lambda m: m.features[4], (4, 3, 32, 32)),
    (CifarCNN, lambda m: m.features[3], (3, 3, 32, 32)),
    (lambda: CifarCNN(batchnorm=True, dropout=0.3), lambda m: m.features[5], (3, 3, 32, 32)),
    (LeNet5, lambda m: m.features[3], (5, 1, 28, 28)),
    (inplace_cnn, lambda m: m[2], (3, 3, 12, 12)),  # its output is changed in place by the next ReLU
    (inplace_cnn, lambda m: m[3], (3, 3, 12, 12)),  # an in-place ReLU as the target
])
def test_gradcam_equals_captum_layer_gradcam_upsampled(build, layer, shape, device):
    torch.manual_seed(0)
    model = build().to(device).eval()
    x = torch.randn(shape, device=device)
    target = torch.arange(shape[0], device=device) % 10
    with GradCAM(model, layer(model)) as cam:
        ours = cam(x, target)
    assert ours.shape == (shape[0], shape[2], shape[3])
    assert ours.min() >= 0 and ours.max() <= 1
    np.testing.assert_allclose(ours, _captum_gradcam(model, layer(model), x, target), atol=1e-5)


def test_targets_none_int_and_per_image():
    torch.manual_seed(1)
    model = CifarCNN().eval()
    x = torch.randn(3, 3, 32, 32)
    with GradCAM(model, model.features[4]) as cam:
        predicted = model(x).argmax(1)
        np.testing.assert_allclose(cam(x), cam(x, predicted))
        np.testing.assert_allclose(cam(x, 7), cam(x, [7, 7, 7]))
        per_image = cam(x, [2, 5, 9])
        for i, t in enumerate([2, 5, 9]):
            np.testing.assert_allclose(per_image[i], cam(x[i:i + 1], t)[0], atol=1e-6)


# ---------------------------------------------------------------- side effects: hooks, mode, grads


def test_hooks_are_removed_and_others_kept():
    model = CifarCNN()
    layer = model.features[4]
    existing = layer.register_forward_hook(lambda *_: None)
    before = dict(layer._forward_hooks)
    with GradCAM(model, layer) as cam:
        assert len(layer._forward_hooks) == len(before) + 1
        cam(torch.randn(1, 3, 32, 32))
    assert dict(layer._forward_hooks) == before
    assert all(not m._forward_hooks for m in model.modules() if m is not layer)
    assert all(not m._backward_hooks for m in model.modules())
    with pytest.raises(RuntimeError, match="removed"):
        cam(torch.randn(1, 3, 32, 32))
    existing.remove()


def test_mode_requires_grad_and_grads_are_left_as_they_were():
    torch.manual_seed(2)
    model = CifarCNN(batchnorm=True, dropout=0.5)
    x = torch.randn(2, 3, 32, 32)
    model.eval()
    with GradCAM(model, model.features[6]) as cam:
        expected = cam(x)
    model.train()
    model.features[1].eval()  # a mixed state must come back as it was
    modes = [m.training for m in model.modules()]
    stats = model.features[1].running_mean.clone()
    for p in model.parameters():
        p.requires_grad_(False)
    with GradCAM(model, model.features[6]) as cam:
        got = cam(x)
    assert [m.training for m in model.modules()] == modes
    assert torch.equal(model.features[1].running_mean, stats)  # eval mode: no statistics updated
    assert all(p.grad is None and not p.requires_grad for p in model.parameters())
    np.testing.assert_allclose(got, expected, atol=1e-6)  # dropout was off


def test_errors_name_the_problem():
    model = CifarCNN()
    with pytest.raises(ValueError, match="target_layer must be a module inside model"):
        GradCAM(model, CifarCNN().features[4])
    with pytest.raises(ValueError, match="target_layer"):
        GradCAM(model, nn.ReLU())
    with GradCAM(model, model.features[4]) as cam:
        with pytest.raises(ValueError, match=r"0\.\.9"):
            cam(torch.randn(2, 3, 32, 32), 10)
        with pytest.raises(ValueError, match=r"0\.\.9"):
            cam(torch.randn(2, 3, 32, 32), [1, -1])
        with pytest.raises(ValueError, match="one class per image"):
            cam(torch.randn(2, 3, 32, 32), [1, 2, 3])
        with pytest.raises(TypeError, match="integer"):
            cam(torch.randn(2, 3, 32, 32), 1.5)
        with pytest.raises(TypeError, match="float tensor"):
            cam(torch.zeros(2, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(TypeError, match="nn.Linear"):
        CAM(model, model.features[4], model.features[3])
    with pytest.raises(ValueError, match="layer must name"):
        gradcam_maps(model, torch.randn(1, 3, 32, 32), layer="features.99")


def test_resolve_targets():
    logits = torch.tensor([[0.0, 2.0, 1.0], [3.0, 0.0, 1.0]])
    assert resolve_targets(logits).tolist() == [1, 0]
    assert resolve_targets(logits, 2).tolist() == [2, 2]
    assert resolve_targets(logits, np.array([0, 2])).tolist() == [0, 2]


# ---------------------------------------------------------------- Captum wrappers on a linear model


def linear_model(w: torch.Tensor) -> nn.Sequential:
    """score_c = sum over pixels of w[c] * x: attributions are known exactly."""
    classes = w.shape[0]
    model = nn.Sequential(nn.Flatten(), nn.Linear(w[0].numel(), classes, bias=False)).double()
    with torch.no_grad():
        model[1].weight.copy_(w.reshape(classes, -1))
    return model.eval()


def test_integrated_gradients_and_occlusion_are_exact_on_a_linear_model():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(3, 1, 4, 4, generator=g, dtype=torch.float64)
    x = torch.randn(2, 1, 4, 4, generator=g, dtype=torch.float64)
    model = linear_model(w)
    target = torch.tensor([0, 2])
    expected = w[target] * x  # (x - baseline 0) * gradient
    ig = captum_attribution(model, x, "integrated_gradients", target, steps=20)
    np.testing.assert_allclose(ig.numpy(), expected.numpy(), atol=1e-10)
    occ = captum_attribution(model, x, "occlusion", target, window=1, stride=1)
    np.testing.assert_allclose(occ.numpy(), expected.numpy(), atol=1e-10)
    gbp = captum_attribution(model, x, "guided_backprop", target)  # no ReLU: the plain gradient
    np.testing.assert_allclose(gbp.numpy(), w[target].expand_as(x).numpy(), atol=1e-12)


def test_lime_recovers_the_patch_contributions_of_a_linear_model():
    g = torch.Generator().manual_seed(1)
    w = torch.randn(2, 1, 8, 8, generator=g, dtype=torch.float64)
    x = torch.randn(1, 1, 8, 8, generator=g, dtype=torch.float64)
    model = linear_model(w)
    attr = captum_attribution(model, x, "lime", 1, cell=4, samples=400)  # 4 patches of 4x4
    segments = grid_segments(8, 8, 4)
    contribution = [float((w[1, 0] * x[0, 0])[segments == s].sum()) for s in range(4)]
    got = [float(attr[0, 0][segments == s][0]) for s in range(4)]
    np.testing.assert_allclose(got, contribution, atol=0.05 + 0.05 * max(map(abs, contribution)))


def test_grid_segments_and_heatmap():
    seg = grid_segments(4, 6, 2)
    assert seg.tolist() == [[0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2], [3, 3, 4, 4, 5, 5], [3, 3, 4, 4, 5, 5]]
    with pytest.raises(ValueError, match="cell"):
        grid_segments(4, 6, 4)
    attr = torch.tensor([[[[1.0, -3.0]], [[1.0, 0.0]]]])  # (1, 2, 1, 2): channel sums 2, -3
    np.testing.assert_allclose(heatmap(attr), [[[0.0, 1.0]]])  # |2|, |-3| scaled to [0, 1]
    with pytest.raises(ValueError, match="method must be one of"):
        captum_attribution(CifarCNN(), torch.randn(1, 3, 32, 32), "shap")


# ---------------------------------------------------------------- the randomisation sanity check


def test_rank_correlation_matches_scipy():
    g = np.random.default_rng(0)
    a, b = g.random((4, 5, 5)), g.random((4, 5, 5))
    b[1] = a[1] * 3 + 1  # same ranks
    b[2, :2] = 0.5  # ties
    got = rank_correlation(a, b)
    expected = [spearmanr(a[i].ravel(), b[i].ravel()).statistic for i in range(4)]
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert got[1] == pytest.approx(1.0)
    assert np.isnan(rank_correlation(a[:1], np.zeros((1, 5, 5))))[0]


def test_cascading_randomization_changes_gradcam_not_a_model_blind_map():
    torch.manual_seed(3)
    model = CifarCNN().eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(6, 3, 32, 32)
    explain = functools.partial(gradcam_maps, layer="features.4")
    result = cascading_randomization(model, explain, x, 3)
    assert list(result) == ["trained", "classifier.4", "classifier.1", "features.3", "features.0"]
    np.testing.assert_allclose(result["trained"], 1.0)
    assert np.nanmean(result["features.0"]) < 0.5  # a method that depends on the weights changes
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())  # the original is untouched

    def edges(_model, images, _target):  # ignores the model: an "explanation" that fails the check
        return normalize_maps(images.abs().sum(1)).numpy()

    blind = cascading_randomization(model, edges, x, 3)
    for name, corr in blind.items():
        np.testing.assert_allclose(corr, 1.0, err_msg=name)



def test_cascading_randomization_by_stages():
    torch.manual_seed(4)
    model = CifarCNN().eval()
    x = torch.randn(4, 3, 32, 32)
    explain = functools.partial(gradcam_maps, layer="features.4")
    result = cascading_randomization(model, explain, x, 1, stages=["classifier", "features"])
    assert list(result) == ["trained", "classifier", "features"]
    with pytest.raises(ValueError, match="not among them"):
        cascading_randomization(model, explain, x, 1, stages=["head"])


def test_cam_with_a_1x1_convolution_head_is_squeezenets_class_map():
    """SqueezeNet-style head: 1x1 conv (K -> classes) at every position, then global average pooling.
    Without the ReLU between them, class c's score is the mean of its map sum_k w_ck A_k + b_c."""
    torch.manual_seed(5)
    body = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU())
    conv = nn.Conv2d(6, 4, 1)
    model = nn.Sequential(body, conv, nn.AdaptiveAvgPool2d(1), nn.Flatten()).double()
    x = torch.randn(3, 3, 8, 8, dtype=torch.float64)
    with CAM(model, body, conv) as cam:
        maps = cam.layer_maps(x, 2)  # (3, 8, 8)
    with torch.no_grad():
        expected = torch.relu(conv(body(x))[:, 2] - conv.bias[2])
    np.testing.assert_allclose(maps.numpy(), expected.numpy(), atol=1e-12)
    with CAM(model, body, conv) as cam, GradCAM(model, body) as gcam:  # linear head: CAM = Grad-CAM, scaled
        np.testing.assert_allclose(cam(x, 2), gcam(x, 2), atol=1e-10)
    with pytest.raises(TypeError, match="1x1 nn.Conv2d"):
        CAM(model, body, nn.Conv2d(6, 4, 3))


# ---------------------------------------------------------------- figures


def test_as_rgb_accepts_the_usual_layouts():
    chw = np.zeros((3, 4, 5), dtype=np.uint8)
    chw[0] = 255
    rgb = as_rgb(chw)
    assert rgb.shape == (4, 5, 3) and rgb[..., 0].max() == 1.0 and rgb[..., 1].max() == 0.0
    np.testing.assert_array_equal(as_rgb(torch.from_numpy(chw)), rgb)
    np.testing.assert_array_equal(as_rgb(rgb), rgb)
    assert as_rgb(np.ones((4, 5))).shape == (4, 5, 3)
    with pytest.raises(ValueError, match="image must be"):
        as_rgb(np.zeros((2, 4, 5)))


def test_overlay_and_attribution_grid_draw_what_they_are_given():
    import matplotlib.pyplot as plt

    images = np.random.default_rng(0).integers(0, 256, (2, 3, 8, 8), dtype=np.uint8)
    heat = np.linspace(0, 1, 64).reshape(8, 8)
    ax = overlay(images[0], heat, title="t")
    np.testing.assert_array_equal(ax.images[-1].get_array(), heat)
    assert ax.images[-1].get_alpha() == 0.5 and ax.get_title() == "t"
    with pytest.raises(ValueError, match="image's size"):
        overlay(images[0], heat[:4])
    axes = show_attributions(images, {"a": np.stack([heat, heat]), "b": np.stack([heat, 1 - heat])},
                             ["one", "two"])
    assert axes.shape == (2, 3) and axes[1, 0].get_title() == "two" and axes[0, 2].get_title() == "b"
    np.testing.assert_array_equal(axes[1, 2].images[-1].get_array(), 1 - heat)
    with pytest.raises(ValueError, match=r"maps\['a'\] must be"):
        show_attributions(images, {"a": heat[None]})
    ax = show_rgb_filters(torch.ones(4, 3, 3, 3) * torch.tensor([1.0, -1.0, 0.0])[None, :, None, None])
    np.testing.assert_allclose(ax.images[0].get_array()[0, 0], [1.0, 0.0, 0.5])  # +max, -max, 0
    ax = plot_randomization({"m": {"trained": np.ones(3), "fc": np.array([0.0, 0.5, np.nan])}})
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1.0, 0.25])
    axes = show_attributions(images, {"a": np.stack([heat, heat])}, panel_titles=[["cat 50%"], ["dog 9%"]])
    assert axes[1, 1].get_title() == "dog 9%"
    with pytest.raises(ValueError, match="panel_titles"):
        show_attributions(images, {"a": np.stack([heat, heat])}, panel_titles=[["x"]])
    plt.close("all")


def test_deletion_insertion_figure_averages_the_images():
    import matplotlib.pyplot as plt

    f = np.linspace(0, 1, 3)
    one = Curves(f, np.array([1.0, 0.5, 0.0]), np.array([0.0, 0.5, 1.0]), 0.5, 0.5)
    two = Curves(f, np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 1.0]), 0.25, 0.75)
    axes = plot_deletion_insertion({"m": [one, two]})
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), [1.0, 0.25, 0.0])
    np.testing.assert_allclose(axes[1].lines[0].get_ydata(), [0.0, 0.75, 1.0])
    assert "0.375" in axes[0].get_legend().get_texts()[0].get_text()
    with pytest.raises(ValueError, match="non-empty"):
        plot_deletion_insertion({"m": []})
    plt.close("all")
