"""Artifacts in an S3 bucket (or any S3-compatible store) through boto3.

Uploads stream through the server in parts of PART_SIZE bytes: a body smaller than one part is a
single PUT (atomic in S3); a larger one is a multipart upload, completed at the end of the stream
or aborted on any failure, so a broken upload leaves no object. Memory per upload is one part.
"""
from __future__ import annotations

import io
import logging
from contextlib import contextmanager
from typing import BinaryIO, Iterator

from mltracker.service.artifacts.keys import content_disposition
from mltracker.service.artifacts.paths import join_key
from mltracker.service.artifacts.storage import (
    CHUNK_SIZE,
    ArtifactNotFound,
    FileInfo,
    MultipartUpload,
    PartUploadUrl,
    PresignedDownload,
    ReadHandle,
    UploadedPart,
)
from mltracker.service.errors import MlflowError
from mltracker.service.settings import S3Options, s3_options_from_env

log = logging.getLogger("mltracker.artifacts")

PART_SIZE = 10 * 1024 * 1024  # S3 allows 10,000 parts: objects up to ~100 GB through the proxy
MAX_PARTS = 10_000
PRESIGNED_URL_EXPIRY_S = 3600
S3_CONNECT_TIMEOUT_S = 10
_NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound"}


def make_s3_client(options: S3Options | None = None):
    """A boto3 client; options from Settings (the environment's, when the caller has none)."""
    import boto3
    from botocore.config import Config

    options = options or s3_options_from_env()
    return boto3.session.Session().client(
        "s3",
        endpoint_url=options.endpoint_url,
        verify=None if options.verify_tls else False,
        config=Config(signature_version="s3v4", s3={"addressing_style": options.addressing_style},
                      connect_timeout=S3_CONNECT_TIMEOUT_S),
    )


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """("bucket", "prefix") from s3://bucket/prefix."""
    rest = uri[len("s3://"):]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"Invalid S3 artifacts destination: {uri!r}")
    return bucket, prefix.strip("/")


class S3Storage:
    supports_multipart = True
    presigns_downloads = True

    def __init__(self, bucket: str, prefix: str = "", client=None, options: S3Options | None = None):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or make_s3_client(options)

    @classmethod
    def from_uri(cls, uri: str, client=None, options: S3Options | None = None) -> "S3Storage":
        bucket, prefix = parse_s3_uri(uri)
        return cls(bucket, prefix, client, options)

    def _key(self, path: str) -> str:
        return join_key(self.prefix, path)

    def probe(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)

    # ------------------------------------------------------------------ objects

    def write(self, path: str, stream: BinaryIO) -> None:
        key = self._key(path)
        part, size = _read_part(stream, PART_SIZE)
        if size < PART_SIZE:
            with _s3_errors("upload"):
                self.client.put_object(Bucket=self.bucket, Key=key, Body=part, ContentLength=size)
            return
        with _s3_errors("upload"):
            upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        try:
            parts = []
            while size:
                number = len(parts) + 1
                if number > MAX_PARTS:
                    raise MlflowError("Artifact too large for a proxied upload", "INVALID_PARAMETER_VALUE")
                with _s3_errors("upload"):
                    response = self.client.upload_part(
                        Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                        Body=part, ContentLength=size,
                    )
                parts.append({"PartNumber": number, "ETag": response["ETag"]})
                part = None  # release this part's buffer before filling the next
                part, size = _read_part(stream, PART_SIZE)
            with _s3_errors("upload"):
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            self._abort_quietly(key, upload_id)
            raise

    def _abort_quietly(self, key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except Exception as exc:  # noqa: BLE001 - the original failure matters more
            log.warning("S3 abort of a failed upload failed: %s", _describe(exc))

    def open_read(self, path: str) -> ReadHandle:
        try:
            with _s3_errors("download"):
                response = self.client.get_object(Bucket=self.bucket, Key=self._key(path))
        except MlflowError as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise ArtifactNotFound(path) from None
            raise
        return ReadHandle(chunks=_BodyChunks(response["Body"]), size=response.get("ContentLength"))

    def presign_download(self, path: str, expires_in: int) -> PresignedDownload:
        key = self._key(path)
        try:
            with _s3_errors("download"):
                head = self.client.head_object(Bucket=self.bucket, Key=key)
        except MlflowError as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise ArtifactNotFound(path) from None
            raise
        # As MLflow presigns it: saved under the artifact's own name by a browser, stored type kept.
        with _s3_errors("presign"):
            url = self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key,
                        "ResponseContentDisposition": content_disposition(key.rsplit("/", 1)[-1])},
                ExpiresIn=expires_in,
            )
        return PresignedDownload(size=int(head["ContentLength"]), url=url)

    def list_dir(self, path: str) -> list[FileInfo]:
        key = self._key(path)
        prefix = key + "/" if key else ""
        infos = []
        with _s3_errors("list"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/"
            )
            for page in pages:
                for common in page.get("CommonPrefixes", []):
                    name = common["Prefix"][len(prefix):].rstrip("/")
                    if name:
                        infos.append(FileInfo(name, True, None))
                for obj in page.get("Contents", []):
                    name = obj["Key"][len(prefix):]
                    if not name or name.endswith("/"):  # directory markers
                        continue
                    infos.append(FileInfo(name, False, int(obj["Size"])))
        return sorted(infos, key=lambda info: info.path)

    def delete(self, path: str) -> None:
        key = self._key(path)
        if not key:
            raise MlflowError("Invalid path", "INVALID_PARAMETER_VALUE")
        with _s3_errors("delete"):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=key)
            for page in pages:
                doomed = [
                    {"Key": obj["Key"]}
                    for obj in page.get("Contents", [])
                    if obj["Key"] == key or obj["Key"].startswith(key + "/")
                ]
                if not doomed:
                    continue
                response = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": doomed, "Quiet": True}
                )
                if response.get("Errors"):
                    codes = sorted({error.get("Code", "?") for error in response["Errors"]})
                    log.warning("S3 delete left %d objects: %s", len(response["Errors"]), codes)
                    raise MlflowError("Artifact storage error: could not delete every object", "INTERNAL_ERROR")

    # ------------------------------------------------------------------ client-side multipart

    def create_multipart_upload(self, path: str, num_parts: int) -> MultipartUpload:
        key = self._key(path)
        with _s3_errors("multipart create"):
            upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
            urls = [
                PartUploadUrl(
                    part_number=number,
                    url=self.client.generate_presigned_url(
                        "upload_part",
                        Params={"Bucket": self.bucket, "Key": key, "PartNumber": number, "UploadId": upload_id},
                        ExpiresIn=PRESIGNED_URL_EXPIRY_S,
                    ),
                )
                for number in range(1, num_parts + 1)
            ]
        return MultipartUpload(upload_id=upload_id, parts=urls)

    def complete_multipart_upload(self, path: str, upload_id: str, parts: list[UploadedPart]) -> None:
        with _s3_errors("multipart complete"):
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self._key(path),
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": p.part_number, "ETag": p.etag} for p in parts]},
            )

    def abort_multipart_upload(self, path: str, upload_id: str) -> None:
        with _s3_errors("multipart abort"):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self._key(path), UploadId=upload_id)


