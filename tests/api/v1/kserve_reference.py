"""KServe's own model server (the `kserve` package) with two stand-in models, the reference that
Lantern's /v1 answers are compared with: `python -m tests.api.v1.kserve_reference PORT`.

`reference` is ready; it refuses (InvalidInput) any instance that is not {"b64": ...}.
`loading` never becomes ready."""

from __future__ import annotations

import sys
from typing import Any

from kserve import Model, ModelServer
from kserve.errors import InvalidInput


class Reference(Model):
    def __init__(self) -> None:
        super().__init__("reference")
        self.ready = True

    def predict(self, payload: Any, headers: Any = None) -> dict[str, Any]:
        return {"predictions": [0 for _ in images(payload)]}

    def explain(self, payload: Any, headers: Any = None) -> dict[str, Any]:
        return {"predictions": [0 for _ in images(payload)], "explanations": []}


class Loading(Model):
    def __init__(self) -> None:
        super().__init__("loading")
        self.ready = False


def images(payload: Any) -> list[Any]:
    instances = payload.get("instances") if isinstance(payload, dict) else None
    if not instances or not all(isinstance(i, dict) and "b64" in i for i in instances):
        raise InvalidInput("Each instance must be an image.")
    return instances


if __name__ == "__main__":
    port = int(sys.argv[1])
    ModelServer(http_port=port, enable_grpc=False, workers=1).start([Reference(), Loading()])
