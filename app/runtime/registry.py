"""The loaded models, looked up by name and version (never joined into a path)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from app.errors import ModelNotFoundError, VersionNotFoundError
from app.runtime.model import RunningModel

log = logging.getLogger("lantern")


@dataclass
class ModelRegistry:
    """name -> version -> RunningModel, plus the entries that were refused and why."""

    models: dict[str, dict[int, RunningModel]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    ready: bool = False

    def adopt(self, loaded: ModelRegistry) -> None:
        """Serve what `loaded` holds (the store as the lifespan loaded it), and become ready."""
        self.models, self.refused = loaded.models, loaded.refused
        self.ready = True

    def add(self, model: RunningModel) -> None:
        self.models.setdefault(model.name, {})[model.version] = model

    def get(self, name: str, version: int | None = None) -> RunningModel:
        versions = self.models.get(name)
        if not versions:
            raise ModelNotFoundError(f"No model named '{name}' is loaded.")
        if version is None:
            return versions[max(versions)]
        if version not in versions:
            raise VersionNotFoundError(f"Model '{name}' has no version {version}.")
        return versions[version]

    def latest(self) -> list[RunningModel]:
        return [versions[max(versions)] for _, versions in sorted(self.models.items())]

    def versions(self, name: str) -> list[int]:
        return sorted(self.models.get(name, {}))

    def count(self) -> int:
        """Model versions loaded."""
        return sum(len(versions) for versions in self.models.values())

    def settle_gradients(self, stop: threading.Event | None = None) -> None:
        """Build and self-check every model's explain graphs that were left pending, one model
        after another (the latest versions first), until `stop` is set; gradient requests
        meanwhile wait for their model's check."""
        everything = self.latest() + [
            model for versions in self.models.values() for model in versions.values()
        ]
        for model in dict.fromkeys(everything):
            if stop is not None and stop.is_set():
                return
            try:
                model.engine.settle()
            except Exception:  # the engine refuses on its own; this thread must go on
                log.exception("self-check of model %s version %d", model.name, model.version)

    def settle_gradients_in_background(self) -> BackgroundCheck:
        """settle_gradients on a thread, so the server is ready meanwhile."""
        return BackgroundCheck(self).start()


class BackgroundCheck:
    """The thread that self-checks the models once the server is ready. `stop` lets it end
    after the model in hand and waits for that: a process must not exit while onnxruntime
    runs on another thread (it aborts)."""

    def __init__(self, registry: ModelRegistry) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=registry.settle_gradients, args=(self._stop,), name="self-check", daemon=True
        )

    def start(self) -> BackgroundCheck:
        self._thread.start()
        return self

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._thread.join(timeout)
