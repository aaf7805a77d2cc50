"""The contract every explanation method follows, and what they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from app.explain.budget import Budget
from app.gradients import ExplainResult
from app.gradients.propagation import PropagationRule
from app.imaging.smoothing import gaussian_blur
from app.runtime.model import RunningModel

Family = Literal["gradient", "cam", "perturbation", "introspection"]
Score = Literal["probability", "logit"]
Reference = Literal["zeros", "black", "constant", "mean", "blur"]
FORWARD_CHUNK = 32  # perturbed inputs per onnxruntime run in the forward-only methods


class MethodParams(BaseModel):
    """A method's own parameters (query parameters of /explain/{method}, bounds in OpenAPI)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Cost:
    """What one request of a method runs: rows through the network forwards (whole or from a
    layer on) and rows through a backward pass (whole or down to a layer). The budget
    (LANTERN_MAX_FORWARD_PASSES) counts the forward rows."""

    forward: int
    backward: int = 0


@dataclass(frozen=True)
class Workload:
    """What a request's cost depends on besides the method's parameters: the number of
    targets, the input's size, and the channels of the layer a CAM method reads."""

    targets: int
    height: int
    width: int
    layer_channels: int = 0

    @classmethod
    def default(cls, model: RunningModel) -> Workload:
        """One target on `model`'s input size and its default CAM layer."""
        shape = model.layers.shapes.get(model.layers.cam_layer or "", (0, 0))
        return cls(1, model.spec.height, model.spec.width, shape[1] if len(shape) > 1 else 0)


