"""An SVG drawing of a network, made from its graph: a layered top-down graph.

Every node (except Constant) is one block showing its op (with kernel and stride) and output
shape (`C@HxW`). Blocks are placed in rows by depth (the longest path from the input), side by
side when they share a depth (branches), and the rows wrap into columns so that a 60-layer
network stays legible (diagram_layout). Edges: a curve between consecutive rows, a path
through the column's right gutter for skips (residuals), and a path over the top between
columns, in lanes that keep them from crossing (diagram_edges).
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import onnx

from app.introspect.diagram_edges import edge_path, plan_lanes
from app.introspect.diagram_layout import BLOCK_H, BLOCK_W, MAX_ROWS, Block, assign_columns, place
from app.introspect.layers import kind_of
from app.runtime.layers import Shape

__all__ = ["MAX_ROWS", "Block", "blocks_and_edges", "render_svg"]
COLOURS: dict[str, str] = {
    "conv": "#dbe9f6",
    "pool": "#dff0d8",
    "activation": "#fcefdc",
    "dense": "#e8dff5",
    "other": "#eeeeee",
    "input": "#ffffff",
}
INPUT = "input"


def blocks_and_edges(
    model: onnx.ModelProto, shapes: dict[str, Shape]
) -> tuple[list[Block], list[tuple[str, str]]]:
    """Blocks in graph order (the input first) and (from, to) edges between them; `shapes`
    are the tensors' static shapes at batch 1."""
    initializers = {init.name for init in model.graph.initializer}
    image = next(v for v in model.graph.input if v.name not in initializers)
    producer = {image.name: INPUT}
    blocks = {
        INPUT: Block(INPUT, image.name, "Input", _shape_text(shapes.get(image.name)), "input", 0)
    }
    edges: list[tuple[str, str]] = []
    for index, node in enumerate(n for n in model.graph.node if n.op_type != "Constant"):
        key = node.name or f"{node.op_type}_{index}"
        sources = list(dict.fromkeys(producer[n] for n in node.input if n in producer))
        depth = 1 + max((blocks[s].depth for s in sources), default=0)
        shape = _shape_text(shapes.get(node.output[0])) if node.output else ""
        blocks[key] = Block(key, key, _op_text(node), shape, kind_of(node.op_type), depth)
        edges += [(source, key) for source in sources]
        producer.update({name: key for name in node.output})
    return list(blocks.values()), edges


def _op_text(node: onnx.NodeProto) -> str:
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    text = node.op_type
    kernel = attrs.get("kernel_shape")
    if kernel:
        text += " " + "×".join(str(k) for k in kernel)
    strides = attrs.get("strides")
    if strides and any(s != 1 for s in strides):
        text += (
            " /" + "×".join(str(s) for s in strides) if len(set(strides)) > 1 else f" /{strides[0]}"
        )
    return text


def _shape_text(shape: tuple[int, ...] | None) -> str:
    if not shape:
        return ""
    dims = shape[1:]
    if len(dims) == 3:
        return f"{dims[0]}@{dims[1]}×{dims[2]}"
    return "×".join(str(d) for d in dims)


def render_svg(model: onnx.ModelProto, shapes: dict[str, Shape], title: str = "") -> str:
    """The network as a standalone SVG document."""
    blocks, edges = blocks_and_edges(model, shapes)
    by_key = {block.key: block for block in blocks}
    columns = assign_columns(blocks, edges)
    routes, gutters = plan_lanes(by_key, edges)
    drawing = place(columns, gutters)
    width, height = drawing.width, drawing.height
    paths = [
        f'<path class="edge" d="{edge_path(by_key[a], by_key[b], routes.get((a, b)), drawing)}"/>'
        for a, b in edges
    ]
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="12">',
            f"<title>{escape(title)}</title>",
            '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
            'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/>'
            "</marker></defs>",
            "<style>.edge{fill:none;stroke:#555;stroke-width:1.2;marker-end:url(#arrow)}"
            ".block rect{stroke:#333;stroke-width:1}.op{font-weight:bold}</style>",
            *paths,
            *(_block_svg(block) for block in blocks),
            "</svg>",
        ]
    )


def _block_svg(block: Block) -> str:
    kind = "io" if block.kind == "input" else "layer"
    cx = block.x + BLOCK_W / 2
    return (
        f'<g class="block {kind}" data-node={quoteattr(block.key)}>'
        f"<title>{escape(block.title)}</title>"
        f'<rect x="{block.x:.1f}" y="{block.y:.1f}" width="{BLOCK_W}" height="{BLOCK_H}" '
        f'rx="5" fill="{COLOURS[block.kind]}"/>'
        f'<text class="op" x="{cx:.1f}" y="{block.y + 18:.1f}" text-anchor="middle">'
        f"{escape(_fit(block.label))}</text>"
        f'<text x="{cx:.1f}" y="{block.y + 35:.1f}" text-anchor="middle">'
        f"{escape(_fit(block.shape))}</text></g>"
    )


def _fit(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
