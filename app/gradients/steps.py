"""Exact 0/1 masks of a bounded activation's output as HardSigmoids, which onnxruntime's
NCHWc layout carries: a mask from comparisons (Greater, Less, And, Cast) makes it reorder the
activation to plain NCHW and the masked gradient back, on every activation.

HardSigmoid(y) = clamp(alpha * y + beta, 0, 1). With alpha = +-2^k and beta = -alpha * bound,
alpha * y + beta has the sign of y - bound exactly (a power of two scales exactly, and one
rounding keeps a sign), so the clamp is 0 at the bound and positive past it, but can be as
small as 2^k times the smallest float gap. A second HardSigmoid, alpha 2^m, lifts every
positive value to 1: the mask is exact for every float, denormals included.
"""

from __future__ import annotations

from app.gradients.context import BackwardContext

TINIEST = 2.0**-149  # the smallest positive float32 (a denormal): the smallest gap past a bound
SCALE_EXPONENT = 100  # alpha = 2^100: 2^100 * |bound| must stay finite
MAX_BOUND = 2.0**26  # bounds up to this size keep alpha * bound well inside float32


def usable(*bounds: float | None) -> bool:
    """Whether these bounds (None: no bound on that side) have an exact step mask here."""
    given = [b for b in bounds if b is not None]
    return bool(given) and all(abs(b) <= MAX_BOUND for b in given)


def inside(ctx: BackwardContext, y: str, low: float | None, high: float | None) -> str:
    """1.0 where low < y < high (a missing bound does not test), else 0.0, shaped like y."""
    scale = 2.0**SCALE_EXPONENT
    parts = []
    if low is not None:  # y > low
        parts.append(ctx.emit("HardSigmoid", [y], alpha=scale, beta=-scale * low))
    if high is not None:  # y < high
        parts.append(ctx.emit("HardSigmoid", [y], alpha=-scale, beta=scale * high))
    product = parts[0] if len(parts) == 1 else ctx.emit("Mul", parts)
    # each part is 0 or at least scale * TINIEST = 2^-49, their product 0 or at least 2^-98
    smallest = (scale * TINIEST) ** len(parts)
    return ctx.emit("HardSigmoid", [product], alpha=2.0 / smallest, beta=0.0)