@dataclass
class ExplainInput:
    """One preprocessed image, the classes to explain, and the model that explains them.

    `image` is the model's input (1, C, H, W) (or NHWC); `requested` are the class indices
    asked for, or None for the image's top class (`targets` resolves it); `layer` is the
    tensor name CAM methods read (already resolved to the model's default); `baseline` is a
    reference input like `image`, where one was sent."""

    model: RunningModel
    image: np.ndarray
    requested: list[int] | None
    budget: Budget
    layer: str | None = None
    baseline: np.ndarray | None = None
    # The image's own logits (1, K) and top class, once a run has given them
    _logits: np.ndarray | None = field(default=None, init=False, repr=False)
    _top: int | None = field(default=None, init=False, repr=False)

    @property
    def targets(self) -> list[int]:
        """The classes to explain: those requested, or the image's top class (a forward run
        finds it unless a `clean_run` already has)."""
        if self.requested is not None:
            return self.requested
        if self._top is None:
            self._top = int(np.argmax(self.probabilities()[0]))
        return [self._top]

    @property
    def target_count(self) -> int:
        """How many targets there are, known without running the model."""
        return 1 if self.requested is None else len(self.requested)

    def probabilities(self) -> np.ndarray:
        """The image's class probabilities (1, K), from a run already made where there was
        one, else from a forward run."""
        if self._logits is None:
            self._logits = np.asarray(self.model.logits(self.image), dtype=np.float32)
        return self.model.manifest.probabilities(self._logits)

    def clean_run(
        self, relu_rule: int = 0, layers: tuple[str, ...] = (), input_gradient: bool = True
    ) -> ExplainResult:
        """One explain run of the image for every target, a row each in target order (see
        GradientEngine.run). When the top class is wanted and not yet known, the run finds
        and seeds it itself, so no forward run is made first; either way the image's logits
        are kept for `probabilities`."""
        engine = self.model.engine
        if self.requested is None and self._top is None and engine.top_seeds():
            seed = np.zeros((1, self.classes), dtype=np.float32)
            top = np.ones((1, 1), dtype=np.float32)
            result = engine.run(self.image, seed, relu_rule, layers, input_gradient, top_seed=top)
            self._top = int(np.argmax(result.logits[0]))
        else:
            batch = np.repeat(self.image, len(self.targets), axis=0)
            result = self.gradients(batch, self.seeds(), relu_rule, layers, input_gradient)
        if self._logits is None:
            self._logits = np.asarray(result.logits[:1], dtype=np.float32)
        return result

    @property
    def classes(self) -> int:
        return self.model.manifest.classes

    @property
    def pixels(self) -> int:
        """H * W of the input."""
        height, width = self.nchw(self.image).shape[2:]
        return int(height * width)

    @property
    def elements(self) -> int:
        """C * H * W of the input: what one perturbed copy of it costs."""
        return int(self.image[0].size)

    def workload(self) -> Workload:
        """The figures a method's cost depends on, for this input."""
        height, width = self.nchw(self.image).shape[2:]
        shape = self.model.layers.shapes.get(self.layer or "", (0, 0))
        return Workload(self.target_count, height, width, shape[1] if len(shape) > 1 else 0)

    def seeds(self, repeats: int = 1) -> np.ndarray:
        """One-hot seeds (T * repeats, K): each target repeated `repeats` times in a row."""
        seeds = np.zeros((len(self.targets) * repeats, self.classes), dtype=np.float32)
        for row, target in enumerate(np.repeat(self.targets, repeats)):
            seeds[row, target] = 1.0
        return seeds

    def nchw(self, tensor: np.ndarray) -> np.ndarray:
        """A tensor like the input, as (N, C, H, W)."""
        return self.model.spec.to_nchw(tensor)

    def model_layout(self, tensor: np.ndarray) -> np.ndarray:
        """An (N, C, H, W) tensor in the model's own layout."""
        return self.model.spec.to_model_layout(tensor)

    def filled(self, pixel: float) -> np.ndarray:
        """The model input of a uniform picture of `pixel` (0 black, 1 white), like `image`."""
        value = self.model.preprocessing.input_value(pixel)  # (C, 1, 1)
        filled = np.broadcast_to(value, self.nchw(self.image).shape)
        return self.model_layout(np.ascontiguousarray(filled, dtype=np.float32))

    def scores(self, batch: np.ndarray, score: Score = "probability") -> np.ndarray:
        """Class scores (N, K) of a batch in the model's layout, in one forward run:
        softmax probabilities, or the raw outputs (`logit`)."""
        return self.scored(self.model.logits(batch), score)

    def scored(self, outputs: np.ndarray, score: Score = "probability") -> np.ndarray:
        """The model's raw outputs (N, K) as class scores: probabilities or the outputs."""
        outputs = np.asarray(outputs, dtype=np.float64)
        return outputs if score == "logit" else self.model.manifest.probabilities(outputs)

    def tapped(self, batch: np.ndarray, layers: tuple[str, ...]):
        """(logits (N, K), {layer: activation}) of a batch in the model's layout."""
        return self.model.taps.run(batch, layers)

    def gradients(
        self,
        batch: np.ndarray,
        seeds: np.ndarray,
        relu_rule: int = 0,
        layers: tuple[str, ...] = (),
        input_gradient: bool = True,
        propagation: PropagationRule | None = None,
    ) -> ExplainResult:
        """One run of the model's explain graph (see GradientEngine.run)."""
        engine = self.model.engine
        if propagation is None:
            return engine.run(batch, seeds, relu_rule, layers, input_gradient)
        return engine.run(batch, seeds, relu_rule, layers, input_gradient, propagation)


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
    budget_advice: ClassVar[str] = "Ask for fewer targets."  # when over the budget
    cost_is_exact: ClassVar[bool] = True  # False: `cost` is an upper bound (it may run fewer)

    @abstractmethod
    def explain(self, given: ExplainInput, params: Any) -> Explanation:
        """Heatmaps for every target of `given`."""

    @abstractmethod
    def cost(self, params: Any, work: Workload) -> Cost:
        """The forward and backward passes `explain` runs for `work` with `params`."""

    def require_budget(self, given: ExplainInput, params: Any) -> Cost:
        """This request's cost, refused (OverBudgetError) when its forward passes exceed what
        is left of the request's budget."""
        cost = self.cost(params, given.workload())
        given.budget.require(cost.forward, type(self).__name__, self.budget_advice)
        return cost

    def supports(self, model: RunningModel) -> bool:
        """Whether this method works on `model` (gradients available, a CAM layer)."""
        if self.needs_gradients and not model.engine.available:
            return False
        return not self.uses_layer or model.layers.cam_layer is not None

    def native_grid(self, given: ExplainInput, params: Any) -> tuple[int, int]:
        """The grid (h, w) the map is made at before it is upsampled to the input: the
        layer's for a method that reads one, else the input's pixels. The evaluation draws
        its random baseline maps at this grid (app/evaluate/maps.py)."""
        if self.uses_layer and given.layer is not None:
            height, width = given.model.layer_shape(given.layer)[-2:]
            return int(height), int(width)
        height, width = given.nchw(given.image).shape[2:]
        return int(height), int(width)

    def native_segments(self, given: ExplainInput, params: Any) -> np.ndarray | None:
        """For a method whose map is constant on segments of the input (superpixels), their
        labels (H, W) 0..M-1; the evaluation then draws one random value per segment. None
        (the default): the map follows `native_grid`."""
        return None


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
