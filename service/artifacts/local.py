"""Artifacts in a local folder: atomic writes (temp file, fsync, rename), streamed reads."""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from typing import BinaryIO, Iterator

from mltracker.service.artifacts.storage import (
    CHUNK_SIZE,
    ArtifactNotFound,
    FileInfo,
    MultipartUpload,
    PresignedDownload,
    ReadHandle,
    UploadedPart,
    multipart_unsupported,
)
from mltracker.service.artifacts.file_copy import copy_into
from mltracker.service.artifacts.write_behind import WriteBehind
from mltracker.service.errors import MlflowError

# Uploads in progress live next to their destination under this prefix; listings skip them, so a
# process killed mid-upload leaves nothing a client can see.
TEMP_PREFIX = ".mltracker-upload-"


class LocalStorage:
    supports_multipart = False
    presigns_downloads = False

    def __init__(self, root: str):
        self.root = os.path.realpath(root)
        os.makedirs(self.root, exist_ok=True)

    def _resolve(self, path: str) -> str:
        """The file system path of a key "<project>/<...>", confined to that project's own folder
        once every symbolic link is resolved: a link (or a project folder that is itself a link)
        leading anywhere else - another project, outside the root - is refused."""
        segments = [s for s in path.split("/") if s]
        full = os.path.join(self.root, *segments)
        if not segments:
            return full
        confinement = os.path.join(self.root, segments[0])
        real = os.path.realpath(full)
        if real != confinement and not real.startswith(confinement + os.sep):
            raise MlflowError("Invalid path", "INVALID_PARAMETER_VALUE")
        return full

    def probe(self) -> None:
        if not os.path.isdir(self.root) or not os.access(self.root, os.R_OK | os.W_OK | os.X_OK):
            raise OSError(f"artifact folder {self.root} is missing or not writable")

    def write(self, path: str, stream: BinaryIO) -> None:
        target = self._resolve(path)
        if target == self.root:
            raise MlflowError("Invalid path", "INVALID_PARAMETER_VALUE")
        parent = os.path.dirname(target)
        try:
            os.makedirs(parent, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise MlflowError(
                f"Cannot store artifact: a parent of '{_tail(path)}' is a file", "INVALID_PARAMETER_VALUE"
            ) from None
        if os.path.isdir(target):
            raise MlflowError(
                f"Cannot store artifact: '{_tail(path)}' is a directory", "INVALID_PARAMETER_VALUE"
            )
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=parent)
        try:
            with os.fdopen(fd, "wb", buffering=0) as out:
                copy_into(stream, WriteBehind(out))
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            _remove_quietly(tmp)
            raise
        _fsync_dir(parent)

    def open_read(self, path: str) -> ReadHandle:
        target = self._resolve(path)
        try:
            handle = open(target, "rb")  # noqa: SIM115 - closed by the chunk iterator
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ArtifactNotFound(path) from None
        size = os.fstat(handle.fileno()).st_size
        if os.path.isdir(target):
            handle.close()
            raise ArtifactNotFound(path)
        return ReadHandle(chunks=_FileChunks(handle), size=size, file=handle)

    def presign_download(self, path: str, expires_in: int) -> PresignedDownload:
        try:
            status = os.stat(self._resolve(path))
        except (FileNotFoundError, NotADirectoryError):
            raise ArtifactNotFound(path) from None
        if not stat.S_ISREG(status.st_mode):
            raise ArtifactNotFound(path)
        return PresignedDownload(size=status.st_size, url=None)

    def list_dir(self, path: str) -> list[FileInfo]:
        directory = self._resolve(path)
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return []
        infos = []
        for entry in entries:
            if entry.name.startswith(TEMP_PREFIX):
                continue
            # Links are not followed (nor listed): whatever they point at is not this folder's.
            if entry.is_dir(follow_symlinks=False):
                infos.append(FileInfo(entry.name, True, None))
            elif entry.is_file(follow_symlinks=False):
                infos.append(FileInfo(entry.name, False, entry.stat(follow_symlinks=False).st_size))
        return sorted(infos, key=lambda info: info.path)

    def delete(self, path: str) -> None:
        target = self._resolve(path)
        if target == self.root:
            raise MlflowError("Invalid path", "INVALID_PARAMETER_VALUE")
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target, ignore_errors=False)
        else:
            try:
                os.remove(target)
            except FileNotFoundError:
                pass

    def create_multipart_upload(self, path: str, num_parts: int) -> MultipartUpload:
        raise multipart_unsupported()

    def complete_multipart_upload(self, path: str, upload_id: str, parts: list[UploadedPart]) -> None:
        raise multipart_unsupported()

    def abort_multipart_upload(self, path: str, upload_id: str) -> None:
        raise multipart_unsupported()


class _FileChunks:
    """Iterates a file in chunks; close() (called by the WSGI server) releases it even unstarted."""

    def __init__(self, handle):
        self._handle = handle

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        chunk = self._handle.read(CHUNK_SIZE)
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        self._handle.close()


def _tail(path: str) -> str:
    # Error messages name the client's part of the key, not the project prefix.
    return path.split("/", 1)[-1]


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
