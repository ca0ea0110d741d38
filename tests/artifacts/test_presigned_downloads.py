"""Parallel downloads: /server-info advertises them, `presigned/<path>` hands out a URL (S3's own,
or a link to mltracker signed for one file and a few minutes), and the stock client fetches the
file in byte ranges from it. Checked in the app (links, ranges, errors) and end to end over real
HTTP with the stock client on both stores."""
from __future__ import annotations

import filecmp
import os
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from mltracker.service.api.byte_ranges import ByteRange, RangeNotSatisfiable, requested_range
from mltracker.service.artifacts.download_links import LinkExpired, LinkRefused, LinkSigner
from mltracker.service.settings import Settings

ART = "/api/2.0/mlflow-artifacts"
LINKS = "/api/mltracker/artifact-links"
DATA = bytes(range(256)) * 4  # 1,024 bytes


# ---------------------------------------------------------------- Range headers

@pytest.mark.parametrize("header,expected", [
    ("bytes=0-0", ByteRange(0, 0)),
    ("bytes=10-19", ByteRange(10, 19)),
    ("bytes=1000-", ByteRange(1000, 1023)),
    ("bytes=1000-99999", ByteRange(1000, 1023)),  # past the end: up to the end
    ("bytes=-24", ByteRange(1000, 1023)),
    ("bytes=-5000", ByteRange(0, 1023)),  # a suffix longer than the file: all of it
    ("Bytes = 1 - 2", ByteRange(1, 2)),
    (None, None),
    ("", None),
    ("bytes=5-2", None),  # invalid: ignored, the whole file is sent
    ("bytes=0-1,5-6", None),  # several ranges: not taken, the whole file is sent
    ("items=0-1", None),
    ("bytes=-", None),
    ("bytes=" + "9" * 20 + "-", None),
    ("bytes=0-1" + " " * 300, None),
])
def test_requested_range(header, expected):
    assert requested_range(header, 1024) == expected


@pytest.mark.parametrize("header,size", [("bytes=1024-", 1024), ("bytes=5000-6000", 1024), ("bytes=-0", 1024),
                                         ("bytes=0-", 0), ("bytes=-1", 0)])
def test_unsatisfiable_ranges(header, size):
    with pytest.raises(RangeNotSatisfiable):
        requested_range(header, size)


# ---------------------------------------------------------------- signatures

def test_link_signatures():
    signer, other = LinkSigner("secret-one"), LinkSigner("secret-two")
    link = signer.sign("3/1/r/artifacts/m.bin", 60)
    signer.check("3/1/r/artifacts/m.bin", str(link.expires), link.signature)
    refused = [
        ("3/1/r/artifacts/other.bin", str(link.expires), link.signature),  # another file
        ("4/1/r/artifacts/m.bin", str(link.expires), link.signature),  # another project
        ("3/1/r/artifacts/m.bin", str(link.expires + 3600), link.signature),  # a later expiry
        ("3/1/r/artifacts/m.bin", str(link.expires), link.signature[:-1] + ("A" if link.signature[-1] != "A" else "B")),
        ("3/1/r/artifacts/m.bin", str(link.expires), "é" * 43),
        ("3/1/r/artifacts/m.bin", "²" * 3, link.signature),
        ("3/1/r/artifacts/m.bin", None, link.signature),
        ("3/1/r/artifacts/m.bin", str(link.expires), None),
    ]
    for key, expires, signature in refused:
        with pytest.raises(LinkRefused) as caught:
            signer.check(key, expires, signature)
        assert not isinstance(caught.value, LinkExpired), (key, expires, signature)
    with pytest.raises(LinkRefused):
        other.check("3/1/r/artifacts/m.bin", str(link.expires), link.signature)
    with pytest.raises(LinkExpired):
        signer.check("3/1/r/artifacts/m.bin", str(link.expires), link.signature, now=link.expires + 1)


# ---------------------------------------------------------------- the app, local folder

