"""The artifact storage port: what the artifact proxy needs from a local folder or an S3 bucket.

Paths are relative POSIX paths ("<project>/<experiment>/<run>/artifacts/model/MLmodel"),
already checked by service.artifacts.paths; adapters never see user input unchecked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Iterator, Protocol


@dataclass(frozen=True)
class FileInfo:
    path: str  # relative to the listed directory's root prefix given by the caller
    is_dir: bool
    file_size: int | None = None


class ArtifactStorage(Protocol):
    supports_multipart: bool

    def write(self, path: str, stream: BinaryIO) -> None:
        """Store the stream at path atomically: readers see the old object or the whole new one."""

    def open_read(self, path: str) -> tuple[Iterator[bytes], int | None]:
        """Chunks of the object at path and its size; raises FileNotFoundError when absent."""

    def list_dir(self, path: str) -> list[FileInfo]:
        """Immediate children of the directory at path (names only, not full paths)."""

    def is_dir(self, path: str) -> bool: ...

    def delete(self, path: str) -> None:
        """Delete the object or the whole directory at path."""
