"""Log lines with a request id (JSON, or text on a terminal): taken from a safe X-Request-ID,
generated otherwise, echoed in the response and present on every record made while serving
the request."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.logging_setup import (
    REQUEST_ID,
    JSONFormatter,
    TextFormatter,
    configure_logging,
    request_id_from,
    resolve_format,
)
from app.main import create_app


@pytest.fixture
def log_lines(settings) -> Iterator[tuple[TestClient, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger("lantern")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            stream.seek(0)
            stream.truncate()  # start-up lines are not the test's
            yield client, stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_request_logs_one_json_access_line(log_lines, digit_png):
    client, stream = log_lines
    client.post("/predict?top_k=1", content=digit_png, headers={"content-type": "image/png"})
    (access,) = [r for r in records(stream) if r["logger"] == "lantern.access"]
    assert {"time", "level", "logger", "message", "request_id"} <= set(access)
    assert (access["method"], access["path"], access["status"]) == ("POST", "/predict", 200)
    assert access["duration_ms"] > 0


def test_a_safe_incoming_request_id_is_kept_and_echoed(log_lines):
    client, stream = log_lines
    response = client.get("/models/nope", headers={"X-Request-ID": "trace-42.a_b"})
    assert response.headers["x-request-id"] == "trace-42.a_b"
    (access,) = [r for r in records(stream) if r["logger"] == "lantern.access"]
    assert access["request_id"] == "trace-42.a_b"


@pytest.mark.parametrize(
    "incoming", [None, "", "has space", "x" * 65, "semi;colon", "new\\nline", "<script>"]
)
def test_a_missing_or_unsafe_request_id_is_replaced(incoming):
    generated = request_id_from(incoming)
    assert generated != incoming and len(generated) == 32


def test_every_record_during_a_request_carries_its_id(log_lines):
    client, stream = log_lines
    response = client.get("/models", headers={"X-Request-ID": "abc"})
    assert response.status_code == 200
    assert all(r["request_id"] == "abc" for r in records(stream))


def test_probes_are_logged_at_debug_level_only(log_lines):
    client, stream = log_lines
    client.get("/health/ready")
    client.get("/metrics")
    assert records(stream) == []


def test_configure_logging_sends_uvicorn_records_through_the_json_handler():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("warning", "json")
        (handler,) = root.handlers
        assert isinstance(handler.formatter, JSONFormatter)
        assert logging.getLogger("uvicorn.error").propagate
        assert root.level == logging.WARNING
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


def test_an_exception_is_kept_in_the_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(JSONFormatter().format(record))
    assert line["message"] == "failed" and "ValueError: boom" in line["exception"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("chosen", "stream", "expected"),
    [("auto", _Terminal(), "text"), ("auto", io.StringIO(), "json"), ("json", _Terminal(), "json"),
     ("text", io.StringIO(), "text")],
)  # fmt: skip
def test_auto_logs_text_to_a_terminal_and_json_elsewhere_unless_a_format_is_set(
    chosen, stream, expected
):
    assert resolve_format(chosen, stream) == expected


def test_a_text_line_reads_as_a_sentence_with_the_request_id_and_duration():
    record = logging.LogRecord(
        "lantern.access", logging.INFO, __file__, 1, "GET /x 200", None, None
    )
    record.duration_ms = 1.5
    token = REQUEST_ID.set("abc123")
    try:
        line = TextFormatter().format(record)
    finally:
        REQUEST_ID.reset(token)
    assert line.endswith("INFO    lantern.access: GET /x 200 [1.5 ms, request abc123]")
    assert "{" not in line