@pytest.fixture
def local_settings(tmp_path) -> Settings:
    return Settings(backend_store_uri=f"sqlite:///{tmp_path}/db.sqlite", artifacts_destination=str(tmp_path / "art"),
                    data_dir=str(tmp_path / "data"), multipart_downloads=True)


@pytest.fixture
def local_client(local_settings):
    from mltracker.service.app import create_app

    client = create_app(local_settings).test_client()
    assert client.put(f"{ART}/artifacts/1/r/artifacts/m.bin", data=DATA).status_code == 200
    return client


def _link(client, path: str = "1/r/artifacts/m.bin") -> str:
    response = client.get(f"{ART}/presigned/{path}")
    assert response.status_code == 200, response.json
    assert response.json["file_size"] == len(DATA) and response.json["headers"] == {}
    parts = urlsplit(response.json["url"])
    assert parts.path == f"{LINKS}/0/{path}"
    return f"{parts.path}?{parts.query}"


def _error(response, status: int, code: str) -> str:
    assert response.status_code == status, (response.status_code, response.data[:200])
    assert response.json["error_code"] == code
    return response.json["message"]


def test_server_info_advertises_downloads_where_the_store_presigns(client, destination):
    """By default S3 (as mlflow server), not a local folder (the stock client's ranged path is slower
    there than one stream); MLTRACKER_MULTIPART_DOWNLOADS chooses otherwise."""
    assert client.get("/api/3.0/mlflow/server-info").json["multipart_downloads_enabled"] is (destination.kind == "s3")


def test_server_info_advertises_downloads_when_chosen(local_client):
    assert local_client.get("/api/3.0/mlflow/server-info").json["multipart_downloads_enabled"] is True


