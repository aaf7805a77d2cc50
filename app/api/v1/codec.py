"""Reading and writing KServe V1 bodies: the body, its instances (images or tensors), the
predictions, and the explanation's method and parameters. Every invalid input is a 400, as in
KServe's own model server."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError, create_model

from app.api.errors import APIError
from app.api.v1.schemas import V1Prediction, V1Request
from app.errors import validation_message
from app.explain.base import Method, MethodParams
from app.explain.options import ExplainOptions
from app.explain.registry import METHODS
from app.runtime.model import RunningModel
from app.store.manifest import ClassScore, InputSpec

DEFAULT_TOP_K, MAX_TOP_K = 5, 1000
FLOAT32_MAX = float(np.finfo(np.float32).max)
KEY_FIELD = "key"  # an instance's own id (TensorFlow Serving style), not part of the image
# The method's own parameters and the common options, per method: what :explain validates.
PARAMETER_MODELS: dict[str, type[BaseModel]] = {
    key: create_model(
        "".join(part.title() for part in key.split("_")) + "V1Parameters",
        __base__=(method.Params, ExplainOptions),
    )
    for key, method in METHODS.items()
}


def bad_input(message: str) -> APIError:
    return APIError(400, "invalid_input", message)


def parse_body(body: bytes, max_instances: int) -> V1Request:
    """The request; `inputs` is taken for `instances`, as KServe does."""
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise bad_input("The body is not valid JSON.") from error
    if isinstance(document, dict) and "instances" not in document and "inputs" in document:
        document = {**document, "instances": document.pop("inputs")}
    try:
        request = V1Request.model_validate(document)
    except ValidationError as error:
        raise bad_input(validation_message(error.errors(include_url=False))) from error
    if len(request.instances) > max_instances:
        raise bad_input(f"At most {max_instances} instances per request.")
    return request


def decode_instances(instances: list[Any], spec: InputSpec) -> list[bytes] | np.ndarray:
    """Encoded images, or the tensors as one batch (N, ...) in the model's layout."""
    tensors = [isinstance(instance, list) for instance in instances]
    if all(tensors):
        return tensor_batch(instances, spec)
    if any(tensors):
        raise bad_input("Send every instance as an image or every instance as a tensor.")
    return [
        image_bytes(instance, f"instances[{index}]") for index, instance in enumerate(instances)
    ]


def image_bytes(instance: Any, where: str) -> bytes:
    """The bytes of an image instance (or of `baseline_image`); `where` names it in errors."""
    encoded = _encoded_image(instance)
    if encoded is None:
        raise bad_input(f'{where} is neither an image ({{"b64": "<base64>"}}) nor a tensor.')
    if encoded.startswith("data:") and "," in encoded:
        encoded = encoded.split(",", 1)[1]
    try:
        return base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise bad_input(f"{where} is not valid base64.") from error


def _encoded_image(instance: Any) -> str | None:
    """The base64 text of an image instance: "<b64>", {"b64": ...}, {"<field>": {"b64": ...}}
    or TorchServe's {"data": "<b64>"}, each with an optional "key"; else None."""
    if isinstance(instance, str):
        return instance
    if not isinstance(instance, dict):
        return None
    fields = {name: value for name, value in instance.items() if name != KEY_FIELD}
    if len(fields) != 1:
        return None
    ((name, value),) = fields.items()
    if name == "b64" and isinstance(value, str):
        return value
    if isinstance(value, dict) and list(value) == ["b64"] and isinstance(value["b64"], str):
        return value["b64"]
    return value if name == "data" and isinstance(value, str) else None


def tensor_batch(instances: list[Any], spec: InputSpec) -> np.ndarray:
    expected = tuple(spec.batch_shape(1)[1:])
    try:
        batch = np.asarray(instances, dtype=np.float64)  # (N, ...)
    except (ValueError, TypeError) as error:
        raise bad_input("Tensor instances must be nested lists of numbers of one shape.") from error
    if batch.shape[1:] != expected:
        raise bad_input(
            f"Each tensor instance must have the model's input shape {list(expected)}, "
            f"not {list(batch.shape[1:])}."
        )
    if not (np.isfinite(batch) & (np.abs(batch) <= FLOAT32_MAX)).all():
        raise bad_input("Tensor instances must hold finite numbers within float32's range.")
    return batch.astype(np.float32)


def top_k(parameters: dict[str, Any]) -> int:
    """:predict's one parameter, `top_k` (default 5)."""
    unknown = sorted(set(parameters) - {"top_k"})
    if unknown:
        raise bad_input(f"Unknown parameter '{unknown[0]}'; :predict takes top_k.")
    k = parameters.get("top_k", DEFAULT_TOP_K)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_TOP_K:
        raise bad_input(f"top_k must be a whole number from 1 to {MAX_TOP_K}.")
    return k


def predictions(model: RunningModel, outputs: np.ndarray, k: int) -> list[dict[str, Any]]:
    """One prediction per row of the model's raw outputs (N, K), as the JSON values of a
    `V1Prediction` (an answer written without pydantic objects; tests check the shape)."""
    manifest = model.manifest
    values = []
    for row in manifest.top_classes(manifest.probabilities(outputs), k):
        scores = [{"index": c.index, "label": c.label, "probability": c.probability} for c in row]
        values.append({**scores[0], "top_k": scores})
    return values


def prediction(scores: list[ClassScore]) -> V1Prediction:
    best = scores[0]
    return V1Prediction(index=best.index, label=best.label, probability=best.probability,
                        top_k=scores)  # fmt: skip


@dataclass(frozen=True)
class ExplainChoice:
    """What an :explain asks for: the method, its parameters, the options, a baseline image."""

    key: str
    method: Method
    params: MethodParams
    options: ExplainOptions
    baseline: bytes | None = None


def explain_choice(
    parameters: dict[str, Any], query: Iterable[tuple[str, str]], default: str
) -> ExplainChoice:
    """The method (`method`, default `default`) and its parameters, from the query and the
    body's `parameters` (which win where both name one); `baseline_image` is the image of
    baseline=given."""
    merged: dict[str, Any] = _query_parameters(query) | parameters
    key = merged.pop("method", default)
    method = METHODS.get(key) if isinstance(key, str) else None
    if method is None:
        raise bad_input(f"Unknown method {key!r}; one of {', '.join(METHODS)}.")
    baseline = merged.pop("baseline_image", None)
    if "target" in merged:
        merged["target"] = _targets(merged["target"])
    try:
        chosen = PARAMETER_MODELS[key].model_validate(merged)
    except ValidationError as error:
        raise bad_input(validation_message(error.errors(include_url=False))) from error
    return ExplainChoice(
        key=key,
        method=method,
        params=method.Params.model_validate(chosen, from_attributes=True),
        options=ExplainOptions.model_validate(chosen, from_attributes=True),
        baseline=None if baseline is None else image_bytes(baseline, "baseline_image"),
    )


def _query_parameters(query: Iterable[tuple[str, str]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in query:
        if name == "target":
            found.setdefault("target", []).append(value)
        else:
            found[name] = value
    return found


def _targets(value: Any) -> Any:
    """Targets as the options take them (strings), from a label, an index or a list of them."""
    items = value if isinstance(value, list) else [value]
    return [str(item) if isinstance(item, int | str) and not isinstance(item, bool) else item
            for item in items]  # fmt: skip
