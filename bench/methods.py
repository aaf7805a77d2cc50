"""The methods of issue 17 on a ResNet-18 at 224 x 224 (random weights, bench/resnet18.py):
ours (onnxruntime, the gradient engine, the cut graphs) against the reference library on the
same torch module, image, target and thread count, side by side in one run. Baseline: the
reference's time of the same run (ratio < 1: ours is faster).

References: pytorch-grad-cam for XGrad-CAM, Eigen-CAM and Ablation-CAM; Captum for
GradientSHAP, LIME and KernelSHAP (same superpixels, 32 samples per forward batch); Blur IG
has no torch library (the authors' `saliency` package is numpy and TensorFlow), so its
baseline is the same computation with torch autograd for the gradients (the same numpy blurs
in both). LRP: Captum's `LRP` (epsilon rule on every layer; it hands a residual Add's whole
relevance to both branches, so the maps differ, the work does not) for `lrp_epsilon`, Zennit's
`EpsilonGammaBox` for `lrp` (the composite); DeepLIFT: Captum's `DeepLift`, zeros baseline.
Usage: python -m bench.methods [--repeats 2] [--threads 2] [--only lrp deeplift ...]"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import torch
from captum._utils.models.linear_model import SkLearnRidge
from captum.attr import LRP, DeepLift, GradientShap, KernelShap, Lime
from captum.attr._utils.lrp_rules import EpsilonRule, IdentityRule

from app.explain.base import Budget, ExplainInput
from app.explain.blur_ig import BlurIGParams, blurred
from app.explain.gradient_shap import GradientSHAPParams
from app.explain.lime import LIMEParams, lime_similarity
from app.explain.lrp import LRPParams
from app.explain.registry import METHODS
from app.explain.superpixel_base import SuperpixelParams, superpixels
from app.runtime.loader import LoadOptions, bare_manifest, load_graph
from app.runtime.sessions import SessionFactory
from app.store.manifest import Layers
from bench.explain import best_of
from bench.libraries import pytorch_grad_cam, zennit_composites
from bench.resnet18 import resnet18, to_onnx

TARGET, SAMPLES = 3, 128


def setting(threads: int):
    net = resnet18()
    model = to_onnx(net, net.input_shape)
    layer = [n.output[0] for n in model.graph.node if n.op_type == "Relu"][-1]
    manifest = bare_manifest(model).model_copy(update={"layers": Layers(cam=layer)})
    running = load_graph(model, manifest, LoadOptions(SessionFactory(threads)))
    image = np.random.default_rng(0).normal(0, 1, (1, 3, 224, 224)).astype(np.float32)
    given = ExplainInput(running, image, [TARGET], Budget(10**9), layer=layer)
    return net, given


def ours(given: ExplainInput) -> dict[str, Callable[[], object]]:
    params = {
        "gradient_shap": GradientSHAPParams(samples=32, baselines="blur"),
        "blur_ig": BlurIGParams(steps=32),
        "lime": LIMEParams(samples=SAMPLES),
        "kernel_shap": SuperpixelParams(samples=SAMPLES),
    }
    keys = ("xgrad_cam", "eigen_cam", "ablation_cam", *params, "lrp", "deeplift")
    runs = {
        key: (lambda k=key: METHODS[k].explain(given, params.get(k, METHODS[k].Params())))
        for key in keys
    }
    epsilon = LRPParams(rules="epsilon", epsilon=1e-9)
    runs["lrp_epsilon"] = lambda: METHODS["lrp"].explain(given, epsilon)
    return runs


def _captum_lrp(net, x) -> Callable[[], object]:
    """Captum's LRP, the epsilon rule on every layer (its default rules)."""

    def run() -> torch.Tensor:
        for module in net.modules():  # Captum keeps rules between calls only on a fresh start
            if isinstance(module, torch.nn.Conv2d | torch.nn.Linear | torch.nn.BatchNorm2d):
                module.rule = EpsilonRule(1e-9)
            elif isinstance(module, torch.nn.Identity):  # an identity shortcut
                module.rule = IdentityRule()
        return LRP(net).attribute(x, target=TARGET)

    return run


