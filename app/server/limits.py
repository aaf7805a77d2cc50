"""The server process's limits, from the settings: what `python -m app` hands uvicorn."""

from __future__ import annotations

import logging
import math
import resource
from typing import Any

from fastapi import FastAPI

from app.api.deps import services_of
from app.config import Settings
from app.server.connections import PROBE_RESERVE, Connections
from app.server.protocol import ConnectionLimits, protocol_class

log = logging.getLogger("lantern")
SPARE_FILES = 256  # descriptors for models, logs, temporary files and the listening socket


def uvicorn_limits(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """uvicorn.Config arguments: the limited HTTP protocol, no WebSockets, the idle timeout;
    the open-connection count goes to the app's metrics."""
    metrics = services_of(app).metrics
    connections = Connections(settings.max_connections, metrics.connections_closed_by)
    metrics.connections_open.set_function(connections.count)
    limits = ConnectionLimits(
        settings.max_header_bytes, settings.header_timeout_seconds, settings.idle_timeout_seconds
    )
    raise_file_limit(settings.max_connections + PROBE_RESERVE + SPARE_FILES)
    return {
        "http": protocol_class(limits, connections),
        "ws": "none",
        "timeout_keep_alive": math.ceil(settings.idle_timeout_seconds),
    }


def raise_file_limit(needed: int) -> None:
    """Raise the soft limit on open files to `needed` (up to the hard limit), so that the
    connection limit, not the descriptor limit, is what a flood of connections meets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        log.warning("open-file limit %d is below the %d that LANTERN_MAX_CONNECTIONS needs",
                    target, needed)  # fmt: skip