class _BodyChunks:
    """Iterates a botocore StreamingBody; close() (called by the WSGI server) releases the connection."""

    def __init__(self, body):
        self._body = body
        self._chunks = body.iter_chunks(CHUNK_SIZE)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            self.close()
            raise

    def close(self) -> None:
        self._body.close()


def _read_part(stream: BinaryIO, size: int) -> tuple[io.BytesIO, int]:
    """A buffer of up to size bytes from the stream (fewer only at its end), and its length."""
    buffer = io.BytesIO()
    remaining = size
    while remaining > 0:
        chunk = stream.read(min(remaining, CHUNK_SIZE))
        if not chunk:
            break
        buffer.write(chunk)
        remaining -= len(chunk)
    buffer.seek(0)
    return buffer, size - remaining


def _describe(exc: Exception) -> str:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Unknown')}: {error.get('Message', '')}".strip()
    return type(exc).__name__


@contextmanager
def _s3_errors(action: str):
    """botocore failures as MLflow errors: a short message, logged without traceback or secrets."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        if code in _NOT_FOUND_CODES:
            raise MlflowError("Artifact not found", "RESOURCE_DOES_NOT_EXIST") from None
        if code == "NoSuchUpload":
            raise MlflowError("Multipart upload not found (completed or aborted already?)",
                              "RESOURCE_DOES_NOT_EXIST") from None
        if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall", "InvalidArgument"):
            raise MlflowError(f"Artifact storage refused the {action}: {code}", "INVALID_PARAMETER_VALUE") from None
        log.warning("S3 %s failed: %s", action, _describe(exc))
        raise MlflowError(f"Artifact storage error during {action}: {code}", "INTERNAL_ERROR") from None
    except EndpointConnectionError:
        log.warning("S3 %s failed: endpoint unreachable", action)
        raise MlflowError("Artifact storage is unreachable; retry later", "TEMPORARILY_UNAVAILABLE") from None
    except BotoCoreError as exc:
        log.warning("S3 %s failed: %s", action, type(exc).__name__)
        raise MlflowError(f"Artifact storage error during {action}: {type(exc).__name__}", "INTERNAL_ERROR") from None
