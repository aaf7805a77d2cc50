"""DeepLIFT through MaxPool, as Captum's DeepLift: y - y0 is split into max(y, y0) - y0,
routed to the input's maximum, and y - max(y, y0), routed to the baseline's; the sum over
each input position, divided by x - x0, is the multiplier (the gradient where |x - x0| <
DEEPLIFT_EPSILON). The baseline's maxima are the pool Indices of the baseline's rows (on
the whole batch: the partner rows', the routing done there and swapped back)."""

from __future__ import annotations

import onnx
from onnx import helper

from app.gradients.errors import UnsupportedOpError
from app.gradients.ops import max_pool
from app.gradients.propagation import DEEPLIFT_EPSILON
from app.gradients.propagation.context import PropagationContext
from app.gradients.windows import refuse_uncounted_windows


def rule(ctx: PropagationContext, node: onnx.NodeProto, grads: list) -> list:
    if len(node.output) > 1 and grads[1] is not None:
        raise UnsupportedOpError(node.op_type, node.name, "gradient through Indices")
    refuse_uncounted_windows(ctx, node)
    x, y, grad = node.input[0], node.output[0], grads[0]
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    attrs.pop("storage_order", None)
    _, indices = ctx.emit("MaxPool", [x], n_outputs=2, **attrs)
    y_ref = ctx.partner(y)
    top = ctx.emit("Max", [y, y_ref])
    own = ctx.emit("Mul", [grad, ctx.emit("Sub", [top, y_ref])])
    theirs = ctx.emit("Mul", [grad, ctx.emit("Sub", [y, top])])
    routed_own = max_pool.route(ctx, node, own, indices)
    if ctx.baseline_rows is not None:  # the inputs' rows only (input_rows.py)
        _, baseline_indices = ctx.emit("MaxPool", [ctx.partner(x)], n_outputs=2, **attrs)
        routed_theirs = max_pool.route(ctx, node, theirs, baseline_indices)
    else:
        routed_theirs = ctx.partner(max_pool.route(ctx, node, ctx.partner(theirs), indices))
    total = ctx.emit("Add", [routed_own, routed_theirs])
    delta = ctx.delta(x)
    near = ctx.emit("Less", [ctx.emit("Abs", [delta]), ctx.const(DEEPLIFT_EPSILON)])
    safe = ctx.emit("Where", [near, ctx.const(1.0), delta])
    gradient = max_pool.route(ctx, node, grad, indices)
    return [ctx.emit("Where", [near, gradient, ctx.emit("Div", [total, safe])])]
