"""Start writing an upload to disk while it is still arriving, so the fsync before the answer is short.

A machine with plenty of memory keeps a whole large upload in the page cache (writeback starts only
past dirty_background_ratio, gigabytes), and the fsync that makes it durable then writes all of it
after the last byte arrived: receive time plus disk time. Asking the kernel to start writeback of
each few MiB as soon as it is written (sync_file_range with SYNC_FILE_RANGE_WRITE: start, don't
wait; the pages stay cached for the next download) overlaps the two. Where sync_file_range is not
available, writes are plain and the final fsync does all the work, as before.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

WINDOW = 8 * 1024 * 1024
_SYNC_FILE_RANGE_WRITE = 2


def _load_sync_file_range():
    if not hasattr(os, "fsync") or os.uname().sysname != "Linux":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


_sync_file_range = _load_sync_file_range()


class WriteBehind:
    """A raw file whose written bytes are handed to writeback every WINDOW bytes."""

    def __init__(self, raw):
        self._raw = raw
        self._fd = raw.fileno()
        self._written = 0
        self._flushed = 0

    def write(self, data) -> int:
        count = self._raw.write(data)
        self._written += count
        if _sync_file_range is not None and self._written - self._flushed >= WINDOW:
            # A failure here only means less overlap: the final fsync still makes the file durable.
            _sync_file_range(self._fd, self._flushed, self._written - self._flushed, _SYNC_FILE_RANGE_WRITE)
            self._flushed = self._written
        return count

    def fileno(self) -> int:
        return self._fd
