"""The explanation methods, by the key that names their module, URL and test file."""

from __future__ import annotations

from app.explain.ablation_cam import AblationCAM
from app.explain.base import Method
from app.explain.blur_ig import BlurIG
from app.explain.deconvnet import Deconvnet
from app.explain.deeplift import DeepLIFT
from app.explain.eigen_cam import EigenCAM
from app.explain.grad_cam import GradCAM
from app.explain.grad_cam_plus_plus import GradCAMPlusPlus
from app.explain.gradient_shap import GradientSHAP
from app.explain.gradient_x_input import GradientXInput
from app.explain.guided_backprop import GuidedBackprop
from app.explain.guided_grad_cam import GuidedGradCAM
from app.explain.hires_cam import HiResCAM
from app.explain.integrated_gradients import IntegratedGradients
from app.explain.kernel_shap import KernelSHAP
from app.explain.layer_cam import LayerCAM
from app.explain.lime import LIME
from app.explain.lrp import LRP
from app.explain.occlusion import Occlusion
from app.explain.rise import RISE
from app.explain.saliency import Saliency
from app.explain.score_cam import ScoreCAM
from app.explain.smoothgrad import SmoothGrad
from app.explain.xgrad_cam import XGradCAM

METHODS: dict[str, Method] = {
    "saliency": Saliency(),
    "guided_backprop": GuidedBackprop(),
    "deconvnet": Deconvnet(),
    "gradient_x_input": GradientXInput(),
    "smoothgrad": SmoothGrad(),
    "integrated_gradients": IntegratedGradients(),
    "gradient_shap": GradientSHAP(),
    "blur_ig": BlurIG(),
    "lrp": LRP(),
    "deeplift": DeepLIFT(),
    "grad_cam": GradCAM(),
    "grad_cam_plus_plus": GradCAMPlusPlus(),
    "hires_cam": HiResCAM(),
    "layer_cam": LayerCAM(),
    "xgrad_cam": XGradCAM(),
    "eigen_cam": EigenCAM(),
    "ablation_cam": AblationCAM(),
    "guided_grad_cam": GuidedGradCAM(),
    "occlusion": Occlusion(),
    "score_cam": ScoreCAM(),
    "rise": RISE(),
    "lime": LIME(),
    "kernel_shap": KernelSHAP(),
}
