"""app/runtime/memory.py: this process's resident memory, and the heap's free pages given back."""

from __future__ import annotations

import ctypes

import pytest

from app.runtime.memory import glibc, release_free_memory, resident_bytes

BLOCK, BLOCKS = 16 * 1024, 4096  # 64 MiB in blocks under the mmap threshold: heap memory


def test_resident_bytes_are_those_of_a_running_process():
    assert 1024 * 1024 < resident_bytes() < 1 << 40


@pytest.mark.skipif(glibc() is None, reason="not glibc")
def test_freed_heap_blocks_go_back_to_the_system_when_released():
    libc = glibc()
    assert libc is not None
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = [libc.malloc(BLOCK) for _ in range(BLOCKS)]
    for block in blocks:
        ctypes.memset(block, 1, BLOCK)  # resident now
    for block in blocks[:-1]:  # the last one keeps the heap's top from being trimmed anyway
        libc.free(block)
    held = resident_bytes()
    assert release_free_memory()
    assert resident_bytes() < held - BLOCK * BLOCKS // 2
    libc.free(blocks[-1])
