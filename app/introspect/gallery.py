"""A gallery of class images: for each model, the input grown for each class by activation
maximisation (default knobs, seed 0), one row per model, as one picture.

    python -m app.introspect.gallery --out docs/activation_maximisation.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from app.imaging.tensors import input_picture
from app.introspect.activation_maximisation import AscentParams, class_gradient, grow
from app.runtime.loader import LoadOptions, load_store
from app.runtime.model import RunningModel
from app.runtime.sessions import SessionFactory

TILE, GAP, LABEL_WIDTH, HEADER = 96, 6, 96, 20
STORE = Path(__file__).resolve().parents[2] / "model_store"


def class_images(model: RunningModel, params: AscentParams) -> list[np.ndarray]:
    """The grown picture (H, W, 3) uint8 of every class of `model`."""
    spec = model.spec.model_copy(update={"layout": "NCHW"})
    pictures = []
    for index in range(model.manifest.classes):
        fn = class_gradient(model.engine.run, model.manifest.classes, index, model.spec)
        image, _, _ = grow(fn, (spec.channels, spec.height, spec.width),
                           model.preprocessing, params)  # fmt: skip
        pictures.append(input_picture(image[0], spec, model.preprocessing))
    return pictures


def gallery(rows: dict[str, list[np.ndarray]], labels: list[str]) -> Image.Image:
    """One picture: a header of class labels, then a row of tiles per model name."""
    columns = max(len(tiles) for tiles in rows.values())
    width = LABEL_WIDTH + columns * (TILE + GAP)
    canvas = Image.new("RGB", (width, HEADER + len(rows) * (TILE + GAP)), "white")
    draw = ImageDraw.Draw(canvas)
    for column, label in enumerate(labels):
        draw.text((LABEL_WIDTH + column * (TILE + GAP) + TILE // 2 - 4, 4), label, fill="black")
    for row, (name, tiles) in enumerate(rows.items()):
        top = HEADER + row * (TILE + GAP)
        draw.text((4, top + TILE // 2 - 6), name, fill="black")
        for column, tile in enumerate(tiles):
            picture = Image.fromarray(tile).resize((TILE, TILE), Image.Resampling.NEAREST)
            canvas.paste(picture, (LABEL_WIDTH + column * (TILE + GAP), top))
    return canvas


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=STORE)
    parser.add_argument("--models", nargs="+", default=["mnist_cnn", "lenet5"])
    parser.add_argument("--out", type=Path, default=Path("docs/activation_maximisation.png"))
    args = parser.parse_args(argv)
    registry = load_store(args.store, LoadOptions(SessionFactory(1)))
    models = [registry.get(name) for name in args.models]
    rows = {model.name: class_images(model, AscentParams(seed=0)) for model in models}
    gallery(rows, list(models[0].manifest.labels)).save(args.out)
    return args.out


if __name__ == "__main__":
    print(f"wrote {main()}")
