"""The storage port, against both adapters: a local folder and S3 (moto server)."""
from __future__ import annotations

import io
import os

import pytest

from mltracker.service.artifacts import s3 as s3_module
from mltracker.service.artifacts.factory import storage_from_destination
from mltracker.service.artifacts.local import LocalStorage
from mltracker.service.artifacts.s3 import S3Storage
from mltracker.service.artifacts.storage import ArtifactNotFound, FileInfo, UploadedPart
from mltracker.service.errors import MlflowError
from mltracker.service.settings import S3Options, settings_from_env


def read_all(storage, path) -> bytes:
    handle = storage.open_read(path)
    try:
        return b"".join(handle.chunks)
    finally:
        handle.chunks.close()


class Exploding(io.RawIOBase):
    """A stream that yields `good` bytes, then fails as a disconnecting client would."""

    def __init__(self, good: int, chunk: int = 1024 * 1024):
        self.left = good
        self.chunk = chunk

    def readable(self):
        return True

    def read(self, size=-1):
        if self.left <= 0:
            raise ConnectionResetError("client went away")
        n = min(self.left, self.chunk, size if size and size > 0 else self.chunk)
        self.left -= n
        return b"x" * n


def test_factory_chooses_adapter(tmp_path, s3_env):
    assert isinstance(storage_from_destination(str(tmp_path / "a")), LocalStorage)
    assert isinstance(storage_from_destination(f"file://{tmp_path}/b"), LocalStorage)
    assert (tmp_path / "b").is_dir()
    s3 = storage_from_destination(f"s3://{s3_env.bucket}/some/prefix")
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix) == (s3_env.bucket, "some/prefix")
    assert s3.client.meta.endpoint_url == s3_env.endpoint
    assert s3.supports_multipart and not LocalStorage(str(tmp_path / "c")).supports_multipart


