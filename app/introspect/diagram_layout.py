"""Where the diagram's blocks go: rows by depth, wrapped into columns at the depths fewest
edges cross (between two residual blocks rather than inside one), and gutters wide enough for
the edges that run through them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

BLOCK_W, BLOCK_H, ROW_GAP, LANE_GAP, MARGIN = 176, 44, 28, 16, 40
MAX_ROWS = 14  # depth levels per column before wrapping
CUT_SLACK = MAX_ROWS // 2  # a column may end this many levels early, to wrap between blocks
LANE_START, LANE_STEP, ENTRY_MARGIN, MIN_GUTTER = 12, 6, 12, 56  # gutter geometry, pixels


@dataclass
class Block:
    """One drawn node: its id (node name), two lines of text, kind and position."""

    key: str
    title: str
    label: str
    shape: str
    kind: str
    depth: int
    x: float = 0.0
    y: float = 0.0
    column: int = 0
    row: int = 0


@dataclass
class Layout:
    """The drawing's size and, per column, its right edge and the left of the next one."""

    width: float
    height: float
    column_right: dict[int, float] = field(default_factory=dict)
    next_left: dict[int, float] = field(default_factory=dict)


def crossings(depths: int, edges: list[tuple[int, int]]) -> list[int]:
    """crossings[k]: edges from a depth below k to a depth at or above k."""
    counts = [0] * (depths + 1)
    for low, high in edges:
        for level in range(low + 1, high + 1):
            counts[level] += 1
    return counts


def column_starts(depths: int, edges: list[tuple[int, int]]) -> list[int]:
    """The first depth of each column: at most MAX_ROWS levels each, balanced, each cut
    moved (by up to CUT_SLACK levels) to where the fewest edges cross it."""
    cut_cost = crossings(depths, edges)
    starts = [0]
    while depths - starts[-1] > MAX_ROWS:
        start = starts[-1]
        remaining = depths - start
        ideal = start + math.ceil(remaining / math.ceil(remaining / MAX_ROWS))
        candidates = range(max(start + 1, ideal - CUT_SLACK), start + MAX_ROWS + 1)
        starts.append(min(candidates, key=lambda k: (cut_cost[k], abs(k - ideal))))
    return starts


def assign_columns(blocks: list[Block], edges: list[tuple[str, str]]) -> list[list[Block]]:
    """Give every block its column and row; returns the blocks of each column."""
    by_key = {block.key: block for block in blocks}
    depths = max(block.depth for block in blocks) + 1
    starts = column_starts(depths, [(by_key[a].depth, by_key[b].depth) for a, b in edges])
    columns: list[list[Block]] = [[] for _ in starts]
    for block in blocks:
        column = max(c for c, first in enumerate(starts) if first <= block.depth)
        block.column, block.row = column, block.depth - starts[column]
        columns[column].append(block)
    return columns


def place(columns: list[list[Block]], gutters: dict[int, int]) -> Layout:
    """Set every block's x and y; `gutters[c]` is how many lanes the edges need right of
    column c (see diagram_edges.plan_lanes): the gutter widens to fit them."""
    result = Layout(0.0, 0.0)
    left = float(MARGIN)
    for column, members in enumerate(columns):
        rows: dict[int, list[Block]] = {}
        for block in members:
            rows.setdefault(block.row, []).append(block)
        width = max(len(row) for row in rows.values()) * (BLOCK_W + LANE_GAP) - LANE_GAP
        for row in rows.values():
            _place_row(row, left, width)
        result.column_right[column] = left + width
        left += width + gutter_width(gutters.get(column, 0))
        result.next_left[column] = left
    tallest = max(block.row for members in columns for block in members) + 1
    result.width = result.column_right[len(columns) - 1] + MARGIN
    result.height = 2 * MARGIN + tallest * (BLOCK_H + ROW_GAP) - ROW_GAP
    return result


def gutter_width(lanes: int) -> float:
    return max(MIN_GUTTER, LANE_START + lanes * LANE_STEP + ENTRY_MARGIN)


def _place_row(row: list[Block], left: float, width: float) -> None:
    used = len(row) * (BLOCK_W + LANE_GAP) - LANE_GAP
    start = left + (width - used) / 2
    for lane, block in enumerate(row):
        block.x = start + lane * (BLOCK_W + LANE_GAP)
        block.y = MARGIN + block.row * (BLOCK_H + ROW_GAP)
