"""A progress bar on a terminal for the command line: the same reports a job makes, drawn
on one line (or one line per tenth of the way when the output is not a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from app.runtime.jobs import JobProgress
from app.runtime.jobs.records import Lease

WIDTH = 30


class ProgressBar:
    """Draws `step / steps`, the time so far and the time left at the pace so far."""

    def __init__(self, steps: int, stream: TextIO | None = None) -> None:
        self.steps = max(1, steps)
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.shown = -1

    def report(self, step: int, _seconds: float) -> Lease:
        elapsed = time.monotonic() - self.started
        left = elapsed / step * (self.steps - step) if step else 0.0
        filled = round(WIDTH * step / self.steps)
        line = (
            f"[{'#' * filled}{'.' * (WIDTH - filled)}] {step}/{self.steps} "
            f"{_clock(elapsed)} elapsed, {_clock(left)} left"
        )
        if self.stream.isatty():
            self.stream.write("\r" + line + ("\n" if step >= self.steps else ""))
        elif (tenth := 10 * step // self.steps) > self.shown:
            self.shown = tenth
            self.stream.write(line + "\n")
        self.stream.flush()
        return "running"

    def progress(self) -> JobProgress:
        """The handle the evaluation reports through, as a job's would be."""
        return JobProgress(self.report)


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes:02d}:{rest:02d}"
