"""Superpixels in numpy: SLIC (Achanta et al. 2012, "SLIC Superpixels Compared to
State-of-the-Art Superpixel Methods") and a plain grid, for LIME and KernelSHAP.

scikit-image's `slic` would add scipy, networkx, imageio, tifffile and more to a server whose
runtime dependencies are kept few; this is the algorithm in about a hundred lines. SLIC here:
k-means in (CIELAB colour, position) space from centres on a regular grid of step S, each
pixel compared with the centres of its own and the 8 neighbouring grid cells (the paper's
2S x 2S search window, from the pixel's side), distance sqrt(d_lab^2 + (d_xy / S)^2 m^2) with
compactness m; 10 iterations; then every segment made connected: pieces of a segment that
do not touch each other become segments of their own, and pieces smaller than a quarter of
S^2 join a neighbour. Labels are 0..M-1, numbered in raster order of their first pixel."""

from __future__ import annotations

import numpy as np

ITERATIONS = 10
SHIFTS = ((0, 1), (1, 0), (0, -1), (-1, 0))  # 4-connectivity


def grid_segments(height: int, width: int, count: int) -> np.ndarray:
    """(H, W) labels of about `count` near-square cells in rows and columns."""
    rows = max(1, min(height, round(np.sqrt(count * height / width))))
    cols = max(1, min(width, round(count / rows)))
    row_of = np.arange(height) * rows // height
    col_of = np.arange(width) * cols // width
    return (row_of[:, None] * cols + col_of[None, :]).astype(np.int64)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) sRGB in [0, 1] -> CIELAB (D65), (H, W, 3): L in [0, 100]."""
    linear = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = linear @ np.array(
        [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169],
         [0.019334, 0.119193, 0.950227]]
    ).T / np.array([0.950456, 1.0, 1.088754])  # fmt: skip
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


def slic(picture: np.ndarray, count: int, compactness: float = 10.0) -> np.ndarray:
    """(H, W) labels of about `count` connected superpixels of an RGB uint8 picture (H, W, 3)."""
    height, width = picture.shape[:2]
    features = rgb_to_lab(picture.astype(np.float64) / 255.0)  # (H, W, 3)
    grid = grid_segments(height, width, count)
    cols = int(grid[0, -1]) + 1
    rows = int(grid[-1, 0]) // cols + 1
    step = np.sqrt(height * width / (rows * cols))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    points = np.concatenate([features, ys[..., None], xs[..., None]], axis=-1)  # (H, W, 5)
    centres = _means(points, grid, rows * cols)  # (M, 5)
    candidates = _neighbour_cells(grid, rows, cols)  # (9, H, W), -1 outside the grid
    scale = np.array([1.0, 1.0, 1.0, compactness / step, compactness / step])
    labels = grid
    for _ in range(ITERATIONS):
        labels = _assign(points, centres, candidates, scale)
        centres = np.where(
            np.bincount(labels.ravel(), minlength=len(centres))[:, None] > 0,
            _means(points, labels, len(centres)),
            centres,
        )
    return connected(labels, min_size=max(1, int(step * step / 4)))


def _means(points: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """The mean point (count, 5) of each label (0 where a label has no pixel)."""
    flat = points.reshape(-1, points.shape[-1])
    totals = np.stack(
        [np.bincount(labels.ravel(), flat[:, i], count) for i in range(flat.shape[1])], axis=1
    )
    return totals / np.maximum(np.bincount(labels.ravel(), minlength=count), 1)[:, None]


def _neighbour_cells(grid: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """For each pixel, the labels of its own grid cell and the 8 around it (-1 outside)."""
    row, col = np.divmod(grid, cols)
    cells = []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            r, c = row + dy, col + dx
            inside = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
            cells.append(np.where(inside, r * cols + c, -1))
    return np.stack(cells)


def _assign(
    points: np.ndarray, centres: np.ndarray, candidates: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """Each pixel's nearest candidate centre by the SLIC distance."""
    scaled, centres = points * scale, centres * scale  # (H, W, 5), (M, 5)
    distances = np.empty(candidates.shape)  # (9, H, W)
    for index, cells in enumerate(candidates):
        offsets = scaled - centres[np.maximum(cells, 0)]
        distances[index] = np.where(cells >= 0, np.einsum("hwf,hwf->hw", offsets, offsets), np.inf)
    nearest = distances.argmin(axis=0)  # (H, W)
    return np.take_along_axis(candidates, nearest[None], axis=0)[0]


