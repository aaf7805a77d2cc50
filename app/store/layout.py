"""The store's layout on disk: `<root>/<name>/<version>/model.onnx` beside `model.json`, one
folder per numeric version; reading and writing an entry's manifest and checksum."""

from __future__ import annotations

import hashlib
from pathlib import Path

from app.store.manifest import Manifest

MANIFEST_FILE = "model.json"
MODEL_FILE = "model.onnx"


def entry_folders(root: Path) -> list[tuple[str, int, Path]]:
    """(name, version, folder) of every `root/<name>/<numeric version>/` folder."""
    found = []
    for model_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for version_dir in model_dir.iterdir():
            if version_dir.is_dir() and version_dir.name.isascii() and version_dir.name.isdecimal():
                found.append((model_dir.name, int(version_dir.name), version_dir))
    return sorted(found, key=lambda item: (item[0], item[1]))


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(manifest: Manifest, folder: Path) -> Path:
    path = folder / MANIFEST_FILE
    path.write_text(manifest.model_dump_json(indent=2) + "\n")
    return path


def read_manifest(folder: Path) -> Manifest:
    return Manifest.model_validate_json((folder / MANIFEST_FILE).read_text())
