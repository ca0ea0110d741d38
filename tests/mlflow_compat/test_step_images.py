"""Images logged with a step come back under the names the client gave them.

MLflow 3.x clients up to 3.6 name them "images/<key>%step%<n>%timestamp%<t>%<uuid>.png" (later ones
use "+"), so a name holds "%17", "%2f", "%00"... that are not encodings.  The stock client's
`log_artifact` sends exactly the request those clients' `log_image` sends for such a file.
"""
from __future__ import annotations

import uuid

import numpy as np
import pytest
import requests

pytestmark = pytest.mark.e2e

# uuids whose first byte, read as an escape, is a control character, "/", NUL, "\" or not UTF-8.
# Upper-case there because urllib3 upper-cases the two characters after a "%" on the wire.
AWKWARD_UUIDS = ["17a0c3e2", "2F4e0c1a", "00ab11cd", "5Cde0f12", "C0ae9b33", "2E2e2f00"]


def _pre_3_7_name(key: str, step: int, timestamp: int, file_uuid: str) -> str:
    return f"{key}%step%{step}%timestamp%{timestamp}%{file_uuid}-{uuid.uuid4()}"


def test_mlflow_3_6_step_image_names_are_stored_and_read_back(client, mltracker, tmp_path):
    run = client.create_run(client.create_experiment(f"images-{uuid.uuid4().hex[:8]}"))
    run_id = run.info.run_id
    sent = {}
    for step, file_uuid in enumerate(AWKWARD_UUIDS):
        for suffix, content in ((".png", b"\x89PNG uncompressed"), ("%compressed.webp", b"RIFF webp")):
            name = _pre_3_7_name("acc", step * 1250, 1700000000000 + step, file_uuid) + suffix
            local = tmp_path / "upload" / str(step) / name
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(content + name.encode())
            client.log_artifact(run_id, str(local), "images")
            sent[name] = local.read_bytes()

    # Listed as MLflow's web UI lists them (the 3.x client's list_artifacts decodes names again).
    listing = requests.get(f"{mltracker.url}/ajax-api/2.0/mlflow/artifacts/list",
                           params={"run_id": run_id, "path": "images"}, timeout=30)
    listing.raise_for_status()
    listed = {entry["path"]: entry for entry in listing.json()["files"]}
    assert sorted(listed) == sorted(f"images/{name}" for name in sent)
    for name, content in sent.items():
        assert int(listed[f"images/{name}"]["file_size"]) == len(content)
        local = client.download_artifacts(run_id, f"images/{name}", str(tmp_path / "down"))
        with open(local, "rb") as f:
            assert f.read() == content


def test_log_image_with_steps_round_trips(client, tmp_path):
    import mlflow

    experiment_id = client.create_experiment(f"images-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        for step in range(3):
            mlflow.log_image(np.full((4, 4, 3), step * 40, dtype=np.uint8), key="val/sample", step=step)
    names = sorted(info.path for info in client.list_artifacts(run.info.run_id, "images"))
    assert len(names) == 6  # a .png and a compressed .webp per step
    assert all("step" in name for name in names)
    for step in range(3):
        assert sum(f"step{sep}{step}{sep}" in name for name in names for sep in "+%") == 2
    for name in names:
        local = client.download_artifacts(run.info.run_id, name, str(tmp_path))
        with open(local, "rb") as f:
            assert f.read(4) in (b"\x89PNG", b"RIFF")


def test_traversal_in_an_encoded_image_name_is_still_refused(client, tmp_path):
    run = client.create_run(client.create_experiment(f"images-{uuid.uuid4().hex[:8]}"))
    local = tmp_path / "%2e%2e%2f%2e%2e%2fescaped.png"
    local.write_bytes(b"x")
    with pytest.raises(requests.HTTPError, match="Invalid path"):
        client.log_artifact(run.info.run_id, str(local), "images")
    assert client.list_artifacts(run.info.run_id) == []
