"""python -m app: serve the model store on http://127.0.0.1:8000 (settings from LANTERN_*).

Once the models are loaded and the port is open it prints the address to open in a browser.
Logs go to stderr: readable text on a terminal, JSON lines otherwise (LANTERN_LOG_FORMAT=json
or text to choose). On SIGTERM or SIGINT the server stops accepting connections, turns
readiness false, lets in-flight requests finish for up to LANTERN_SHUTDOWN_GRACE_SECONDS, and
exits 0."""

from __future__ import annotations

import logging
import math
import signal
import socket
from types import FrameType

import uvicorn
from fastapi import FastAPI

from app.config import Settings
from app.logging_setup import configure_logging
from app.main import begin_drain, create_app
from app.server.allocator import tune_allocator
from app.server.limits import uvicorn_limits

log = logging.getLogger("lantern")


class DrainingServer(uvicorn.Server):
    """uvicorn's server, marking the app as draining as soon as a stop signal arrives."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.lantern_app = app

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            url = browser_url(self.config.host, self.config.port)
            print(f"Lantern is ready: open {url} in a browser (API docs: {url}docs)", flush=True)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            log.info("received %s: draining", signal.Signals(sig).name)
            begin_drain(self.lantern_app)
        super().handle_exit(sig, frame)


def browser_url(host: str, port: int) -> str:
    """The address a person on this machine opens: a wildcard host means this machine."""
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def _already_handled(sig: int, frame: FrameType | None) -> None:
    """uvicorn re-raises the stop signal after its graceful shutdown; we have handled it."""


def main() -> None:
    tune_allocator()
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
        **uvicorn_limits(app, settings),
    )
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _already_handled)
    DrainingServer(config, app).run()
    log.info("stopped")


if __name__ == "__main__":
    main()
