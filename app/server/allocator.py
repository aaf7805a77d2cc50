"""glibc malloc tuned so that the memory of a burst of large decodes goes back to the system.

By default glibc raises its mmap threshold each time a large block is freed (up to 32 MiB),
so the next image buffers come from the heap, and each worker thread gets its own heap
(arena), where freed memory stays resident. A fixed threshold keeps every large buffer
(image blocks, arrays) in its own mapping, unmapped when it is freed, and two arenas bound
the fragmentation of the rest. MALLOC_ARENA_MAX or MALLOC_MMAP_THRESHOLD_ in the
environment take precedence. Elsewhere than glibc, nothing changes."""

from __future__ import annotations

import os

from app.runtime.memory import glibc

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
MMAP_THRESHOLD = 1024 * 1024
ARENAS = 2


def tune_allocator() -> dict[str, int]:
    """Set the mmap threshold and the arena count (unless the environment sets them); the
    settings made, by name."""
    libc = glibc()
    if libc is None:
        return {}
    made: dict[str, int] = {}
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        if libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1:
            made["mmap_threshold"] = MMAP_THRESHOLD
        if libc.mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD) == 1:
            made["trim_threshold"] = 2 * MMAP_THRESHOLD
    if "MALLOC_ARENA_MAX" not in os.environ and libc.mallopt(M_ARENA_MAX, ARENAS) == 1:
        made["arena_max"] = ARENAS
    return made
