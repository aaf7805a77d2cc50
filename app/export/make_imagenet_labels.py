"""Regenerate app/export/imagenet_labels.txt, the 1000 ImageNet-1k class names in class-index
order, from the data files that the timm wheel ships (Apache-2.0; the names are WordNet
lemmas, WordNet 3.0 licence). Nothing is fetched at run time; this runs once, by hand:

    pip download timm --no-deps -d /tmp/timm
    python -m app.export.make_imagenet_labels /tmp/timm/timm-*.whl

Each class is named by the first lemma of its synset; where two classes share it ("crane" the
bird and the machine, "maillot"), they get their whole lemma list, then the synset id.
"""

from __future__ import annotations

import argparse
import zipfile
from collections import Counter
from pathlib import Path

SYNSETS = "timm/data/_info/imagenet_synsets.txt"  # the 1000 synset ids, in class-index order
LEMMAS = "timm/data/_info/imagenet_synset_to_lemma.txt"  # "<synset>\t<lemma>, <lemma>, ..."
OUTPUT = Path(__file__).with_name("imagenet_labels.txt")


def imagenet_labels(wheel: Path) -> list[str]:
    """Unique class names of ImageNet-1k, index order, from a timm wheel."""
    with zipfile.ZipFile(wheel) as archive:
        synsets = archive.read(SYNSETS).decode().split()
        lemmas = dict(
            line.split("\t", 1) for line in archive.read(LEMMAS).decode().splitlines() if line
        )
    first = [lemmas[synset].split(",")[0].strip() for synset in synsets]
    shared = {name for name, count in Counter(first).items() if count > 1}
    names = [lemmas[s].strip() if f in shared else f for s, f in zip(synsets, first, strict=True)]
    repeated = {name for name, count in Counter(names).items() if count > 1}
    return [
        f"{name} ({synset})" if name in repeated else name
        for synset, name in zip(synsets, names, strict=True)
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path, help="a timm wheel (pip download timm --no-deps)")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    labels = imagenet_labels(args.wheel)
    if len(labels) != 1000:
        raise SystemExit(f"{args.wheel}: found {len(labels)} classes, expected 1000")
    args.out.write_text("\n".join(labels) + "\n")
    print(f"wrote {len(labels)} labels to {args.out}")


if __name__ == "__main__":
    main()
