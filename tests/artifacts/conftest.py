"""Fixtures for the artifact tests: both storage adapters, apps over each, a live threaded server.

The moto S3 server itself is the shared `s3_server` fixture of tests/conftest.py.
"""
from __future__ import annotations

import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from mltracker.service.artifacts.local import LocalStorage
from mltracker.service.artifacts.s3 import S3Storage
from mltracker.service.settings import Settings

BACKENDS = ["local", "s3"]


@dataclass
class Destination:
    """Where an app or a storage keeps artifacts, and how a test looks behind its back."""

    kind: str
    uri: str
    root: Path | None = None  # local folder
    s3: object | None = None  # tests.conftest.S3Server
    prefix: str = ""

    def keys(self) -> list[str]:
        """Every stored object or file, relative to the destination (temp files included)."""
        if self.kind == "local":
            return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())
        client = self.s3.client()
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=self.s3.bucket, Prefix=self.prefix + "/")
        return sorted(obj["Key"][len(self.prefix) + 1:] for page in pages for obj in page.get("Contents", []))

    def pending_multipart_uploads(self) -> list[str]:
        if self.kind != "s3":
            return []
        response = self.s3.client().list_multipart_uploads(Bucket=self.s3.bucket, Prefix=self.prefix + "/")
        return [upload["Key"] for upload in response.get("Uploads", [])]

    def storage(self):
        if self.kind == "local":
            return LocalStorage(str(self.root))
        return S3Storage(self.s3.bucket, self.prefix, client=self.s3.client())


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    """The adapter finds the endpoint the way production does: from the environment."""
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return s3_server


@pytest.fixture(params=BACKENDS)
def destination(request, tmp_path) -> Destination:
    if request.param == "local":
        root = tmp_path / "artifacts"
        return Destination("local", str(root), root=root)
    s3 = request.getfixturevalue("s3_env")
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    return Destination("s3", f"s3://{s3.bucket}/{prefix}", s3=s3, prefix=prefix)


@pytest.fixture
def storage(destination):
    return destination.storage()


@pytest.fixture
def app(destination, tmp_path):
    from mltracker.service.app import create_app

    return create_app(Settings(backend_store_uri=f"sqlite:///{tmp_path}/db.sqlite", artifacts_destination=destination.uri))


@pytest.fixture
def client(app):
    return app.test_client()


@contextmanager
def serve_in_thread(app):
    """The app behind a real (threaded) werkzeug HTTP server; yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def live_url(app):
    with serve_in_thread(app) as url:
        yield url
