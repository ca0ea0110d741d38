"""WriteBehind: the file holds exactly what was written, partial writes are passed on, and the
written ranges are written out and waited for as they fill (the calls are observed, not assumed)."""
from __future__ import annotations

import os

from mltracker.service.artifacts import write_behind
from mltracker.service.artifacts.file_copy import copy_into
from mltracker.service.artifacts.write_behind import WINDOW, WriteBehind


class Source:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def read(self, size: int) -> bytes:
        chunk = self.data[self.pos:self.pos + min(size, 300_001)]
        self.pos += len(chunk)
        return chunk


def test_the_file_holds_exactly_the_stream(tmp_path):
    data = os.urandom(3 * WINDOW + 12_345)
    target = tmp_path / "upload.bin"
    with open(target, "wb", buffering=0) as out:
        copy_into(Source(data), WriteBehind(out))
        os.fsync(out.fileno())
    assert target.read_bytes() == data


def test_each_filled_window_is_handed_to_writeback_in_order(tmp_path, monkeypatch):
    if write_behind._sync_file_range is None:
        import pytest

        pytest.skip("sync_file_range is Linux-only; elsewhere the final fsync does all the work")
    calls = []
    real = write_behind._sync_file_range

    def recording(fd, offset, length, flags):
        calls.append((offset, length, flags))
        return real(fd, offset, length, flags)

    monkeypatch.setattr(write_behind, "_sync_file_range", recording)
    data = os.urandom(2 * WINDOW + 5)
    with open(tmp_path / "upload.bin", "wb", buffering=0) as out:
        copy_into(Source(data), WriteBehind(out))
    covered = 0
    for offset, length, flags in calls:
        assert offset == covered and length >= WINDOW
        assert flags == 1 | 2 | 4  # wait for earlier writeback, write, wait for this window's
        covered += length
    assert len(calls) == 2 and covered <= len(data)
