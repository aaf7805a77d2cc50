"""One table maps every domain error to its status and code; the HTTP exchange's own errors
carry theirs."""

from __future__ import annotations

import inspect

import pytest

from app import errors as domain
from app.api.errors import DOMAIN_ERRORS, as_api_error


def domain_error_kinds() -> list[type[domain.LanternError]]:
    return [
        kind
        for _, kind in inspect.getmembers(domain, inspect.isclass)
        if issubclass(kind, domain.LanternError)
    ]


@pytest.mark.parametrize("kind", domain_error_kinds(), ids=lambda kind: kind.__name__)
def test_every_domain_error_kind_has_a_row_in_the_table(kind):
    assert kind in DOMAIN_ERRORS


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (domain.ModelNotFoundError("x"), (404, "model_not_found")),
        (domain.UnsupportedImageError("x"), (415, "unsupported_media_type")),
        (domain.InvalidTargetError("x"), (422, "invalid_target")),
        (domain.GradientsUnsupportedError("x"), (422, "gradients_unsupported")),
        (domain.OverloadedError("x", 3), (503, "overloaded")),
    ],
)
def test_a_domain_error_answers_with_its_status_and_code(error, expected):
    answer = as_api_error(error)
    assert (answer.status, answer.code, answer.message) == (*expected, "x")


def test_a_busy_server_says_when_to_retry():
    assert as_api_error(domain.TooManyJobsError("busy", 7)).headers == {"Retry-After": "7"}


def test_a_subclass_without_a_row_takes_its_parents():
    class LateLayerError(domain.UnknownLayerError):
        pass

    assert as_api_error(LateLayerError("x")).code == "unknown_layer"


def test_a_405_names_every_method_the_path_takes(client):
    response = client.put("/jobs/x")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET"
    assert response.json()["error"]["code"] == "method_not_allowed"
