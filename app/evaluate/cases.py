"""The images of an evaluation as the metrics use them: each one decoded, preprocessed, and
given the class its maps explain."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from app.errors import ImageError, InvalidTargetError
from app.evaluate.params import EncodedImage, Target
from app.explain.base import Budget, ExplainInput, Method
from app.imaging.decode import ImageLimits
from app.runtime.model import RunningModel

UNBOUNDED = Budget(10**15)  # the evaluation's cost is bounded as a whole (app/evaluate/cost.py)
# The images were checked against the server's limits when the job was planned.
PLANNED_LIMITS = ImageLimits(max_pixels=10**12, max_side=10**7, max_aspect_ratio=10**7)


@dataclass
class ImageCase:
    """One image: its name and label, the explanation input of its target class (no layer),
    and the target's probability on the intact image."""

    name: str
    label: str | None
    given: ExplainInput
    probability: float

    @property
    def target(self) -> int:
        return self.given.targets[0]

    @property
    def size(self) -> tuple[int, int]:
        height, width = self.given.nchw(self.given.image).shape[2:]
        return int(height), int(width)

    def nchw(self) -> np.ndarray:
        """The input (1, C, H, W)."""
        return self.given.nchw(self.given.image)

    def for_method(self, method: Method, model: RunningModel | None = None) -> ExplainInput:
        """The input as `method` takes it (with the model's CAM layer if it reads one), on
        `model` (default: the evaluated one)."""
        model = model or self.given.model
        layer = model.layers.cam(None) if method.uses_layer else None
        return dataclasses.replace(self.given, model=model, layer=layer)


def decode_images(
    model: RunningModel, images: list[EncodedImage], limits: ImageLimits
) -> list[np.ndarray]:
    """Each image as the model's input (1, C, H, W) (or NHWC); an ImageError names it."""
    tensors = []
    for image in images:
        try:
            tensors.append(model.preprocess([image.decoded()], limits))
        except ImageError as error:
            message = error.message.removeprefix("Image 0: ")
            raise type(error)(f"{image.name}: {message}") from error
    return tensors


def image_cases(
    model: RunningModel,
    images: list[EncodedImage],
    target: Target,
    limits: ImageLimits = PLANNED_LIMITS,
) -> list[ImageCase]:
    """Every image decoded, with its target: the top class, or its label (InvalidTargetError
    when the label is no class of the model)."""
    cases = []
    for image, tensor in zip(images, decode_images(model, images, limits), strict=True):
        probabilities = model.probabilities(tensor)[0]  # (K,)
        if target == "label":
            chosen = model.manifest.class_index(_label_of(image))
        else:
            chosen = int(np.argmax(probabilities))
        given = ExplainInput(model=model, image=tensor, requested=[chosen], budget=UNBOUNDED)
        cases.append(ImageCase(image.name, image.label, given, float(probabilities[chosen])))
    return cases


def _label_of(image: EncodedImage) -> str:
    if image.label is None:
        raise InvalidTargetError(
            f"{image.name} has no label (target=label needs images in class folders)."
        )
    return image.label
