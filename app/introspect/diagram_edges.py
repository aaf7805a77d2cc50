"""The diagram's edges. Between consecutive rows of a column an edge is a curve; any other
edge runs through a gutter: a skip (a residual) down the gutter right of its column, an edge
to a later column up that gutter, over the top and down beside its target.

Each gutter edge gets its own lane, given so that edges do not cross: a skip that spans
another runs outside it, and the edges that leave a column run outside all of its skips.
Among those, the one leaving from lower down runs further out, lower over the top, and
enters its column further out (so a column wrap never cuts across a residual line)."""

from __future__ import annotations

from dataclasses import dataclass

from app.introspect.diagram_layout import (
    BLOCK_H,
    BLOCK_W,
    ENTRY_MARGIN,
    LANE_START,
    LANE_STEP,
    MARGIN,
    ROW_GAP,
    Block,
    Layout,
)

Y_STEP, MAX_Y_LANES = 2, 5  # a lane's horizontal runs sit Y_STEP px nearer their block


@dataclass(frozen=True)
class Route:
    """How a gutter edge runs: its lane in its source column's gutter and, for an edge to a
    later column, its place among the edges entering that column (0: innermost)."""

    lane: int
    entry: int = 0
    entries: int = 0


Edge = tuple[str, str]


def plan_lanes(by_key: dict[str, Block], edges: list[Edge]) -> tuple[dict[Edge, Route], dict]:
    """Routes of the gutter edges, and how many lanes each column's right gutter needs."""
    routes: dict[Edge, Route] = {}
    gutters: dict[int, int] = {}
    for column in sorted({block.column for block in by_key.values()}):
        mine = [(a, b) for a, b in edges if by_key[a].column == column]
        skips = [e for e in mine if by_key[e[1]].column == column and _span(by_key, e) > 1]
        lanes = _skip_lanes(by_key, skips)
        routes.update({edge: Route(lane) for edge, lane in lanes.items()})
        leaving = sorted(
            (e for e in mine if by_key[e[1]].column != column),
            key=lambda e: (by_key[e[0]].row, by_key[e[1]].row),
        )
        first = max(lanes.values(), default=-1) + 1
        for index, edge in enumerate(leaving):
            routes[edge] = Route(first + index, index, len(leaving))
        gutters[column] = first + 2 * len(leaving)  # lanes up, and entries beside the next
    return routes, gutters


def _span(by_key: dict[str, Block], edge: Edge) -> int:
    return by_key[edge[1]].row - by_key[edge[0]].row


def _skip_lanes(by_key: dict[str, Block], skips: list[Edge]) -> dict[Edge, int]:
    """Shortest first; each lane is one past every lane of a shorter skip it overlaps."""
    lanes: dict[Edge, int] = {}
    for edge in sorted(skips, key=lambda e: (_span(by_key, e), by_key[e[0]].row)):
        low, high = by_key[edge[0]].row, by_key[edge[1]].row
        overlapping = [
            lane
            for other, lane in lanes.items()
            if by_key[other[0]].row < high and low < by_key[other[1]].row
        ]
        lanes[edge] = max(overlapping, default=-1) + 1
    return lanes


def edge_path(source: Block, target: Block, route: Route | None, layout: Layout) -> str:
    """SVG path data of one edge (see the module docstring). Horizontal runs stay in the gaps
    between rows and vertical runs in gutters, so no edge crosses a block."""
    sx, sy = source.x + BLOCK_W / 2, source.y + BLOCK_H
    tx, ty = target.x + BLOCK_W / 2, target.y
    if route is None:  # consecutive rows of one column
        middle = (sy + ty) / 2
        return f"M{sx:.1f},{sy:.1f} C{sx:.1f},{middle:.1f} {tx:.1f},{middle:.1f} {tx:.1f},{ty:.1f}"
    nearer = min(route.lane, MAX_Y_LANES) * Y_STEP
    below = sy + ROW_GAP / 2 - nearer
    gutter = layout.column_right[source.column] + LANE_START + route.lane * LANE_STEP
    path = f"M{sx:.1f},{sy:.1f} V{below:.1f} H{gutter:.1f}"
    if source.column == target.column:
        above = ty - ROW_GAP / 2 + nearer
    else:
        entry = layout.next_left[target.column - 1] - ENTRY_MARGIN - route.entry * LANE_STEP
        top = MARGIN / 2 - (route.entries - 1 - route.entry) * 2 * Y_STEP
        above = ty - ROW_GAP / 2 + min(route.entry, MAX_Y_LANES) * Y_STEP
        path += f" V{top:.1f} H{entry:.1f}"
    return path + f" V{above:.1f} H{tx:.1f} V{ty:.1f}"
