"""The diagram's edges never cross one another: residual lines nest, a column wrap runs
outside every residual line of its column, and columns wrap between blocks."""

import itertools
import re
import xml.etree.ElementTree as ET

import numpy as np
import onnx
import pytest

from app.config import PROJECT_ROOT
from app.introspect.diagram import blocks_and_edges, render_svg
from app.introspect.diagram_layout import assign_columns, column_starts, crossings
from app.runtime.layers import static_shapes
from tests.introspect.resnet_like import resnet_like

SVG = "{http://www.w3.org/2000/svg}"
Point = tuple[float, float]


def polyline(d: str) -> list[Point]:
    """The points of an edge's path (M, V, H and C commands; a curve as 16 points)."""
    points: list[Point] = []
    for command, numbers in re.findall(r"([MVHC])([^MVHC]*)", d):
        values = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", numbers)]
        x, y = points[-1] if points else (0.0, 0.0)
        if command == "M":
            points.append((values[0], values[1]))
        elif command == "V":
            points.append((x, values[0]))
        elif command == "H":
            points.append((values[0], y))
        else:
            (x1, y1), (x2, y2), (x3, y3) = zip(values[0::2], values[1::2], strict=True)
            for t in np.linspace(0, 1, 16)[1:]:
                weights = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t**3)
                xs, ys = (x, x1, x2, x3), (y, y1, y2, y3)
                points.append((float(np.dot(weights, xs)), float(np.dot(weights, ys))))
    return points


def _orientation(p: Point, q: Point, r: Point) -> float:
    return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])


def _on_segment(p: Point, q: Point, r: Point) -> bool:
    return min(p[0], r[0]) - 1e-6 <= q[0] <= max(p[0], r[0]) + 1e-6 and (
        min(p[1], r[1]) - 1e-6 <= q[1] <= max(p[1], r[1]) + 1e-6
    )


def segments_meet(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether segment ab and segment cd cross or touch (collinear overlaps included)."""
    o1, o2, o3, o4 = (_orientation(a, b, c), _orientation(a, b, d), _orientation(c, d, a),
                      _orientation(c, d, b))  # fmt: skip
    if o1 * o2 < 0 and o3 * o4 < 0:
        return True
    touching = ((o1, a, c, b), (o2, a, d, b), (o3, c, a, d), (o4, c, b, d))
    return any(abs(o) < 1e-6 and _on_segment(p, q, r) for o, p, q, r in touching)


def crossing_edges(model: onnx.ModelProto) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Pairs of edges with no block in common whose drawn paths meet."""
    svg = ET.fromstring(render_svg(model, static_shapes(model)))
    _, edges = blocks_and_edges(model, static_shapes(model))
    paths = [polyline(p.get("d")) for p in svg.findall(f"{SVG}path[@class='edge']")]
    assert len(paths) == len(edges)
    met = []
    for (i, first), (j, second) in itertools.combinations(enumerate(edges), 2):
        if set(first) & set(second):
            continue
        one, two = paths[i], paths[j]
        if any(
            segments_meet(a, b, c, d)
            for a, b in itertools.pairwise(one)
            for c, d in itertools.pairwise(two)
        ):
            met.append((first, second))
    return met


def test_the_geometry_helper_sees_a_crossing_and_a_miss():
    assert segments_meet((0, 0), (10, 10), (0, 10), (10, 0))
    assert not segments_meet((0, 0), (10, 0), (0, 5), (10, 5))
    assert segments_meet((0, 0), (10, 0), (5, 0), (5, 8))  # a T touches


@pytest.mark.parametrize("blocks", [2, 8, 14])
def test_no_two_edges_of_a_resnet_like_graph_cross(blocks):
    assert crossing_edges(resnet_like(blocks=blocks)) == []


def test_no_two_edges_of_the_shipped_cifar_resnet_cross():
    path = next((PROJECT_ROOT / "model_store" / "cifar_resnet").glob("*/model.onnx"))
    model = onnx.load(path)
    blocks, edges = blocks_and_edges(model, static_shapes(model))
    assert len({block.column for block in assign_columns(blocks, edges)[-1]}) == 1
    assert len(assign_columns(blocks, edges)) == 2  # it wraps once
    assert crossing_edges(model) == []


def test_columns_wrap_where_fewest_edges_cross():
    # depths 0..19 in a chain, plus residual edges 2->5, 8->11, 13->16 (a block each)
    edges = [(d, d + 1) for d in range(19)] + [(2, 5), (8, 11), (13, 16)]
    counts = crossings(20, edges)
    assert counts[12] == 1 and counts[10] == 2
    starts = column_starts(20, edges)
    assert starts[0] == 0 and all(counts[start] == 1 for start in starts[1:])


def test_a_wrapped_column_keeps_every_residual_block_whole():
    model = resnet_like(blocks=14)
    blocks, edges = blocks_and_edges(model, static_shapes(model))
    assign_columns(blocks, edges)
    by_key = {block.key: block for block in blocks}
    adds = [n for n in model.graph.node if n.op_type == "Add"]
    assert len({by_key[n.name].column for n in model.graph.node}) > 2
    for add in adds:  # the block's input and its Add share a column
        sources = [s for s, t in edges if t == add.name]
        assert len({by_key[s].column for s in sources} | {by_key[add.name].column}) == 1
