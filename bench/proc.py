"""What a process spends, read from /proc: CPU seconds (every thread, user and system), its
resident memory now and at its peak. Linux only; the benchmarks' servers are our children."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of `pid` so far (fields 14 and 15 of /proc/pid/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _status_mib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mib(pid: int) -> float:
    """Resident memory now."""
    return _status_mib(pid, "VmRSS")


def peak_rss_mib(pid: int) -> float:
    """The highest resident memory since start-up or since `reset_peak`."""
    return _status_mib(pid, "VmHWM")


def reset_peak(pid: int) -> None:
    """Restart the peak-RSS count (VmHWM) from the memory resident now."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
