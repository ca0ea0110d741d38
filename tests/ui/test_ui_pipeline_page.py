"""mltracker's page of one pipeline (the link of the bot's commit status), in headless Chromium."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.conftest import run_mltracker  # noqa: E402
from tests.ui.conftest import screenshot  # noqa: E402  (browser and page are this folder's fixtures)

PIPELINE, MAIN_PIPELINE = 4242, 4200


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Local mode; candidates logged with the stock client, then linked to CI pipelines as a
    CI job token would link them."""
    from mlflow import MlflowClient

    from mltracker.service.db.engine import Database
    from mltracker.service.linking.links import JobLink, record_link

    tmp = tmp_path_factory.mktemp("pipeline-page")
    uri = f"sqlite:///{tmp}/mltracker.db"
    with run_mltracker(tmp, uri, str(tmp / "artifacts"), workers=1) as live:
        client = MlflowClient(tracking_uri=live.url)
        experiment_id = client.create_experiment("churn")
        linked = []
        for pipeline, ref, name, value in [(MAIN_PIPELINE, "main", "base", 0.90)] + [
            (PIPELINE, "feature", f"candidate-with-a-long-name-{i:02d}", 0.85 + i / 100) for i in range(8)
        ] + [(PIPELINE, "feature", "<img src=x onerror=alert(1)>", 0.5)]:
            run = client.create_run(experiment_id, run_name=name)
            client.log_metric(run.info.run_id, "val_acc", value)
            client.set_terminated(run.info.run_id)
            linked.append((run.info.run_id, JobLink(job_id=pipeline + 1, pipeline_id=pipeline, commit_sha="b" * 40,
                                                    ref=ref, merge_request_iid=7 if ref != "main" else None,
                                                    user="dev")))
        db = Database(uri)
        with db.write() as conn:
            for run_id, link in linked:
                record_link(conn, 0, run_id, link)
        db.dispose()
        yield live


def test_pipeline_page_lists_its_candidates_and_compares_them_with_the_branch(page, server):  # noqa: F811
    page.goto(f"{server.url}/projects/0/pipelines/{PIPELINE}?against=main")
    expect(page.get_by_role("heading", name=f"Pipeline {PIPELINE}")).to_be_visible()
    table = page.locator("#candidates table")
    for i in range(8):
        expect(table).to_contain_text(f"candidate-with-a-long-name-{i:02d}")
    expect(table).to_contain_text("<img src=x onerror=alert(1)>")  # shown as text, never run
    expect(table).not_to_contain_text("base")
    comparison = page.locator("#comparison")
    expect(comparison).to_contain_text("main")  # the baseline: main's pipeline
    expect(comparison).to_contain_text("val_acc")
    screenshot(page, "pipeline-page")
    page.get_by_role("link", name="Compare these candidates side by side").click()
    expect(page.get_by_role("heading", name="Compare 9 candidates")).to_be_visible()


def test_unknown_pipeline_says_so(page, server):  # noqa: F811
    response = page.goto(f"{server.url}/projects/0/pipelines/999999")
    assert response.status == 404
    expect(page.locator("body")).to_contain_text("logged no candidates")
