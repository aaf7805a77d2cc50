"""KServe's own Python model server (the `kserve` package) serving the shipped `mnist_cnn` ONNX
with onnxruntime: the baseline of bench/kserve_baseline.py.

Its preprocessing is a port of Lantern's for opaque digit pictures: Pillow decodes the image
(V1: `{"instances": [{"b64": ...}]}`), RGB then grey, MNIST-style digit normalisation (the
same function Lantern uses, pure numpy), then the manifest's mean and std. V2 FP32 tensors
are run as they come. No limits, hints, batching or metrics of Lantern's: what a user would
write in KServe. Usage: python -m bench.kserve_model PORT THREADS"""

from __future__ import annotations

import base64
import io
import json
import logging
import sys
from typing import Any

import numpy as np
import onnxruntime as ort
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer
from PIL import Image

from app.config import PROJECT_ROOT
from app.imaging.digits import normalise_digit
from app.store.manifest import DigitNormalisation

ENTRY = PROJECT_ROOT / "model_store" / "mnist_cnn" / "1"


def digit_tensor(blob: bytes, mean: float, std: float, digit: DigitNormalisation) -> np.ndarray:
    """An opaque digit picture -> (1, 28, 28) float32, as Lantern prepares it."""
    grey = np.asarray(Image.open(io.BytesIO(blob)).convert("RGB").convert("L"))
    return ((normalise_digit(grey, digit) - mean) / std)[None].astype(np.float32)


class DigitModel(Model):
    def __init__(self, threads: int) -> None:
        super().__init__("mnist_cnn")
        self.threads = threads
        self.load()

    def load(self) -> bool:
        manifest = json.loads((ENTRY / "model.json").read_text())
        pre = manifest["preprocess"]
        self.mean, self.std = pre["mean"][0], pre["std"][0]
        self.digit = DigitNormalisation(**pre["digit"])
        self.labels = manifest["labels"]
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(ENTRY / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name
        self.ready = True
        return True

    def predict(self, payload: Any, headers: Any = None) -> Any:
        if isinstance(payload, InferRequest):
            return self._infer_v2(payload)
        batch = np.stack(
            [
                digit_tensor(base64.b64decode(item["b64"]), self.mean, self.std, self.digit)
                for item in payload["instances"]
            ]
        )
        logits = self.session.run(None, {self.input_name: batch})[0]
        return {"predictions": top_k(logits, self.labels)}

    def _infer_v2(self, request: InferRequest) -> InferResponse:
        batch = request.inputs[0].as_numpy().astype(np.float32)
        logits = self.session.run(None, {self.input_name: batch})[0]
        output = InferOutput("logits", list(logits.shape), "FP32", logits)
        return InferResponse(request.id or "0", self.name, [output])


def top_k(logits: np.ndarray, labels: list[str], k: int = 5) -> list[list[dict[str, Any]]]:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    return [
        [{"label": labels[i], "probability": float(row[i])} for i in np.argsort(-row)[:k]]
        for row in probabilities
    ]


def main() -> None:
    port, threads = int(sys.argv[1]), int(sys.argv[2])
    server = ModelServer(http_port=port, enable_grpc=False, workers=1, enable_latency_logging=False)
    # after the server configured its logging: no line per request, as Lantern's bench server
    for name in ("kserve", "kserve.trace", "uvicorn", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True
    server.start([DigitModel(threads)])


if __name__ == "__main__":
    main()
