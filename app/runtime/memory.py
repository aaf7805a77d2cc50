"""This process's memory, as the system counts it, and handing back what the heap holds free."""

from __future__ import annotations

import ctypes
import ctypes.util


def resident_bytes() -> int:
    """This process's resident memory, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * 4096
    except (OSError, ValueError, IndexError):
        return 0


def glibc() -> ctypes.CDLL | None:
    """glibc, for its malloc controls (None elsewhere); loaded once, at import."""
    return _GLIBC


def _loaded_glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


_GLIBC = _loaded_glibc()


def release_free_memory() -> bool:
    """Give the system back the pages the heap holds free (glibc's malloc_trim); whether
    anything was released. Building and checking explain graphs frees tens of MB in holes
    that the heap keeps resident otherwise; one call takes a few ms."""
    libc = glibc()
    return libc is not None and libc.malloc_trim(0) == 1
