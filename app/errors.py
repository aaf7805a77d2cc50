"""The domain's errors: what a caller asked for that cannot be done, raised below the API.

Each kind is its own class; the API maps every kind to an HTTP status and an error code in one
table (`app.api.errors.DOMAIN_ERRORS`), so no code below the API knows about HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class LanternError(Exception):
    """A request that cannot be served as asked, with a message for the person who sent it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(LanternError):
    """Something named in the request does not exist."""


class ModelNotFoundError(NotFoundError):
    """No loaded model has this name."""


class VersionNotFoundError(NotFoundError):
    """The model has no such version."""


class JobNotFoundError(NotFoundError):
    """No job has this id (or it has expired)."""


class ImageError(LanternError):
    """The uploaded bytes are not an image Lantern takes."""


class EmptyImageError(ImageError):
    """Zero bytes."""


class UnsupportedImageError(ImageError):
    """Not one of the allowed formats, by its magic bytes."""


class UndecodableImageError(ImageError):
    """An allowed format that cannot be decoded."""


class TooManyPixelsError(ImageError):
    """Over the pixel or side limit."""


class AspectRatioError(ImageError):
    """Longer side over shorter side beyond the limit."""


class InvalidRequestError(LanternError):
    """A parameter that does not fit the model or the method."""


class InvalidTargetError(InvalidRequestError):
    """A class that is neither a label nor an index of the model."""


class UnknownLayerError(InvalidRequestError):
    """A layer (tensor or node) the model does not have, or of the wrong kind."""


class NoConvLayerError(InvalidRequestError):
    """The method needs a convolution layer and the model has none."""


class InvalidParameterError(InvalidRequestError):
    """A parameter outside what this model or server allows."""


class MissingBaselineError(InvalidRequestError):
    """baseline=given without a baseline image."""


class OverBudgetError(InvalidRequestError):
    """The work asked for needs more forward passes than one request may spend."""


class GradientsUnsupportedError(LanternError):
    """The model's explain graph could not be built (an op without a backward rule)."""


class GradientsUnverifiedError(GradientsUnsupportedError):
    """The explain graph was built but disagrees with the model's forward pass (self-check)."""


class BusyError(LanternError):
    """The server is at capacity; the client should retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OverloadedError(BusyError):
    """Every queue place is taken."""


class DeadlineExceededError(BusyError):
    """The request waited in the queue past its deadline."""


class TooManyJobsError(BusyError):
    """Every job place (running and queued) is taken."""


class JobStoreUnavailableError(BusyError):
    """The shared job store (Redis) does not answer."""


def validation_message(problems: Sequence[Mapping[str, Any]]) -> str:
    """One line naming each invalid field of a pydantic (or FastAPI) validation error."""
    parts = [f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}"
             for item in problems]  # fmt: skip
    return "; ".join(parts) or "Invalid request."
