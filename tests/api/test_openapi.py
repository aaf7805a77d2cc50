"""app/api/openapi.py: every operation lists its error answers, in its path's error shape."""

from __future__ import annotations

import pytest

from app.api.openapi import error_statuses


@pytest.fixture(scope="module")
def schema(client) -> dict:
    return client.get("/openapi.json").json()


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_operation_lists_its_errors_in_the_shape_of_its_path(schema):
    for path, method, operation in operations(schema):
        errors = {int(s): r for s, r in operation["responses"].items() if int(s) >= 400}
        assert {401, 500} <= set(errors), (method, path)
        shape = "V2Error" if path.startswith(("/v1", "/v2")) else "Error"
        for status, answer in errors.items():
            reference = answer["content"]["application/json"]["schema"]["$ref"]
            assert reference == f"#/components/schemas/{shape}", (method, path, status)


def test_fastapis_validation_error_shape_is_gone_because_the_server_never_sends_it(schema):
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "HTTPValidationError" not in str(schema["paths"])


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("/predict", "post", {400, 401, 404, 408, 413, 415, 422, 500, 503}),
        ("/jobs/{job_id}", "get", {401, 404, 500}),
        ("/health/live", "get", {401, 500}),
        ("/v2/models/{model_name}", "get", {400, 401, 404, 500}),
    ],
)
def test_the_rules_give_each_kind_of_operation_its_errors(schema, path, method, expected):
    assert error_statuses(path, method, schema["paths"][path][method]) == expected


def test_the_batch_limit_in_the_schema_is_the_servers(schema, settings):
    form = schema["paths"]["/predict"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert form["schema"]["properties"]["file"]["maxItems"] == settings.max_images_per_request
