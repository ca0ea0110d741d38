"""The one byte range of a `Range` request header (RFC 9110 §14), for artifact downloads.

One range is served as 206; a header this server does not take (another unit, several ranges,
bad syntax) is ignored and the whole file is sent, as the RFC allows; a range that starts past the
end of the file (or a zero-length suffix) is unsatisfiable: 416.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Digits are bounded: no position past 10^19 bytes is worth parsing.
_ONE_RANGE = re.compile(r"bytes[ \t]*=[ \t]*([0-9]{0,19})[ \t]*-[ \t]*([0-9]{0,19})", re.IGNORECASE)
_MAX_HEADER = 200


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class RangeNotSatisfiable(Exception):
    pass


def requested_range(header: str | None, size: int) -> ByteRange | None:
    """The range of a file of `size` bytes that the header asks for; None to send the whole file;
    RangeNotSatisfiable when no byte of the file is in it."""
    if not header or len(header) > _MAX_HEADER:
        return None
    match = _ONE_RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable()
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # not a valid range: ignored
    if start >= size:
        raise RangeNotSatisfiable()
    return ByteRange(start, min(end, size - 1))
