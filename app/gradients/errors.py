"""Errors raised while deriving an explain graph."""


class UnsupportedOpError(Exception):
    """An op on the gradient path has no backward rule (or an unsupported variant).

    Forward-only explanation methods still work for such a model; only the
    gradient methods are unavailable.
    """

    def __init__(self, op_type: str, node_name: str, detail: str = "") -> None:
        self.op_type = op_type
        self.node_name = node_name
        self.detail = detail
        message = f"no backward rule for op '{op_type}' (node '{node_name}')"
        if detail:
            message += f": {detail}"
        super().__init__(message)
