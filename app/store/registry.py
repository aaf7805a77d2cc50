"""The loaded models, looked up by name and version (never joined into a path)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import APIError
from app.store.loader import LoadedModel, StoreEntryError, entry_folders, load_entry

log = logging.getLogger("lantern.store")


@dataclass
class ModelRegistry:
    """name -> version -> LoadedModel, plus the entries that were refused and why."""

    models: dict[str, dict[int, LoadedModel]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    ready: bool = False

    def add(self, model: LoadedModel) -> None:
        self.models.setdefault(model.name, {})[model.version] = model

    def get(self, name: str, version: int | None = None) -> LoadedModel:
        versions = self.models.get(name)
        if not versions:
            raise APIError(404, "model_not_found", f"No model named '{name}' is loaded.")
        if version is None:
            return versions[max(versions)]
        if version not in versions:
            raise APIError(404, "version_not_found", f"Model '{name}' has no version {version}.")
        return versions[version]

    def latest(self) -> list[LoadedModel]:
        return [versions[max(versions)] for _, versions in sorted(self.models.items())]


def load_registry(root: Path, threads: int = 0, warmup_runs: int = 1) -> ModelRegistry:
    """Load every entry under `root`; a broken entry is logged and skipped, the rest serve."""
    registry = ModelRegistry()
    if not root.is_dir():
        log.error("model store %s does not exist; serving no models", root)
        return registry
    for name, version, folder in entry_folders(root):
        try:
            registry.add(load_entry(name, version, folder, threads, warmup_runs))
            log.info("loaded model %s version %d", name, version)
        except Exception as error:  # an unreadable entry must not stop the others serving
            reason = str(error) if isinstance(error, StoreEntryError) else repr(error)
            registry.refused[f"{name}/{version}"] = reason
            log.error("refused model %s version %d: %s", name, version, reason)
    return registry
