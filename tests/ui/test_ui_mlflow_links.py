"""The links the stock MLflow client prints ("View run", "View experiment") open our pages: the
fragment they carry never reaches the server, so the home page routes it in the browser."""
from __future__ import annotations

import contextlib
import io
import re

import mlflow
from playwright.sync_api import expect

from tests.ui.conftest import screenshot
from tests.ui.clients import stock_client


def printed_links(url: str, run_name: str) -> tuple[str, str, str, str]:
    """Log a run with the stock client; the run and experiment links it prints, and their ids."""
    out = io.StringIO()
    with stock_client(url), contextlib.redirect_stdout(out):
        mlflow.set_experiment("churn-model")
        with mlflow.start_run(run_name=run_name) as run:
            mlflow.log_metric("acc", 0.9)
    printed = out.getvalue()
    run_link = re.search(rf"View run {run_name} at: (\S+)", printed).group(1)
    experiment_link = re.search(r"View experiment at: (\S+)", printed).group(1)
    return run_link, experiment_link, run.info.run_id, run.info.experiment_id


def test_view_run_and_view_experiment_links_open_the_right_pages(page, local_server):
    run_link, experiment_link, run_id, experiment_id = printed_links(local_server.url, "linked-run")
    assert run_link == f"{local_server.url}/#/experiments/{experiment_id}/runs/{run_id}"
    page.goto(run_link)
    expect(page).to_have_url(f"{local_server.url}/candidates/{run_id}")
    expect(page.get_by_role("heading", name=re.compile("linked-run"))).to_be_visible()
    screenshot(page, "23-view-run-link", full_page=False)
    page.goto(experiment_link)
    expect(page).to_have_url(f"{local_server.url}/experiments/{experiment_id}")
    expect(page.get_by_role("heading", name="churn-model")).to_be_visible()
    # The back button returns to where the user was, not to a page that redirects again.
    page.go_back()
    expect(page).to_have_url(f"{local_server.url}/candidates/{run_id}")


def test_other_fragments_leave_the_home_page_alone(page, local_server):
    page.goto(local_server.url + "/#/no-such-route")
    expect(page.get_by_role("heading", name="Experiments")).to_be_visible()
    assert page.url == local_server.url + "/#/no-such-route"
