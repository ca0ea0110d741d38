"""Write an upload to disk while it is still arriving, so the fsync before the answer is short.

A machine with plenty of memory keeps a whole large upload in the page cache (writeback starts only
past dirty_background_ratio, gigabytes), and the fsync that makes it durable then writes all of it
after the last byte arrived: receive time plus disk time. Writing each few MiB out as soon as it is
written overlaps the two (this runs in file_copy's writer thread, while the request thread receives).

Each window is written out and waited for (sync_file_range WAIT_BEFORE | WRITE | WAIT_AFTER), not
only started: with only the start, the upload's dirty pages piled up behind a busy disk and the final
fsync waited for them, which measured 160-1,300 MB/s for 200 MiB (write + fsync) from one minute to
the next on the shared test machine; waiting per window measured 1,430-1,490 MB/s in the same
minutes. O_DIRECT writes were as fast, but leave a fresh upload out of the page cache, and the
download that often follows then read it from disk at a fraction of the speed. Here the pages stay
cached (clean) for it. Where sync_file_range is not available, writes are plain and the final fsync
does all the work.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

WINDOW = 8 * 1024 * 1024
_SYNC_FILE_RANGE_WAIT_BEFORE = 1
_SYNC_FILE_RANGE_WRITE = 2
_SYNC_FILE_RANGE_WAIT_AFTER = 4
_WRITE_AND_WAIT = _SYNC_FILE_RANGE_WAIT_BEFORE | _SYNC_FILE_RANGE_WRITE | _SYNC_FILE_RANGE_WAIT_AFTER


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
    """A raw file whose written bytes are written out to the disk every WINDOW bytes."""

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
            _sync_file_range(self._fd, self._flushed, self._written - self._flushed, _WRITE_AND_WAIT)
            self._flushed = self._written
        return count

    def fileno(self) -> int:
        return self._fd
