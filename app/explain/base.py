"""The contract every explanation method follows, and what they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from app.errors import APIError
from app.explain.engine import GradientEngine
from app.explain.smoothing import gaussian_blur
from app.store.loader import softmax

Family = Literal["gradient", "cam", "perturbation", "introspection"]
Score = Literal["probability", "logit"]
Reference = Literal["zeros", "black", "constant", "mean", "blur"]
FORWARD_CHUNK = 32  # perturbed inputs per onnxruntime run in the forward-only methods
DEFAULT_BUDGET = 4096  # forward passes per request, as Settings.max_forward_passes


class MethodParams(BaseModel):
    """A method's own parameters (query parameters of /explain/{method}, bounds in OpenAPI)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class ExplainInput:
    """One preprocessed image and the classes to explain.

    `image` is the model's input (1, C, H, W) (or NHWC); `targets` are class indices; `layer`
    is the tensor name CAM methods read (already resolved to the model's default)."""

    image: np.ndarray
    targets: list[int]
    engine: GradientEngine
    classes: int
    layer: str | None = None
    channels_last: bool = False
    baseline: np.ndarray | None = None  # a reference input like `image`, where one was sent
    pixel_mean: tuple[float, ...] = (0.0,)
    pixel_std: tuple[float, ...] = (1.0,)
    # forward-only runs: batch (model layout) -> logits (N, K); and with layer activations
    forward: Callable[[np.ndarray], np.ndarray] | None = None
    tapped: (
        Callable[[np.ndarray, tuple[str, ...]], tuple[np.ndarray, dict[str, np.ndarray]]] | None
    ) = None
    output: Literal["logits", "probabilities"] = "logits"  # what `forward` returns
    budget: int = DEFAULT_BUDGET  # forward passes this request may still spend

    def seeds(self, repeats: int = 1) -> np.ndarray:
        """One-hot seeds (T * repeats, K): each target repeated `repeats` times in a row."""
        seeds = np.zeros((len(self.targets) * repeats, self.classes), dtype=np.float32)
        for row, target in enumerate(np.repeat(self.targets, repeats)):
            seeds[row, target] = 1.0
        return seeds

    def nchw(self, tensor: np.ndarray) -> np.ndarray:
        """A tensor like the input, as (N, C, H, W)."""
        return tensor.transpose(0, 3, 1, 2) if self.channels_last else tensor

    def model_layout(self, tensor: np.ndarray) -> np.ndarray:
        """An (N, C, H, W) tensor in the model's own layout."""
        return tensor.transpose(0, 2, 3, 1) if self.channels_last else tensor

    def filled(self, pixel: float) -> np.ndarray:
        """The model input of a uniform picture of `pixel` (0 black, 1 white), like `image`."""
        mean = np.asarray(self.pixel_mean, dtype=np.float32)[:, None, None]
        std = np.asarray(self.pixel_std, dtype=np.float32)[:, None, None]
        filled = np.broadcast_to((pixel - mean) / std, self.nchw(self.image).shape)
        return self.model_layout(np.ascontiguousarray(filled, dtype=np.float32))

    def scores(self, batch: np.ndarray, score: Score = "probability") -> np.ndarray:
        """Class scores (N, K) of a batch in the model's layout, in one forward run:
        softmax probabilities, or the raw outputs (`logit`)."""
        if self.forward is None:
            raise ValueError("this ExplainInput has no forward function")
        outputs = np.asarray(self.forward(batch), dtype=np.float64).reshape(len(batch), -1)
        if score == "logit" or self.output == "probabilities":
            return outputs
        return softmax(outputs)

    def spend(self, passes: int, what: str, advice: str) -> None:
        """Refuse (422 over_budget) work that needs more forward passes than `budget`."""
        if passes > self.budget:
            raise APIError(
                422,
                "over_budget",
                f"{what} needs {passes} forward passes; the limit is {self.budget} per request "
                f"(LANTERN_MAX_FORWARD_PASSES, less any taken by faithfulness curves). {advice}",
            )


@dataclass
class Explanation:
    """Per-target heatmaps (T, H, W); per-channel attributions (T, C, H, W) where the method
    has them; `signed` when negative values mean something; extra figures for the response."""

    heatmaps: np.ndarray
    attributions: np.ndarray | None = None
    signed: bool = False
    extras: dict[str, Any] = field(default_factory=dict)


class Method(ABC):
    """An explanation method. Subclasses set the class variables and implement `explain`."""

    family: ClassVar[Family]
    needs_gradients: ClassVar[bool] = True
    uses_layer: ClassVar[bool] = False
    Params: ClassVar[type[MethodParams]] = MethodParams
    summary: ClassVar[str]

    @abstractmethod
    def explain(self, given: ExplainInput, params: Any) -> Explanation:
        """Heatmaps for every target of `given`."""


def reference_input(
    given: ExplainInput, kind: Reference, sigma: float = 0.0, fill: float = 0.0
) -> np.ndarray:
    """A reference input (1, C, H, W) for `given.image`, in model input units: `zeros`, the
    all-zero tensor (the mean picture of a mean/std-normalised model); `black`, a black
    picture; `constant`, a uniform picture of `fill` (0 black, 1 white); `mean`, each
    channel's mean over the image; `blur`, the image blurred with a Gaussian of `sigma`
    pixels (read for `blur` only)."""
    image = given.nchw(given.image)  # (1, C, H, W)
    if kind == "mean":
        return np.broadcast_to(image.mean(axis=(2, 3), keepdims=True), image.shape)
    if kind == "blur":
        return gaussian_blur(image, sigma)
    if kind in ("black", "constant"):
        return given.nchw(given.filled(fill if kind == "constant" else 0.0))
    return np.zeros_like(image)


def chunks(count: int, size: int = FORWARD_CHUNK) -> list[slice]:
    """Consecutive slices of at most `size` covering range(count): one forward run each."""
    return [slice(start, min(start + size, count)) for start in range(0, count, size)]


def reduce_channels(attributions: np.ndarray, how: str) -> np.ndarray:
    """(T, C, H, W) -> (T, H, W): `max_abs` (keras-vis saliency), `sum` or `abs_sum`."""
    if how == "max_abs":
        return np.abs(attributions).max(axis=1)
    if how == "abs_sum":
        return np.abs(attributions).sum(axis=1)
    return attributions.sum(axis=1)
