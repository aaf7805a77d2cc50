"""Regenerate static/samples/efficientnet_lite0/, the photographs the web UI offers for the
ImageNet model, from the wheels that ship them (each photo's licence is recorded in
static/samples/LICENSES.md). Nothing is fetched at run time; this runs once, by hand:

    pip download scikit-image scikit-learn matplotlib --no-deps -d /tmp/wheels
    python -m app.export.make_photo_samples /tmp/wheels/*.whl

Each photo is scaled (Lanczos) so that its longer side is at most 512 pixels and saved as a
baseline JPEG (quality 90) without metadata; grey photos stay grey.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

from PIL import Image

OUTPUT = Path(__file__).resolve().parents[2] / "static" / "samples" / "efficientnet_lite0"
LONGEST_SIDE = 512

# sample name -> (wheel whose name starts with this, path of the photo inside the wheel)
PHOTOS: dict[str, tuple[str, str]] = {
    "chelsea": ("scikit_image", "skimage/data/chelsea.png"),
    "coffee": ("scikit_image", "skimage/data/coffee.png"),
    "rocket": ("scikit_image", "skimage/data/rocket.jpg"),
    "astronaut": ("scikit_image", "skimage/data/astronaut.png"),
    "cameraman": ("scikit_image", "skimage/data/camera.png"),
    "clock": ("scikit_image", "skimage/data/clock_motion.png"),
    "hubble": ("scikit_image", "skimage/data/hubble_deep_field.jpg"),
    "retina": ("scikit_image", "skimage/data/retina.jpg"),
    "china": ("scikit_learn", "sklearn/datasets/images/china.jpg"),
    "flower": ("scikit_learn", "sklearn/datasets/images/flower.jpg"),
    "grace-hopper": ("matplotlib", "matplotlib/mpl-data/sample_data/grace_hopper.jpg"),
}


def sample_picture(data: bytes) -> Image.Image:
    """The photo as an 8-bit RGB or grey picture, its longer side at most LONGEST_SIDE."""
    opened = Image.open(io.BytesIO(data))
    image = opened.convert("L" if opened.mode in ("L", "I;16", "I") else "RGB")
    scale = LONGEST_SIDE / max(image.size)
    if scale < 1:
        size = (round(image.width * scale), round(image.height * scale))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image


def write_samples(wheels: list[Path], out: Path) -> list[Path]:
    """Every photo of PHOTOS, from the wheel that holds it, as out/<name>.jpg."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (wheel_prefix, member) in PHOTOS.items():
        wheel = next((w for w in wheels if w.name.startswith(wheel_prefix + "-")), None)
        if wheel is None:
            raise SystemExit(f"no {wheel_prefix} wheel given (needed for {name})")
        with zipfile.ZipFile(wheel) as archive:
            picture = sample_picture(archive.read(member))
        path = out / f"{name}.jpg"
        picture.save(path, "JPEG", quality=90, optimize=True)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "wheels", type=Path, nargs="+", help="scikit-image, scikit-learn, matplotlib"
    )
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    written = write_samples(args.wheels, args.out)
    print(f"wrote {len(written)} photos to {args.out}")


if __name__ == "__main__":
    main()
