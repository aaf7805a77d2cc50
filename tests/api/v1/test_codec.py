"""app/api/v1/codec.py: the :predict answer's JSON values are a V1PredictResponse."""

from __future__ import annotations

import numpy as np
import pytest

from app.api.deps import services_of
from app.api.encoding import json_values
from app.api.v1 import codec
from app.api.v1.schemas import V1PredictResponse


@pytest.mark.parametrize("k", [1, 3, 50])
def test_the_predictions_are_v1_predictions_written_as_pydantic_writes_them(client, k):
    model = services_of(client.app).registry.get("tiny_digits", None)
    outputs = np.random.default_rng(k).normal(size=(3, model.manifest.classes)).astype(np.float32)
    values = {"predictions": codec.predictions(model, outputs, k)}
    document = V1PredictResponse.model_validate(values)
    assert json_values(values).body == document.model_dump_json(by_alias=True).encode()
    ranked = model.manifest.ranked(model.manifest.probabilities(outputs), k)
    assert document.predictions == [codec.prediction(scores) for scores in ranked]
