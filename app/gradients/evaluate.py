"""One-off evaluation of a small graph while an explain graph is built (constant folding, a
resize's interpolation matrix): onnxruntime as a calculator, with its default options. The
sessions Lantern serves with are all made by `app.runtime.sessions`."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort


def evaluate(
    model: onnx.ModelProto, feeds: dict[str, np.ndarray], outputs: list[str] | None = None
) -> list[np.ndarray]:
    """The values of `outputs` (default: every graph output) of `model` run once on `feeds`."""
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return list(session.run(outputs, feeds))
