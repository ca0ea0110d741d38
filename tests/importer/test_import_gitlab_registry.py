"""`mltracker import mlflow <gitlab>/api/v4/projects/<id>/ml/mlflow`: every version of a model kept in
GitLab's built-in registry comes over, not only the latest. GitLab has no model-versions/search, but
lists every version of a model as its `latest_versions` (tests/fakes/gitlab_model_registry.py cites
the source). The registry is written through GitLab with its documented snippets
(populate_gitlab_registry.py), on a `mlflow server` of its own behind the fake GitLab."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from tests.conftest import run_mltracker
from tests.e2e.helpers import run_script, start_mlflow_server
from tests.fakes.gitlab_mlflow import FakeGitLabWithMlflow
from tests.importer.compare import predictions
from tests.importer.targets import make_target

pytestmark = pytest.mark.e2e

POPULATE = Path(__file__).resolve().parent / "populate_gitlab_registry.py"
PROJECT, SOURCE_PROJECT = 78, 13
USER, BOT = 9201, 9200
USER_TOKEN, BOT_TOKEN = "glpat-registry-user", "glpat-registry-bot"


@pytest.fixture(scope="module")
def gitlab_registry(tmp_path_factory):
    """(fake GitLab, what populate_gitlab_registry.py wrote through it)."""
    with start_mlflow_server(tmp_path_factory.mktemp("gitlab-backing")) as server, \
            FakeGitLabWithMlflow(server.url) as fake:
        fake.add_user(id=BOT, username="mltracker-bot", admin=True)
        fake.add_token(token=BOT_TOKEN, user_id=BOT)
        fake.add_user(id=USER, username="ana")
        fake.add_token(token=USER_TOKEN, user_id=USER)
        fake.add_project(id=SOURCE_PROJECT, members={USER: 30})
        fake.add_project(id=PROJECT, members={USER: 30})
        written = run_script(sys.executable, POPULATE, fake.tracking_uri(SOURCE_PROJECT),
                             tmp_path_factory.mktemp("populate-gitlab"), MLFLOW_TRACKING_TOKEN=USER_TOKEN)
        yield fake, written


def _gitlab_mode(fake) -> dict:
    return {"MLTRACKER_GITLAB_URL": fake.url, "MLTRACKER_GITLAB_TOKEN": BOT_TOKEN,
            "MLTRACKER_WEBHOOK_SECRET": "registry-test-secret", "MLTRACKER_GITLAB_TIMEOUT": "5"}


def test_gitlab_shows_every_version_as_latest_and_has_no_version_search(gitlab_registry):
    fake, written = gitlab_registry
    os.environ["MLFLOW_TRACKING_TOKEN"] = USER_TOKEN
    try:
        client = MlflowClient(fake.tracking_uri(SOURCE_PROJECT))
        listed = client.get_registered_model(written["model"]).latest_versions
        with pytest.raises(Exception, match="404"):
            client.search_model_versions(f"name='{written['model']}'")
    finally:
        del os.environ["MLFLOW_TRACKING_TOKEN"]
    assert sorted(v.version for v in listed) == sorted(written["versions"])
    assert not {"1", "2", "3"} & set(written["versions"]), "GitLab's version ids are its database ids"
    assert sorted(v["semver"] for v in written["versions"].values()) == ["1.0.0", "1.2.0", "1.2.1"]


def test_every_version_is_imported_and_loads(gitlab_registry, tmp_path_factory):
    fake, written = gitlab_registry
    name = written["model"]
    tmp = tmp_path_factory.mktemp("registry-from-gitlab")
    with make_target("sqlite-local", tmp) as target:
        target.env.update(_gitlab_mode(fake))
        first = target.run_import(fake.tracking_uri(SOURCE_PROJECT), "--project", str(PROJECT),
                                  env={"MLFLOW_TRACKING_TOKEN": USER_TOKEN})
        assert "versions: 3 copied" in first.stdout and "conflicts: 0" in first.stdout, first.stdout

        again = target.run_import(fake.tracking_uri(SOURCE_PROJECT), "--project", str(PROJECT),
                                  env={"MLFLOW_TRACKING_TOKEN": USER_TOKEN})
        assert "registered models: 0 copied, 1 unchanged; versions: 0 copied" in again.stdout, again.stdout

        frame = pd.DataFrame({"x": [1.0, -2.5]})
        with run_mltracker(tmp, target.backend_store_uri, target.artifacts_destination, extra_env=target.env) as live:
            uri = f"{live.url}/projects/{PROJECT}"
            os.environ["MLFLOW_TRACKING_TOKEN"] = USER_TOKEN
            try:
                client = MlflowClient(uri)
                got = {v.version: v for v in client.search_model_versions(f"name='{name}'")}
                assert sorted(got) == sorted(written["versions"]), "GitLab's version numbers are kept"
                for number, expected in written["versions"].items():
                    version = got[number]
                    assert version.description == f"times {expected['factor']:g}"
                    assert version.tags["gitlab.version"] == expected["semver"]
                    assert version.current_stage == "None"
                    assert version.run_id == expected["run_id"]
                    assert version.creation_timestamp > 10 ** 12, "milliseconds, as MLflow gives them"
                    assert client.get_model_version(name, expected["semver"]).version == number
                    result = predictions(uri, f"models:/{name}/{number}", frame)
                    assert result.equals(frame * expected["factor"]), f"models:/{name}/{number}"
                assert got[max(got, key=int)].tags.get("quality") is None
                assert next(v for v in got.values() if v.tags["gitlab.version"] == "1.2.0").tags["quality"] == "good"
            finally:
                del os.environ["MLFLOW_TRACKING_TOKEN"]


def test_a_version_whose_run_is_left_out_is_reported(gitlab_registry, tmp_path_factory):
    fake, written = gitlab_registry
    tmp = tmp_path_factory.mktemp("registry-without-runs")
    with make_target("sqlite-local", tmp) as target:
        target.env.update(_gitlab_mode(fake))
        proc = target.run_import(fake.tracking_uri(SOURCE_PROJECT), "--project", str(PROJECT), "--experiment", "Default",
                                 env={"MLFLOW_TRACKING_TOKEN": USER_TOKEN})
        for number in written["versions"]:
            assert (f"model '{written['model']}' version {number}: its GitLab candidate run "
                    f"{written['versions'][number]['run_id']} was not imported") in proc.stdout, proc.stdout
