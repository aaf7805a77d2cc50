"""The builder handed to propagation rules: a BackwardContext that also knows the run-time
parameters, the image, and (for DeepLIFT) each tensor's value on the partner row."""

from __future__ import annotations

from onnx import TensorProto

from app.gradients.context import INT64_MAX, BackwardContext
from app.gradients.propagation import EPSILON, GAMMA, HIGH, LOW, PROPAGATION, Propagation


class PropagationContext(BackwardContext):
    """Rules read `kind`, the parameter inputs by name, and add relevance that is not of the
    form input * modified gradient (the box rule's bound terms) to `input_terms`."""

    kind: Propagation
    image: str
    input_terms: list[str]
    baseline_rows: set[str] | None  # markers of `partner` on the inputs' rows (input_rows.py)
    epsilon, gamma, low, high = EPSILON, GAMMA, LOW, HIGH

    @classmethod
    def branch_of(
        cls, ctx: BackwardContext, kind: Propagation, image: str, input_rows: bool = False
    ) -> PropagationContext:
        """A fork of `ctx` for the backward pass of `kind`; with `input_rows`, one run on the
        inputs' rows of a DeepLIFT batch (input_rows.py)."""
        fork = ctx.fork()
        fork.__class__ = cls
        assert isinstance(fork, PropagationContext)
        fork.kind, fork.image, fork.input_terms = kind, image, []
        fork.baseline_rows = set() if input_rows else None
        return fork

    def stabilized(self, z: str, epsilon: str) -> str:
        """z + epsilon * sign(z), with sign(0) = 1 (Captum's and Zennit's stabiliser)."""
        sign = self.emit(
            "Where",
            [self.emit("GreaterOrEqual", [z, self.const(0.0)]), self.const(1.0), self.const(-1.0)],
        )
        return self.emit("Add", [z, self.emit("Mul", [sign, epsilon])])

    def ratio(self, grad: str, numerator: str, denominator: str, epsilon: str) -> str:
        """grad * numerator / stabilized(denominator)."""
        scaled = self.emit("Mul", [grad, numerator])
        return self.emit("Div", [scaled, self.stabilized(denominator, epsilon)])

    def run_time_zero(self) -> str:
        """A float 0 that onnxruntime cannot fold into a constant (it depends on the
        `propagation` input), so what is computed from it and the weights is not stored."""

        def build() -> str:
            never = self.emit("Less", [PROPAGATION, PROPAGATION])
            return self.emit("Cast", [never], to=TensorProto.FLOAT)

        return self.cached("run_time_zero", build)

    def partner(self, tensor: str) -> str:
        """`tensor` on the reference rows (DeepLIFT runs the inputs and their baselines as one
        batch). On the inputs' rows: a marker that input_rows.py makes the baselines' rows;
        else the batch with its two halves swapped: row i holds row i +- N/2."""
        if self.baseline_rows is not None:
            return self.cached(("partner", tensor), lambda: self._marked(tensor))

        def build() -> str:
            half = self.cached("half_batch", self._half_batch)
            first = self.emit("Slice", [tensor, self.ints([0]), half, self.ints([0])])
            second = self.emit("Slice", [tensor, half, self.ints([INT64_MAX]), self.ints([0])])
            return self.emit("Concat", [second, first], axis=0)

        return self.cached(("partner", tensor), build)

    def delta(self, tensor: str) -> str:
        """tensor - partner(tensor): the difference from the reference (DeepLIFT's Delta)."""
        return self.cached(
            ("delta", tensor), lambda: self.emit("Sub", [tensor, self.partner(tensor)])
        )

    def _marked(self, tensor: str) -> str:
        assert self.baseline_rows is not None
        marker = self.emit("Identity", [tensor])
        self.baseline_rows.add(marker)
        return marker

    def _half_batch(self) -> str:
        batch = self.emit("Shape", [self.image], start=0, end=1)
        return self.emit("Div", [batch, self.ints([2])])