def test_link_serves_ranges(local_client):
    link = _link(local_client)
    whole = local_client.get(link)
    assert whole.status_code == 200 and whole.data == DATA and whole.headers["Accept-Ranges"] == "bytes"
    for header, start, end in [("bytes=0-0", 0, 0), ("bytes=100-199", 100, 199), ("bytes=1000-", 1000, 1023),
                               ("bytes=-10", 1014, 1023), ("bytes=1000-5000", 1000, 1023)]:
        part = local_client.get(link, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.data == DATA[start:end + 1], header
        assert part.headers["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
        assert int(part.headers["Content-Length"]) == end - start + 1
        assert part.headers["Content-Disposition"] == "attachment; filename=m.bin"
    for header in ("bytes=1024-", "bytes=-0", "bytes=4096-8191"):
        refused = local_client.get(link, headers={"Range": header})
        _error(refused, 416, "INVALID_PARAMETER_VALUE")
        assert refused.headers["Content-Range"] == f"bytes */{len(DATA)}"
    for header in ("bytes=0-1,5-6", "bytes=9-3", "lines=1-2"):
        ignored = local_client.get(link, headers={"Range": header})
        assert ignored.status_code == 200 and ignored.data == DATA, header


def test_proxied_download_takes_ranges_too(local_client):
    """As MLflow's download of a local file (Flask's send_file) does."""
    part = local_client.get(f"{ART}/artifacts/1/r/artifacts/m.bin", headers={"Range": "bytes=5-9"})
    assert part.status_code == 206 and part.data == DATA[5:10]


def test_forged_expired_and_other_path_links_refused(local_client, local_settings):
    from mltracker.service.ui.security import load_secret_key

    assert local_client.put(f"{ART}/artifacts/1/r/artifacts/other.bin", data=b"secret").status_code == 200
    link = _link(local_client)
    path, query = link.split("?")
    params = parse_qs(query)
    expires, signature = params["expires"][0], params["signature"][0]
    forged = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    attempts = [
        f"{path}?expires={expires}&signature={forged}",
        f"{path}?expires={int(expires) + 3600}&signature={signature}",
        f"{path}?expires={expires}",
        path,
        f"{LINKS}/0/1/r/artifacts/other.bin?{query}",  # this file's signature on another file
        f"{LINKS}/7/1/r/artifacts/m.bin?{query}",  # or in another project
    ]
    for attempt in attempts:
        assert _error(local_client.get(attempt), 403, "PERMISSION_DENIED") == "Invalid download link", attempt
    # A genuine link, signed with this server's key, whose time has passed.
    stale = LinkSigner(load_secret_key(local_settings)).sign("0/1/r/artifacts/m.bin", 300, now=time.time() - 301)
    expired = local_client.get(f"{path}?expires={stale.expires}&signature={stale.signature}")
    assert _error(expired, 403, "PERMISSION_DENIED") == "The download link has expired"
    # The same key from another server's secret: refused.
    foreign = LinkSigner("another server").sign("0/1/r/artifacts/m.bin", 300)
    assert _error(local_client.get(f"{path}?expires={foreign.expires}&signature={foreign.signature}"), 403,
                  "PERMISSION_DENIED")


def test_presigned_errors_in_mlflow_format(local_client):
    assert _error(local_client.get(f"{ART}/presigned/1/r/artifacts/missing.bin"), 404,
                  "RESOURCE_DOES_NOT_EXIST") == "Artifact not found: 1/r/artifacts/missing.bin"
    assert _error(local_client.get(f"{ART}/presigned/1/r/artifacts"), 404, "RESOURCE_DOES_NOT_EXIST")  # a directory
    for bad in ("1/r/../../../etc/passwd", "1/r/%2e%2e/%2e%2e/x", "1/r/a%5cb"):
        _error(local_client.get(f"{ART}/presigned/{bad}"), 400, "INVALID_PARAMETER_VALUE")
    _error(local_client.get(f"{LINKS}/0/1/r/../../../../etc/passwd?expires=1&signature=x"), 400,
           "INVALID_PARAMETER_VALUE")
    _error(local_client.get(f"{LINKS}/x/m.bin?expires=1&signature=x"), 400, "INVALID_PARAMETER_VALUE")


def test_links_use_the_public_url(local_settings):
    from dataclasses import replace

    from mltracker.service.app import create_app

    client = create_app(replace(local_settings, public_url="https://ml.example.com/tracker/")).test_client()
    assert client.put(f"{ART}/artifacts/1/r/artifacts/a b%step%1.bin", data=DATA).status_code == 200
    url = client.get(f"{ART}/presigned/1/r/artifacts/a b%step%1.bin").json["url"]
    assert url.startswith(f"https://ml.example.com/tracker{LINKS}/0/1/r/artifacts/a%20b%25step%251.bin?expires=")
    parts = urlsplit(url)
    assert client.get(f"{parts.path.removeprefix('/tracker')}?{parts.query}").data == DATA


@pytest.mark.parametrize("chosen", [None, False])
def test_turned_off(local_settings, chosen):
    from dataclasses import replace

    from mltracker.service.app import create_app

    client = create_app(replace(local_settings, multipart_downloads=chosen)).test_client()
    assert client.get("/api/3.0/mlflow/server-info").json["multipart_downloads_enabled"] is False
    assert client.put(f"{ART}/artifacts/1/r/artifacts/m.bin", data=DATA).status_code == 200
    assert _error(client.get(f"{ART}/presigned/1/r/artifacts/m.bin"), 501, "NOT_IMPLEMENTED") == \
        "Multipart download is not supported for the current artifact repository"


def test_s3_presigns_with_the_stores_own_url(s3_env, tmp_path):
    from mltracker.service.app import create_app

    client = create_app(Settings(backend_store_uri=f"sqlite:///{tmp_path}/db.sqlite", data_dir=str(tmp_path),
                                 artifacts_destination=f"s3://{s3_env.bucket}/presign-{os.urandom(4).hex()}")).test_client()
    assert client.put(f"{ART}/artifacts/1/r/artifacts/m.bin", data=DATA).status_code == 200
    answer = client.get(f"{ART}/presigned/1/r/artifacts/m.bin").json
    assert answer["file_size"] == len(DATA) and answer["headers"] == {}
    assert answer["url"].startswith(s3_env.endpoint) and "X-Amz-Signature=" in answer["url"]
    part = requests.get(answer["url"], headers={"Range": "bytes=10-19"}, timeout=30)
    assert part.status_code == 206 and part.content == DATA[10:20]
    assert "filename=m.bin" in part.headers["Content-Disposition"]
    _error(client.get(f"{ART}/presigned/1/r/artifacts/missing.bin"), 404, "RESOURCE_DOES_NOT_EXIST")


# ---------------------------------------------------------------- the stock client over real HTTP

@pytest.fixture
def chunk_spy(monkeypatch):
    """Every chunk request the stock client makes: (url, first byte, last byte)."""
    import mlflow.store.artifact.http_artifact_repo as http_repo

    calls = []
    real = http_repo.download_chunk

    def spy(**kwargs):
        calls.append((kwargs["http_uri"], kwargs["range_start"], kwargs["range_end"]))
        return real(**kwargs)

    monkeypatch.setattr(http_repo, "download_chunk", spy)
    return calls


def _download(tracking_uri: str, artifact_uri: str, dst) -> str:
    import mlflow.artifacts

    return mlflow.artifacts.download_artifacts(artifact_uri=artifact_uri, dst_path=str(dst), tracking_uri=tracking_uri)


def _logged_file(client, tmp_path, size: int):
    run = client.create_run(client.create_experiment(f"presigned-{os.urandom(4).hex()}"))
    src = tmp_path / "model.bin"
    src.write_bytes(os.urandom(size))
    client.log_artifact(run.info.run_id, str(src), artifact_path="weights")
    return run, src


CHUNK = 1024 * 1024
SIZE = 5 * CHUNK + 17  # six chunks, the last one 17 bytes


@pytest.fixture(scope="module", params=["local", "s3"])
def parallel_server(request, tmp_path_factory):
    """mltracker serve with parallel downloads: chosen for a local folder, by default on S3."""
    from tests.conftest import S3_ENV, run_mltracker

    tmp = tmp_path_factory.mktemp(f"parallel-{request.param}")
    if request.param == "local":
        env, destination = {"MLTRACKER_MULTIPART_DOWNLOADS": "true"}, str(tmp / "artifacts")
    else:
        s3 = request.getfixturevalue("s3_server")
        env, destination = {**S3_ENV, "MLFLOW_S3_ENDPOINT_URL": s3.endpoint}, f"s3://{s3.bucket}/parallel"
    with run_mltracker(tmp, f"sqlite:///{tmp}/mltracker.db", destination, extra_env=env) as server:
        yield server


def test_stock_client_downloads_in_parallel_ranges(parallel_server, chunk_spy, tmp_path, monkeypatch):
    from mlflow import MlflowClient

    server = parallel_server
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    monkeypatch.setenv("MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(CHUNK))
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    client = MlflowClient(server.url)
    run, src = _logged_file(client, tmp_path, SIZE)
    local = _download(server.url, f"{run.info.artifact_uri}/weights/model.bin", tmp_path / "dst")
    assert filecmp.cmp(src, local, shallow=False)

    assert sorted((start, end) for _, start, end in chunk_spy) == [
        (i * CHUNK, min((i + 1) * CHUNK, SIZE) - 1) for i in range(6)
    ]
    urls = {url for url, _, _ in chunk_spy}
    assert len(urls) == 1
    url = urls.pop()
    if server.artifacts_destination.startswith("s3://"):
        assert url.startswith(server.env["MLFLOW_S3_ENDPOINT_URL"]) and "X-Amz-Signature=" in url
    else:
        assert url.startswith(f"{server.url}{LINKS}/0/")
        signature = parse_qs(urlsplit(url).query)["signature"][0]
        assert signature not in server.log()
        # The link is for that file alone.
        other = url.replace("/weights/model.bin?", "/weights/other.bin?")
        assert requests.get(other, timeout=30).status_code == 403


def test_clients_without_parallel_downloads_still_download(parallel_server, chunk_spy, tmp_path, monkeypatch):
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", parallel_server.url)
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", "false")
    monkeypatch.setenv("MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(CHUNK))
    client = MlflowClient(parallel_server.url)
    run, src = _logged_file(client, tmp_path, SIZE)
    local = _download(parallel_server.url, f"{run.info.artifact_uri}/weights/model.bin", tmp_path / "dst")
    assert filecmp.cmp(src, local, shallow=False)
    assert chunk_spy == []


def test_client_asking_for_parallel_downloads_falls_back(local_settings, chunk_spy, tmp_path, monkeypatch):
    """Where they are off (a local folder by default), `presigned` answers 501 and the client that
    forces parallel downloads on streams the file instead."""
    from dataclasses import replace

    from mlflow import MlflowClient

    from mltracker.service.app import create_app
    from tests.artifacts.conftest import serve_in_thread

    with serve_in_thread(create_app(replace(local_settings, multipart_downloads=None))) as url:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", "true")
        client = MlflowClient(url)
        run, src = _logged_file(client, tmp_path, SIZE)
        local = _download(url, f"{run.info.artifact_uri}/weights/model.bin", tmp_path / "dst")
    assert filecmp.cmp(src, local, shallow=False)
    assert chunk_spy == []


# ---------------------------------------------------------------- GitLab mode

@pytest.fixture(scope="module")
def gitlab_parallel_server(fake_gitlab, tmp_path_factory):
    from tests.conftest import run_mltracker
    from tests.fakes.gitlab_support import gitlab_env

    tmp = tmp_path_factory.mktemp("gitlab-parallel")
    env = {**gitlab_env(fake_gitlab), "MLTRACKER_MULTIPART_DOWNLOADS": "true"}
    with run_mltracker(tmp, f"sqlite:///{tmp}/mltracker.db", str(tmp / "artifacts"), extra_env=env) as server:
        yield server


def test_gitlab_mode_presigned_needs_read_access(gitlab_parallel_server, scenario, chunk_spy, tmp_path, monkeypatch):
    from tests.fakes.gitlab_support import DEVELOPER, GUEST, REPORTER, bearer

    from mlflow import MlflowClient

    gitlab_server = gitlab_parallel_server

    def client_as(token: str, project_id: int, server_url: str) -> MlflowClient:
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
        return MlflowClient(tracking_uri=f"{server_url}/projects/{project_id}")


    owner, reader, guest, stranger = (scenario.user(name) for name in ("owner", "reader", "guest", "stranger"))
    project = scenario.project(members={owner: DEVELOPER, reader: REPORTER, guest: GUEST})
    monkeypatch.setenv("MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(CHUNK))
    run, src = _logged_file(client_as(owner.token, project, gitlab_server.url), tmp_path, 2 * CHUNK + 1)
    artifact_uri = f"{run.info.artifact_uri}/weights/model.bin"
    tracking_uri = f"{gitlab_server.url}/projects/{project}"

    client_as(reader.token, project, gitlab_server.url)
    local = _download(tracking_uri, artifact_uri, tmp_path / "dst")
    assert filecmp.cmp(src, local, shallow=False)
    assert len(chunk_spy) == 3 and all(url.startswith(f"{gitlab_server.url}{LINKS}/{project}/") for url, _, _ in chunk_spy)

    presigned = f"{tracking_uri}{ART}/presigned/{run.info.experiment_id}/{run.info.run_id}/artifacts/weights/model.bin"
    for headers, status, code in [({}, 401, "UNAUTHENTICATED"), (bearer(guest.token), 403, "PERMISSION_DENIED"),
                                  (bearer(stranger.token), 404, "RESOURCE_DOES_NOT_EXIST")]:
        response = requests.get(presigned, headers=headers, timeout=30)
        assert response.status_code == status, response.text
        assert response.json()["error_code"] == code
    # A link of this project does not open another project's file of the same path.
    other_project = scenario.project(members={owner: DEVELOPER})
    link = chunk_spy[0][0].replace(f"{LINKS}/{project}/", f"{LINKS}/{other_project}/")
    assert requests.get(link, timeout=30).status_code == 403