def test_endpoint_from_aws_endpoint_url(monkeypatch):
    monkeypatch.delenv("MLFLOW_S3_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    assert settings_from_env().s3.endpoint_url == "http://127.0.0.1:1"
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", "http://127.0.0.1:2")
    assert settings_from_env().s3.endpoint_url == "http://127.0.0.1:2"
    assert s3_module.make_s3_client().meta.endpoint_url == "http://127.0.0.1:2"


def test_addressing_style_and_tls_from_mlflow_variables(monkeypatch):
    monkeypatch.setenv("MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE", "path")
    monkeypatch.setenv("MLFLOW_S3_IGNORE_TLS", "true")
    options = settings_from_env().s3
    assert (options.addressing_style, options.verify_tls) == ("path", False)
    client = s3_module.make_s3_client(S3Options(endpoint_url="https://127.0.0.1:3", addressing_style="path"))
    assert client.meta.config.s3["addressing_style"] == "path"


def test_round_trip_binary(storage):
    payload = bytes(range(256)) * 5000 + b"\x00\xff"
    storage.write("1/exp/run/artifacts/blob.bin", io.BytesIO(payload))
    handle = storage.open_read("1/exp/run/artifacts/blob.bin")
    assert handle.size == len(payload)
    assert b"".join(handle.chunks) == payload


def test_overwrite_replaces(storage):
    storage.write("1/a.txt", io.BytesIO(b"old"))
    storage.write("1/a.txt", io.BytesIO(b"new content"))
    assert read_all(storage, "1/a.txt") == b"new content"


def test_empty_file(storage):
    storage.write("1/empty", io.BytesIO(b""))
    assert read_all(storage, "1/empty") == b""
    assert storage.list_dir("1") == [FileInfo("empty", False, 0)]


def test_missing_is_not_found(storage):
    with pytest.raises(ArtifactNotFound):
        storage.open_read("1/nope.txt")


def test_directory_is_not_a_file(storage):
    storage.write("1/dir/x", io.BytesIO(b"x"))
    with pytest.raises(ArtifactNotFound):
        storage.open_read("1/dir")


def test_list_nested(storage):
    for path in ["p/run/artifacts/model/MLmodel", "p/run/artifacts/model/data/w.bin",
                 "p/run/artifacts/metrics.json", "p/run/artifacts/plots/a.png"]:
        storage.write(path, io.BytesIO(b"12345"))
    assert storage.list_dir("p/run/artifacts") == [
        FileInfo("metrics.json", False, 5),
        FileInfo("model", True, None),
        FileInfo("plots", True, None),
    ]
    assert storage.list_dir("p/run/artifacts/model") == [
        FileInfo("MLmodel", False, 5),
        FileInfo("data", True, None),
    ]
    assert storage.list_dir("p/run/artifacts/model/data") == [FileInfo("w.bin", False, 5)]
    assert storage.list_dir("p/run/artifacts/metrics.json") == []  # a file, not a directory
    assert storage.list_dir("p/run/nothing") == []
    assert storage.list_dir("p/run/artifacts/mod") == []  # a name prefix is not a directory


def test_list_paginates(storage):
    """More entries than one S3 page (1000)."""
    if isinstance(storage, LocalStorage):
        pytest.skip("pagination is an S3 concern")
    client = storage.client
    for i in range(1005):
        client.put_object(Bucket=storage.bucket, Key=f"{storage.prefix}/big/f{i:04d}", Body=b"x")
    client.put_object(Bucket=storage.bucket, Key=f"{storage.prefix}/big/zz/inner", Body=b"x")
    names = [info.path for info in storage.list_dir("big")]
    assert len(names) == 1006 and names[0] == "f0000" and names[-1] == "zz"
    storage.delete("big")
    assert storage.list_dir("big") == []


def test_list_skips_s3_directory_markers(storage):
    if isinstance(storage, LocalStorage):
        pytest.skip("S3 only")
    storage.client.put_object(Bucket=storage.bucket, Key=f"{storage.prefix}/d/", Body=b"")
    storage.client.put_object(Bucket=storage.bucket, Key=f"{storage.prefix}/d/sub/", Body=b"")
    storage.write("d/f", io.BytesIO(b"1"))
    assert storage.list_dir("d") == [FileInfo("f", False, 1), FileInfo("sub", True, None)]


def test_delete_file_and_folder(storage):
    for path in ["1/r/a/x", "1/r/a/y/z", "1/r/ab", "1/r/b"]:
        storage.write(path, io.BytesIO(b"."))
    storage.delete("1/r/b")
    assert [i.path for i in storage.list_dir("1/r")] == ["a", "ab"]
    storage.delete("1/r/a")
    assert [i.path for i in storage.list_dir("1/r")] == ["ab"]  # "ab" shares a prefix, survives
    storage.delete("1/r/missing")  # nothing there: not an error
    with pytest.raises(ArtifactNotFound):
        storage.open_read("1/r/a/x")


def test_failed_write_leaves_nothing(storage, destination):
    storage.write("1/keep.txt", io.BytesIO(b"keep"))
    before = destination.keys()
    with pytest.raises(ConnectionResetError):
        storage.write("1/broken.bin", Exploding(good=3 * 1024 * 1024))
    assert destination.keys() == before
    assert storage.list_dir("1") == [FileInfo("keep.txt", False, 4)]


def test_failed_large_write_aborts_multipart(storage, destination):
    """Past one part, S3 uses a multipart upload: it must be aborted, not left dangling."""
    good = s3_module.PART_SIZE * 2 + 1234
    with pytest.raises(ConnectionResetError):
        storage.write("1/big-broken.bin", Exploding(good=good))
    assert destination.keys() == []
    assert destination.pending_multipart_uploads() == []


def test_failed_overwrite_keeps_old_version(storage):
    storage.write("1/model.bin", io.BytesIO(b"version one"))
    with pytest.raises(ConnectionResetError):
        storage.write("1/model.bin", Exploding(good=100))
    assert read_all(storage, "1/model.bin") == b"version one"


def test_large_write_in_parts(storage):
    size = s3_module.PART_SIZE * 2 + 777  # three parts on S3
    block = os.urandom(1024 * 1024)

    class Gen(io.RawIOBase):
        def __init__(self):
            self.sent = 0

        def readable(self):
            return True

        def read(self, n=-1):
            n = min(n if n > 0 else len(block), len(block), size - self.sent)
            self.sent += n
            return block[:n]

    storage.write("1/large.bin", Gen())
    handle = storage.open_read("1/large.bin")
    assert handle.size == size
    total = 0
    for chunk in handle.chunks:
        total += len(chunk)
    assert total == size


def test_local_write_is_atomic_and_clean(tmp_path):
    storage = LocalStorage(str(tmp_path / "root"))
    storage.write("1/x", io.BytesIO(b"abc"))
    # No temp files remain, and a stray one (a killed process) is never listed.
    assert sorted(os.listdir(tmp_path / "root" / "1")) == ["x"]
    (tmp_path / "root" / "1" / ".mltracker-upload-abc123").write_bytes(b"partial")
    assert storage.list_dir("1") == [FileInfo("x", False, 3)]


def test_local_refuses_escape_by_symlink(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    storage = LocalStorage(str(tmp_path / "root"))
    os.makedirs(tmp_path / "root" / "1")
    os.symlink(outside, tmp_path / "root" / "1" / "link")
    with pytest.raises(MlflowError):
        storage.write("1/link/evil.txt", io.BytesIO(b"x"))
    assert list(outside.iterdir()) == []


def test_local_file_where_directory_expected(tmp_path):
    storage = LocalStorage(str(tmp_path / "root"))
    storage.write("1/a", io.BytesIO(b"x"))
    with pytest.raises(MlflowError) as info:
        storage.write("1/a/b", io.BytesIO(b"y"))
    assert info.value.http_status == 400


def test_local_multipart_not_implemented(tmp_path):
    storage = LocalStorage(str(tmp_path / "root"))
    with pytest.raises(MlflowError) as info:
        storage.create_multipart_upload("1/x", 2)
    assert info.value.error_code == "NOT_IMPLEMENTED"
    assert info.value.message.startswith("Multipart upload is not supported")


def test_s3_multipart_presigned(destination):
    if destination.kind != "s3":
        pytest.skip("S3 only")
    import requests

    storage = destination.storage()
    part = b"a" * (5 * 1024 * 1024)
    upload = storage.create_multipart_upload("1/mp.bin", 2)
    assert [p.part_number for p in upload.parts] == [1, 2]
    etags = []
    for credential, body in zip(upload.parts, [part, b"tail"]):
        response = requests.put(credential.url, data=body, headers=credential.headers)
        response.raise_for_status()
        etags.append(UploadedPart(credential.part_number, response.headers["ETag"]))
    storage.complete_multipart_upload("1/mp.bin", upload.upload_id, etags)
    assert read_all(storage, "1/mp.bin") == part + b"tail"

    upload = storage.create_multipart_upload("1/aborted.bin", 1)
    requests.put(upload.parts[0].url, data=b"zzz").raise_for_status()
    storage.abort_multipart_upload("1/aborted.bin", upload.upload_id)
    assert destination.pending_multipart_uploads() == []
    with pytest.raises(ArtifactNotFound):
        storage.open_read("1/aborted.bin")
    with pytest.raises(MlflowError):  # real S3 says NoSuchUpload (404); moto says 500
        storage.complete_multipart_upload("1/aborted.bin", upload.upload_id, [UploadedPart(1, '"x"')])


def test_s3_errors_are_clear(s3_env, caplog):
    storage = S3Storage("no-such-bucket-mltracker", "p")
    with pytest.raises(MlflowError) as info:
        storage.write("1/x", io.BytesIO(b"x"))
    assert info.value.error_code == "INTERNAL_ERROR"
    assert "NoSuchBucket" in info.value.message
    assert "testing" not in caplog.text  # no credentials in the logs


def test_s3_unreachable(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from botocore.config import Config
    import boto3

    client = boto3.client("s3", endpoint_url="http://127.0.0.1:9", config=Config(retries={"max_attempts": 1},
                                                                               connect_timeout=1))
    storage = S3Storage("b", "p", client=client)
    with pytest.raises(MlflowError) as info:
        storage.list_dir("1")
    assert info.value.error_code == "TEMPORARILY_UNAVAILABLE"
