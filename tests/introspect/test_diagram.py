"""The SVG diagram: valid XML, one block per layer, no overlaps, wrapped when deep."""

import itertools
import xml.etree.ElementTree as ET

from app.introspect.diagram import MAX_ROWS, render_svg
from app.runtime.layers import static_shapes
from tests.introspect.resnet_like import resnet_like

SVG = "{http://www.w3.org/2000/svg}"


def svg_of(model, title=""):
    return render_svg(model, static_shapes(model), title)


def blocks(svg: str, kind: str = "layer") -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [g for g in root.iter(f"{SVG}g") if kind in g.get("class", "").split()]


def rectangles(svg: str) -> list[tuple[float, float, float, float]]:
    boxes = []
    for group in blocks(svg, "block"):
        rect = group.find(f"{SVG}rect")
        boxes.append(tuple(float(rect.get(k)) for k in ("x", "y", "width", "height")))
    return boxes


def overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_a_deep_resnet_like_graph_gives_one_block_per_layer_and_no_overlaps(deep_model):
    svg = svg_of(deep_model, "resnet_like")
    assert len(deep_model.graph.node) >= 60
    assert [g.get("data-node") for g in blocks(svg)] == [n.name for n in deep_model.graph.node]
    boxes = rectangles(svg)
    assert not [pair for pair in itertools.combinations(boxes, 2) if overlap(*pair)]


def test_a_deep_graph_wraps_into_columns_that_stay_legible(deep_model):
    root = ET.fromstring(svg_of(deep_model))
    columns = {x for x, *_ in rectangles(ET.tostring(root, encoding="unicode"))}
    assert len(columns) > 3
    assert float(root.get("height")) <= 2 * 40 + MAX_ROWS * 72
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"


def test_a_residual_edge_is_drawn_for_every_add(deep_model):
    svg = svg_of(deep_model)
    edges = ET.fromstring(svg).findall(f"{SVG}path[@class='edge']")
    inputs = sum(
        1
        for node in deep_model.graph.node
        for name in node.input
        if not name.endswith((".w", ".g", ".b", ".m", ".v"))
    )
    assert len(edges) == inputs


def test_a_small_network_is_one_column_with_ops_and_shapes(mnist_model):
    svg = svg_of(mnist_model)
    xs = {x for x, *_ in rectangles(svg)}
    assert len(xs) == 1
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert texts[:4] == ["Input", "1@28×28", "Conv 3×3", "32@26×26"]
    assert "MaxPool 2×2 /2" in texts and "9216" in texts


def test_names_with_markup_are_escaped():
    model = resnet_like(blocks=1)
    model.graph.node[0].name = 'stem<&>"conv"'
    svg = svg_of(model, "a <title> & more")
    assert blocks(svg)[0].get("data-node") == 'stem<&>"conv"'
