"""Copying a request body into a file with reading and writing overlapped.

Receiving from the socket and writing to the page cache each take about as long for large
artifacts (the kernel throttles writers to the disk's pace once enough is dirty), and both release
the GIL, so a writer thread that drains filled buffers while the request thread refills others
halves the time of a large upload.
"""
from __future__ import annotations

import io
import queue
import threading
from typing import BinaryIO

BUFFER_SIZE = 1024 * 1024
BUFFERS = 4
_DONE = None


def copy_into(stream: BinaryIO, out) -> None:
    """All of stream into out (a raw file: write may be partial). Raises what either side raised."""
    readinto = _readinto(stream)
    free: queue.Queue = queue.Queue()
    filled: queue.Queue = queue.Queue()
    for _ in range(BUFFERS):
        free.put(bytearray(BUFFER_SIZE))
    failure: list[BaseException] = []

    def drain() -> None:
        try:
            while (item := filled.get()) is not _DONE:
                buffer, count = item
                _write_all(out, memoryview(buffer)[:count])
                free.put(buffer)
        except BaseException as exc:  # handed to the request thread, which raises it
            failure.append(exc)
            free.put(_DONE)

    writer = threading.Thread(target=drain, name="artifact-writer", daemon=True)
    writer.start()
    try:
        while (buffer := free.get()) is not _DONE:
            count = _fill(readinto, memoryview(buffer))
            if count:
                filled.put((buffer, count))
            if count < len(buffer):
                break
    finally:
        filled.put(_DONE)
        writer.join()
    if failure:
        raise failure[0]


def _readinto(stream: BinaryIO):
    """stream.readinto, or an equivalent over read() for streams that only implement read()."""
    method = getattr(type(stream), "readinto", None)
    if method is not None and method is not io.RawIOBase.readinto:
        return stream.readinto

    def readinto(view: memoryview) -> int:
        chunk = stream.read(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)

    return readinto


def _fill(readinto, view: memoryview) -> int:
    """Read until view is full or the stream ends; the count read."""
    total = 0
    while total < len(view):
        count = readinto(view[total:])
        if not count:
            break
        total += count
    return total


def _write_all(out, view: memoryview) -> None:
    while view:
        view = view[out.write(view):]
