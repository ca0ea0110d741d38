"""copy_into: what reaches the file is exactly the stream, whichever side fails the error surfaces,
and no writer thread is left behind."""
from __future__ import annotations

import errno
import io
import os
import threading

import pytest

from mltracker.service.artifacts import file_copy
from mltracker.service.artifacts.file_copy import BUFFER_SIZE, copy_into


class ReadOnly(io.RawIOBase):
    """Implements read() only, in uneven pieces, as some WSGI streams do."""

    def __init__(self, data: bytes, piece: int = 70_001):
        self.data, self.piece, self.pos = data, piece, 0

    def readable(self):
        return True

    def read(self, size=-1):
        n = min(self.piece, size if size and size > 0 else self.piece, len(self.data) - self.pos)
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk


class ShortWrites(io.RawIOBase):
    """A raw file that accepts at most `limit` bytes per write, and can run out of space."""

    def __init__(self, limit: int = 100_000, space: int | None = None):
        self.out, self.limit, self.space = bytearray(), limit, space

    def writable(self):
        return True

    def write(self, data):
        if self.space is not None and len(self.out) >= self.space:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = min(len(data), self.limit)
        self.out += bytes(data[:n])
        return n


def _writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "artifact-writer"]


@pytest.mark.parametrize("size", [0, 1, BUFFER_SIZE - 1, BUFFER_SIZE, BUFFER_SIZE + 1, 5 * BUFFER_SIZE + 12_345])
@pytest.mark.parametrize("make_stream", [io.BytesIO, ReadOnly], ids=["readinto", "read-only"])
def test_copies_every_byte_in_order(size, make_stream):
    data = os.urandom(size)
    out = ShortWrites()
    copy_into(make_stream(data), out)
    assert bytes(out.out) == data
    assert _writer_threads() == []


def test_write_failure_reaches_the_caller():
    out = ShortWrites(space=2 * BUFFER_SIZE)
    with pytest.raises(OSError) as caught:
        copy_into(io.BytesIO(os.urandom(20 * BUFFER_SIZE)), out)
    assert caught.value.errno == errno.ENOSPC
    assert _writer_threads() == []


def test_read_failure_reaches_the_caller():
    class Dropping(ReadOnly):
        def read(self, size=-1):
            if self.pos >= 3 * BUFFER_SIZE:
                raise ConnectionResetError("client went away")
            return super().read(size)

    out = ShortWrites()
    with pytest.raises(ConnectionResetError):
        copy_into(Dropping(os.urandom(10 * BUFFER_SIZE)), out)
    assert _writer_threads() == []
    assert len(out.out) <= 3 * BUFFER_SIZE


def test_memory_is_bounded_by_the_buffers(monkeypatch):
    """A writer slower than the reader makes the reader wait for a free buffer, not pile up data."""
    made = []
    real = bytearray

    def counting(*args):
        made.append(1)
        return real(*args)

    monkeypatch.setattr(file_copy, "bytearray", counting, raising=False)
    copy_into(ReadOnly(os.urandom(12 * BUFFER_SIZE)), ShortWrites(limit=4096))
    assert len(made) == file_copy.BUFFERS