def _zennit_lrp(net, given: ExplainInput) -> Callable[[], object]:
    """Zennit's EpsilonGammaBox with the bounds ours uses (the input's own range here)."""
    composites = zennit_composites()
    x = torch.from_numpy(given.image.copy())
    low, high = torch.full_like(x, float(x.min())), torch.full_like(x, float(x.max()))

    def run() -> torch.Tensor:
        composite = composites.EpsilonGammaBox(low=low, high=high, epsilon=1e-6, gamma=0.25)
        points = x.clone().requires_grad_()
        with composite.context(net) as modified:
            logits = modified(points)
            seed = torch.zeros_like(logits)
            seed[:, TARGET] = logits[:, TARGET].detach()
            (relevance,) = torch.autograd.grad(logits, points, grad_outputs=seed)
        return relevance

    return run


def _cam(cam_class, net, x) -> Callable[[], object]:
    library = pytorch_grad_cam()
    targets = [library.utils.model_targets.ClassifierOutputTarget(TARGET)]
    cam = cam_class(model=net, target_layers=[net.layer4[1].relu2])
    return lambda: cam(input_tensor=x, targets=targets)


def _torch_blur_ig(net, image: np.ndarray, steps: int = 32) -> Callable[[], object]:
    """Blur IG as ours computes it (the same blurs, by the same numpy code), the gradients by
    torch autograd in one batch."""
    sigmas = (224 / 6) * (1 - np.arange(steps + 1) / steps)

    def run() -> torch.Tensor:
        path = np.concatenate([blurred(image, float(s)) for s in sigmas])
        middles = [blurred(image, float(s)) for s in (sigmas[1:] + sigmas[:-1]) / 2]
        points = torch.from_numpy(np.concatenate(middles)).float().requires_grad_()
        (gradient,) = torch.autograd.grad(net(points)[:, TARGET].sum(), points)
        return (gradient.double() * torch.from_numpy(np.diff(path, axis=0))).sum(dim=0)

    return run


def theirs(net, given: ExplainInput) -> dict[str, Callable[[], object]]:
    library = pytorch_grad_cam()
    x = torch.from_numpy(given.image.copy())
    labels = superpixels(given, LIMEParams())
    mask = torch.from_numpy(labels)[None, None]
    draws = {"n_samples": SAMPLES, "perturbations_per_eval": 32, "feature_mask": mask}
    lime = Lime(net, interpretable_model=SkLearnRidge(alpha=1.0), similarity_func=(
        lambda _o, _p, z, **_k: float(lime_similarity(z.numpy(), 0.25)[0])))  # fmt: skip
    baselines = torch.from_numpy(
        np.concatenate([blurred(given.image, s) for s in np.arange(1, 9) * 224 / 48])
    ).float()
    return {
        "xgrad_cam": _cam(library.XGradCAM, net, x),
        "eigen_cam": _cam(library.EigenCAM, net, x),
        "ablation_cam": _cam(library.AblationCAM, net, x),
        "gradient_shap": lambda: GradientShap(net).attribute(
            x, baselines, n_samples=32, target=TARGET
        ),
        "blur_ig": _torch_blur_ig(net, given.image),
        "lime": lambda: lime.attribute(x, target=TARGET, **draws),
        "kernel_shap": lambda: KernelShap(net).attribute(x, target=TARGET, **draws),
        "lrp": _zennit_lrp(net, given),
        "deeplift": lambda: DeepLift(net).attribute(x, torch.zeros_like(x), target=TARGET),
        "lrp_epsilon": _captum_lrp(net, x),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="new methods: ours against the reference")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="these methods only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    net, given = setting(args.threads)
    mine, reference = ours(given), theirs(net, given)
    print(f"ResNet-18 at 224, {args.threads} threads; LIME and KernelSHAP {SAMPLES} samples")
    print(f"  {'method':<14} {'ours ms':>10} {'reference ms':>13} {'ours/reference':>15}")
    for key in [key for key in mine if not args.only or key in args.only]:
        ours_time, their_time = best_of([mine[key], reference[key]], args.repeats)
        ratio = ours_time / their_time
        print(
            f"  {key:<14} {ours_time * 1000:>10.0f} {their_time * 1000:>13.0f} {ratio:>15.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
