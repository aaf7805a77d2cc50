"""Patch scores by recomputing only what a patch changes.

Hiding one patch changes a local tensor (app/runtime/footprints.py) only where its footprint
meets the patch. So the network runs in parts between cuts (app/runtime/segments.py): each
part runs on a crop of its input, the intact tensor with the patch's changed region pasted
in, just large enough that the changed region of its output sees no padding of the crop; the
network after the last cut runs on the intact tensor with the changed region pasted in.

Exactness: an output pixel whose footprint lies inside the crop (or leaves it only where the
crop meets the tensor's edge) is computed from the same values as on the whole tensor. Each
crop starts at a multiple of its part's stride, so its pixels line up with the whole
tensor's, and a crop that reaches the far edge ends exactly there. The scores agree with the
plain runs to float rounding (the kernels tile a smaller tensor differently).

The cuts are chosen per image size and patch layout by a cost estimate (multiply-adds, a
copy per element, a fixed cost per part and patch); the plain runs are kept unless the
estimate saves at least MIN_SAVING of them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.explain.base import ExplainInput, Score, chunks
from app.runtime.footprints import Footprint
from app.runtime.stem import StemGraph

PART_OVERHEAD = 3e5  # multiply-adds a part costs per patch beyond its arithmetic (run, copies)
MIN_SAVING = 0.2  # run on crops only if the estimate is at most 0.8 of the plain runs
MAX_PARTS = 8  # parts between cuts (each its own session)


@dataclass(frozen=True)
class Span:
    """Per patch position along one axis: the first and last pixel (inclusive)."""

    first: np.ndarray
    last: np.ndarray

    @classmethod
    def of_masks(cls, masks: np.ndarray) -> Span:
        """The pixels each patch covers, from its 0/1 mask (P, side)."""
        covered = masks > 0
        first = covered.argmax(axis=1)
        return cls(first, masks.shape[1] - 1 - covered[:, ::-1].argmax(axis=1))

    def reached(self, stride: int, low: int, high: int, size: int) -> Span:
        """The pixels of a tensor of `size` whose footprint (stride, low, high) meets this."""
        first = np.maximum(0, -((high - self.first) // stride))
        last = np.minimum(size - 1, (self.last - low) // stride)
        return Span(first, last)


@dataclass(frozen=True)
class AxisCrop:
    """Along one axis: one crop length of a part's input, each patch's crop start (a multiple
    of the part's stride) and the span of the part's output that the patch changes."""

    length: int
    starts: np.ndarray
    changed: Span
    stride: int


def axis_crop(changed: Span, stride: int, low: int, high: int, size: int) -> AxisCrop:
    """The crops of an input of `size` that give `changed` of the output exactly."""
    need_first = np.maximum(0, changed.first * stride + low)
    need_last = np.minimum(size - 1, changed.last * stride + high)
    aligned = need_first // stride * stride
    length = int((need_last - aligned).max()) + 1
    while (size - length) % stride:
        length += 1  # so a crop moved back from the far edge still starts on the grid
    length = min(length, size)
    return AxisCrop(length, np.minimum(aligned, size - length), changed, stride)


@dataclass(frozen=True)
class CropPlan:
    """The cuts (the image first) and, per part, its crops along height and width."""

    cuts: tuple[str, ...]
    crops: tuple[tuple[AxisCrop, AxisCrop], ...]
    estimate: float  # of the plain runs' cost
    patches: tuple[Span, Span]  # the pixels each patch covers, along height and width

    @property
    def parts(self) -> int:
        return len(self.crops)


def plan_crops(stem: StemGraph, rows: np.ndarray, cols: np.ndarray) -> CropPlan | None:
    """The cheapest chain of cuts for patches `rows` (Py, H) x `cols` (Px, W), or None where
    the plain runs are estimated as cheap."""
    if len(stem.cuts) < 2 or stem.total_cost <= 0:
        return None
    image = stem.image
    patches = (Span.of_masks(rows), Span.of_masks(cols))
    changed = {cut: _changed(stem, cut, patches) for cut in stem.cuts}
    # best[cut][parts]: (cost per patch up to `cut`, the chain to it)
    best: dict[str, dict[int, tuple[float, tuple[str, ...]]]] = {image: {0: (0.0, (image,))}}
    for j, target in enumerate(stem.cuts[1:], start=1):
        best[target] = {}
        for source in stem.cuts[:j]:
            crop = _crops(stem, source, target, changed[target])
            sizes = (crop[0].length, crop[1].length)
            cost = stem.cost(source, target, sizes)
            cost += stem.channels(source) * sizes[0] * sizes[1] + PART_OVERHEAD
            for parts, (before, chain) in best[source].items():
                total = before + cost
                known = best[target].get(parts + 1)
                if parts < MAX_PARTS and (known is None or total < known[0]):
                    best[target][parts + 1] = (total, (*chain, target))
    options: list[tuple[float, tuple[str, ...]]] = []
    for cut in stem.cuts[1:]:
        height, width = stem.spatial(cut)
        rest = stem.total_cost - stem.cost(image, cut, stem.spatial(image))
        rest += stem.channels(cut) * height * width
        options.extend((cost + rest, chain) for cost, chain in best[cut].values())
    cost, chain = min(options)
    if cost > (1 - MIN_SAVING) * stem.total_cost:
        return None
    return chain_plan(stem, chain, rows, cols, cost / stem.total_cost)


def chain_plan(
    stem: StemGraph, chain: tuple[str, ...], rows: np.ndarray, cols: np.ndarray, estimate: float
) -> CropPlan:
    """The crops of each part of `chain` (the image, then cuts in graph order) for patches
    `rows` x `cols`."""
    patches = (Span.of_masks(rows), Span.of_masks(cols))
    crops = tuple(
        _crops(stem, source, target, _changed(stem, target, patches))
        for source, target in zip(chain, chain[1:], strict=False)
    )
    return CropPlan(chain, crops, estimate, patches)


def _changed(stem: StemGraph, cut: str, patches: tuple[Span, Span]) -> tuple[Span, Span]:
    """The spans of `cut` that each patch changes, along height and width."""
    if cut == stem.image:
        return patches
    footprint = stem.footprint(stem.image, cut)
    return _reached(patches, footprint, stem.spatial(cut))


def _reached(
    spans: tuple[Span, Span], footprint: Footprint, sizes: tuple[int, int]
) -> tuple[Span, Span]:
    return (
        spans[0].reached(footprint.stride[0], footprint.low[0], footprint.high[0], sizes[0]),
        spans[1].reached(footprint.stride[1], footprint.low[1], footprint.high[1], sizes[1]),
    )


def _crops(
    stem: StemGraph, source: str, target: str, changed: tuple[Span, Span]
) -> tuple[AxisCrop, AxisCrop]:
    footprint = stem.footprint(source, target)
    sizes = stem.spatial(source)
    return (
        axis_crop(changed[0], footprint.stride[0], footprint.low[0], footprint.high[0], sizes[0]),
        axis_crop(changed[1], footprint.stride[1], footprint.low[1], footprint.high[1], sizes[1]),
    )


@dataclass
class Changed:
    """One patch's changed region of a tensor: its top-left pixel and values (C, h, w)."""

    top: int
    left: int
    values: np.ndarray


def cropped_scores(
    given: ExplainInput,
    baseline: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    score: Score,
    plan: CropPlan,
) -> np.ndarray:
    """Scores (1 + Py * Px, K) of the intact image, then with each patch position hidden by
    `baseline` (1, C, H, W), as `patches.patch_scores` gives them, by runs on crops."""
    chain = given.model.segments.chain(plan.cuts)
    intact = [given.nchw(given.image).astype(np.float32)]  # each cut's intact tensor
    for part in range(plan.parts):
        intact.append(chain.part(part, intact[-1]))
    runs = [given.scored(chain.logits(intact[-1]), score)]
    row_spans, col_spans = plan.patches
    for positions in chunks(len(rows) * len(cols)):
        row, col = np.divmod(np.arange(len(rows) * len(cols))[positions], len(cols))
        changed = [
            Changed(
                int(row_spans.first[r]),
                int(col_spans.first[c]),
                baseline[0, :, row_spans.first[r] : row_spans.last[r] + 1,
                         col_spans.first[c] : col_spans.last[c] + 1],
            )
            for r, c in zip(row, col, strict=True)
        ]  # fmt: skip
        for part, (down, across) in enumerate(plan.crops):
            changed = _run_part(chain.part, part, intact[part], changed, down, across, row, col)
        pasted = np.repeat(intact[-1], len(changed), axis=0)
        for index, region in enumerate(changed):
            _paste(pasted[index], region, 0, 0)
        runs.append(given.scored(chain.logits(pasted), score))
    return np.concatenate(runs)


def _run_part(
    run, part: int, intact: np.ndarray, changed: list[Changed], down: AxisCrop, across: AxisCrop,
    row: np.ndarray, col: np.ndarray,
) -> list[Changed]:  # fmt: skip
    """Each patch's changed region of the part's output, from crops of its input."""
    crops = np.empty((len(changed), intact.shape[1], down.length, across.length), np.float32)
    for index, region in enumerate(changed):
        top, left = int(down.starts[row[index]]), int(across.starts[col[index]])
        crops[index] = intact[0, :, top : top + down.length, left : left + across.length]
        _paste(crops[index], region, top, left)
    out = run(part, crops)
    regions = []
    for index in range(len(changed)):
        r, c = row[index], col[index]
        first_r, last_r = int(down.changed.first[r]), int(down.changed.last[r])
        first_c, last_c = int(across.changed.first[c]), int(across.changed.last[c])
        top = first_r - int(down.starts[r]) // down.stride
        left = first_c - int(across.starts[c]) // across.stride
        values = out[index, :, top : top + last_r - first_r + 1, left : left + last_c - first_c + 1]
        regions.append(Changed(first_r, first_c, values))
    return regions


def _paste(tensor: np.ndarray, region: Changed, top: int, left: int) -> None:
    """Write `region` into `tensor` (C, h, w), whose pixel (0, 0) is (top, left) of the
    region's coordinates; only where they overlap."""
    height, width = region.values.shape[1:]
    y0, x0 = max(region.top - top, 0), max(region.left - left, 0)
    y1 = min(region.top - top + height, tensor.shape[1])
    x1 = min(region.left - left + width, tensor.shape[2])
    if y0 >= y1 or x0 >= x1:
        return
    ry, rx = y0 - (region.top - top), x0 - (region.left - left)
    tensor[:, y0:y1, x0:x1] = region.values[:, ry : ry + y1 - y0, rx : rx + x1 - x0]
