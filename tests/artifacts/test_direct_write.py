"""DirectWriter: the file holds exactly what was written at every size around the block and buffer
boundaries, the whole blocks really go with O_DIRECT (the flag is read at each write, not assumed),
and a file system that refuses O_DIRECT still gets every byte through the page cache."""
from __future__ import annotations

import errno
import fcntl
import os

import pytest

from mltracker.service.artifacts import direct_write
from mltracker.service.artifacts.direct_write import ALIGNMENT, DirectWriter
from mltracker.service.artifacts.file_copy import BUFFER_SIZE, copy_into

O_DIRECT = getattr(os, "O_DIRECT", 0)


class Source:
    """A request body arriving in uneven pieces."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def read(self, size: int) -> bytes:
        chunk = self.data[self.pos:self.pos + min(size, 300_001)]
        self.pos += len(chunk)
        return chunk


def _upload(path, data: bytes) -> DirectWriter:
    with open(path, "wb", buffering=0) as out:
        writer = DirectWriter(out)
        copy_into(Source(data), writer)
        os.fsync(out.fileno())
    return writer


@pytest.mark.parametrize("size", [0, 1, ALIGNMENT - 1, ALIGNMENT, ALIGNMENT + 1, BUFFER_SIZE, BUFFER_SIZE + 1,
                                  3 * BUFFER_SIZE + 12_345])
def test_the_file_holds_exactly_the_stream(tmp_path, size):
    data = os.urandom(size)
    _upload(tmp_path / "upload.bin", data)
    assert (tmp_path / "upload.bin").read_bytes() == data


@pytest.fixture
def direct(tmp_path):
    with open(tmp_path / "probe.bin", "wb", buffering=0) as probe:
        if not DirectWriter(probe).direct:
            pytest.skip("this platform or file system has no O_DIRECT; write-behind is tested on its own")


def test_whole_blocks_are_written_with_o_direct_and_the_tail_through_the_cache(tmp_path, monkeypatch, direct):
    writes = []
    real_write = os.write

    def recording(fd, data):
        writes.append((len(data), bool(fcntl.fcntl(fd, fcntl.F_GETFL) & O_DIRECT)))
        return real_write(fd, data)

    monkeypatch.setattr(direct_write.os, "write", recording)
    data = os.urandom(2 * BUFFER_SIZE + 12_345)
    writer = _upload(tmp_path / "upload.bin", data)
    monkeypatch.undo()
    assert (tmp_path / "upload.bin").read_bytes() == data
    assert writes[:2] == [(BUFFER_SIZE, True), (BUFFER_SIZE, True)]
    assert writes[2] == (12_345 - 12_345 % ALIGNMENT, True)
    assert not writer.direct  # the last 12,345 % 4,096 bytes went through the page cache


def test_a_file_system_that_refuses_o_direct_writes_still_gets_every_byte(tmp_path, monkeypatch):
    real_write = os.write

    def refusing(fd, data):
        if fcntl.fcntl(fd, fcntl.F_GETFL) & O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    monkeypatch.setattr(direct_write.os, "write", refusing)
    data = os.urandom(3 * BUFFER_SIZE + 7)
    writer = _upload(tmp_path / "upload.bin", data)
    monkeypatch.undo()
    assert (tmp_path / "upload.bin").read_bytes() == data
    assert not writer.direct


def test_other_write_errors_reach_the_caller(tmp_path, monkeypatch, direct):
    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(direct_write.os, "write", full)
    with open(tmp_path / "upload.bin", "wb", buffering=0) as out:
        writer = DirectWriter(out)
        with pytest.raises(OSError) as caught:
            copy_into(Source(os.urandom(BUFFER_SIZE)), writer)
    assert caught.value.errno == errno.ENOSPC
