"""Logs carrying the request id of the request being served: JSON lines (one object per line)
for log collectors, or readable text lines for a person at a terminal.

Every record gets `time`, `level`, `logger`, `message` and `request_id`; the access line of
each request adds `method`, `path`, `status` and `duration_ms`. `python -m app` calls
`configure_logging` once; uvicorn's own loggers propagate here and its access log is off.
The format `auto` (the default) is text when stderr is a terminal and JSON otherwise."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from typing import TextIO

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
ACCESS_FIELDS = ("method", "path", "status", "duration_ms")


def request_id_from(header: str | None) -> str:
    """The client's X-Request-ID when it is short and safe, else a new random id."""
    if header and REQUEST_ID_PATTERN.fullmatch(header):
        return header
    return uuid.uuid4().hex


class JSONFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal: time, level, logger and message, then the request id
    (and on an access line its duration) in brackets."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s%(context)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        context = []
        if hasattr(record, "duration_ms"):
            context.append(f"{record.duration_ms} ms")
        request_id = REQUEST_ID.get()
        if request_id:
            context.append(f"request {request_id}")
        record.context = f" [{', '.join(context)}]" if context else ""
        return super().format(record)


def resolve_format(fmt: str, stream: TextIO) -> str:
    """`auto` is text when `stream` is a terminal, JSON otherwise; other formats stay."""
    if fmt != "auto":
        return fmt
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def configure_logging(level: str = "info", fmt: str = "auto") -> None:
    """Send every log record (Lantern's and uvicorn's) to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    chosen = resolve_format(fmt, sys.stderr)
    handler.setFormatter(JSONFormatter() if chosen == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