def components(labels: np.ndarray) -> np.ndarray:
    """(H, W) ids of the 4-connected pieces of equal labels: each piece gets the smallest
    raster index among its pixels (label propagation with pointer jumping)."""
    height, width = labels.shape
    ids = np.arange(height * width).reshape(height, width)
    while True:
        before = ids
        for dy, dx in SHIFTS:
            neighbour = np.roll(ids, (dy, dx), axis=(0, 1))
            same = labels == np.roll(labels, (dy, dx), axis=(0, 1))
            same &= _not_wrapped(labels.shape, dy, dx)
            ids = np.where(same, np.minimum(ids, neighbour), ids)
        ids = ids.ravel()[ids.ravel()].reshape(height, width)  # jump to the root's id
        if np.array_equal(ids, before):
            return ids


def _not_wrapped(shape: tuple[int, ...], dy: int, dx: int) -> np.ndarray:
    """Where np.roll by (dy, dx) brought a real neighbour, not one from the other edge."""
    valid = np.ones(shape, dtype=bool)
    if dy:
        valid[0 if dy > 0 else -1, :] = False
    if dx:
        valid[:, 0 if dx > 0 else -1] = False
    return valid


def connected(labels: np.ndarray, min_size: int) -> np.ndarray:
    """Labels 0..M-1 of connected segments: each piece of a segment on its own, and each
    piece smaller than `min_size` pixels merged into a neighbour, round by round, until none
    is left: into its largest neighbour that is not small where it has one, else (a picture
    of small pieces: noise) pairs of small pieces that choose each other merge. No piece
    that takes others in moves in the same round, so merged pieces stay connected."""
    ids = components(labels).ravel()
    pairs = _adjacent_pixels(labels.shape)  # (P, 2) raster indices of 4-neighbours
    while True:
        sizes = np.bincount(ids, minlength=ids.size)
        small = (sizes > 0) & (sizes < min_size)
        choice = _choices(ids, pairs, sizes, small)  # piece -> the neighbour it joins, or -1
        chosen = np.flatnonzero(choice >= 0)
        if not chosen.size:
            break
        into = choice[chosen]
        accept = ~small[into] | ((choice[into] == chosen) & (chosen > into))
        target = np.arange(ids.size)
        target[chosen[accept]] = into[accept]
        ids = target[ids]
    _, relabelled = np.unique(ids, return_inverse=True)
    return relabelled.reshape(labels.shape).astype(np.int64)


def _choices(
    ids: np.ndarray, pairs: np.ndarray, sizes: np.ndarray, small: np.ndarray
) -> np.ndarray:
    """For each small piece, the neighbour it would join: the largest that is not small, else
    the largest (ties: the smallest id); -1 for the other pieces."""
    left, right = ids[pairs[:, 0]], ids[pairs[:, 1]]
    edges = np.concatenate([np.stack([left, right], 1), np.stack([right, left], 1)])
    edges = edges[(edges[:, 0] != edges[:, 1]) & small[edges[:, 0]]]
    choice = np.full(ids.size, -1)
    if edges.size:
        other = edges[:, 1]
        order = np.lexsort((other, -sizes[other], small[other], edges[:, 0]))
        best = edges[order]
        first = np.unique(best[:, 0], return_index=True)[1]
        choice[best[first, 0]] = best[first, 1]
    return choice


def _adjacent_pixels(shape: tuple[int, ...]) -> np.ndarray:
    """(P, 2) raster indices of every pair of horizontally or vertically adjacent pixels."""
    index = np.arange(shape[0] * shape[1]).reshape(shape)
    across = np.stack([index[:, :-1].ravel(), index[:, 1:].ravel()], axis=1)
    down = np.stack([index[:-1, :].ravel(), index[1:, :].ravel()], axis=1)
    return np.concatenate([across, down])
