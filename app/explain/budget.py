"""What one explanation request may still spend."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import OverBudgetError

DEFAULT_ELEMENTS = 1 << 30  # LANTERN_MAX_EXPLAIN_ELEMENTS' default


@dataclass
class Budget:
    """What one request may still spend: forward passes (LANTERN_MAX_FORWARD_PASSES), and
    the array elements a method computes around the model: masks, perturbed copies of the
    input, curves (LANTERN_MAX_EXPLAIN_ELEMENTS). Together they bound a request's time."""

    passes: int
    elements: int = DEFAULT_ELEMENTS

    def require(self, passes: int, what: str, advice: str, elements: int = 0) -> None:
        """Refuse (OverBudgetError) work that needs more passes or elements than are left."""
        if passes > self.passes:
            raise OverBudgetError(
                f"{what} needs {passes} forward passes; the limit is {self.passes} per request "
                f"(LANTERN_MAX_FORWARD_PASSES, less any taken by faithfulness curves). {advice}"
            )
        if elements > self.elements:
            raise OverBudgetError(
                f"{what} needs {elements} array elements; the limit is {self.elements} per "
                f"request (LANTERN_MAX_EXPLAIN_ELEMENTS, less any taken by faithfulness "
                f"curves). {advice}"
            )

    def take(self, passes: int, what: str, advice: str, elements: int = 0) -> None:
        """Require the work and keep it: later work has that much less."""
        self.require(passes, what, advice, elements)
        self.passes -= passes
        self.elements -= elements
