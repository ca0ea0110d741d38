"""MLflow's own web UI served by mltracker (local mode): runs logged through the stock client show
in its experiment page, a run page draws the metric chart, the compare view renders, and the two
UIs link to each other. Screenshots: test-output/screenshots/mlflow-ui-*.png."""
from __future__ import annotations

import json
import re

import mlflow
import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import run_mltracker
from tests.ui.clients import stock_client
from tests.ui.conftest import screenshot

# MLflow's UI opens its assistant panel on a first visit; mark it as already shown.
NO_ASSISTANT = "window.localStorage.setItem('mlflow.assistant.fab.autoOpenedOnFirstLoad_v1', 'true')"


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """A local-mode server with three runs logged through the stock client."""
    tmp = tmp_path_factory.mktemp("mlflow-ui")
    with run_mltracker(tmp, f"sqlite:///{tmp}/mltracker.db", str(tmp / "artifacts")) as server:
        run_ids = []
        with stock_client(server.url):
            experiment_id = mlflow.set_experiment("churn-model").experiment_id
            for i in range(3):
                with mlflow.start_run(run_name=f"forest-{i}") as run:
                    mlflow.log_params({"depth": 3 + i, "lr": 0.1 * (i + 1)})
                    for step in range(25):
                        mlflow.log_metric("val_loss", 1.0 / (step + 1 + i), step=step)
                    mlflow.log_text("hello", "notes/readme.txt")
                    run_ids.append(run.info.run_id)
        server.experiment_id, server.run_ids = experiment_id, run_ids
        yield server


@pytest.fixture
def ui_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(NO_ASSISTANT)
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()
    assert not failed, f"server errors while the UI ran: {failed}"
    assert not dialogs, f"a script ran in the page: {dialogs}"


def test_experiment_page_lists_the_runs(ui_page, logged):
    page = ui_page
    page.goto(f"{logged.url}/mlflow/#/experiments/{logged.experiment_id}/runs")
    for i in range(3):
        expect(page.get_by_role("link", name=f"forest-{i}", exact=True)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("3 matching runs")).to_be_visible()
    screenshot(page, "mlflow-ui-experiment", full_page=False)


def test_run_page_draws_the_metric_chart(ui_page, logged):
    page = ui_page
    run_id = logged.run_ids[0]
    page.goto(f"{logged.url}/mlflow/#/experiments/{logged.experiment_id}/runs/{run_id}")
    expect(page.get_by_role("heading", name="forest-0")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Model metrics").click()
    card = page.get_by_test_id("experiment-view-compare-runs-card").filter(
        has=page.get_by_role("heading", name="val_loss", exact=True))
    expect(card.locator(".js-plotly-plot")).to_be_visible(timeout=30_000)
    # The line has one point per logged step (25), drawn from the metric history mltracker served.
    expect(card.locator(".js-plotly-plot path.point")).to_have_count(25, timeout=30_000)
    screenshot(page, "mlflow-ui-run-metrics", full_page=False)


def test_compare_view_renders(ui_page, logged):
    page = ui_page
    runs = json.dumps(logged.run_ids)
    page.goto(f"{logged.url}/mlflow/#/compare-runs?runs={runs}&experiments=[\"{logged.experiment_id}\"]")
    expect(page.get_by_role("heading", name=re.compile("Comparing 3 Runs"))).to_be_visible(timeout=30_000)
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)  # parallel coordinates
    for i in range(3):
        expect(page.get_by_text(f"forest-{i}", exact=True).first).to_be_visible()
    screenshot(page, "mlflow-ui-compare", full_page=True)


def test_run_artifacts_download_through_the_ui(ui_page, logged):
    page = ui_page
    run_id = logged.run_ids[1]
    page.goto(f"{logged.url}/mlflow/#/experiments/{logged.experiment_id}/runs/{run_id}/artifacts")
    page.get_by_text("notes", exact=True).click()
    page.get_by_text("readme.txt", exact=True).click()
    expect(page.get_by_text("hello", exact=True)).to_be_visible(timeout=30_000)
    screenshot(page, "mlflow-ui-artifact", full_page=False)


def test_the_two_uis_link_to_each_other(ui_page, logged):
    page = ui_page
    run_id = logged.run_ids[2]
    page.goto(f"{logged.url}/experiments/{logged.experiment_id}")
    page.get_by_role("link", name="MLflow UI").click()
    expect(page).to_have_url(re.compile(rf"/mlflow/#/experiments/{logged.experiment_id}"))
    page.goto(f"{logged.url}/mlflow/#/experiments/{logged.experiment_id}/runs/{run_id}")
    expect(page.get_by_role("heading", name="forest-2")).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Open in mltracker").click()
    expect(page).to_have_url(f"{logged.url}/candidates/{run_id}")
    expect(page.get_by_role("heading", name=re.compile("forest-2"))).to_be_visible()


def test_static_files_and_unknown_paths(logged):
    index = requests.get(f"{logged.url}/mlflow/", timeout=30)
    assert index.status_code == 200 and "Open in mltracker" in index.text
    script = re.search(r'src="(static-files/static/js/main\.[0-9a-f]+\.js)"', index.text).group(1)
    asset = requests.get(f"{logged.url}/mlflow/{script}", timeout=30)
    assert asset.status_code == 200 and "max-age" in asset.headers["Cache-Control"]
    assert requests.get(f"{logged.url}/mlflow/static-files/../../../etc/passwd", timeout=30).status_code == 404
    assert requests.get(f"{logged.url}/mlflow/no-such-page", timeout=30).status_code == 404
    # The API answers under the UI's path exactly as at the server's root.
    body = {"experiment_ids": [logged.experiment_id]}
    via_ui = requests.post(f"{logged.url}/mlflow/ajax-api/2.0/mlflow/runs/search", json=body, timeout=30)
    assert via_ui.status_code == 200 and len(via_ui.json()["runs"]) == 3


def test_without_mlflow_installed_the_page_says_how_to_install_it(tmp_path):
    """An environment whose mlflow has no UI build (as mlflow-skinny): a 404 page naming the extra,
    and no link to it from mltracker's pages."""
    skinny = tmp_path / "skinny"
    (skinny / "mlflow").mkdir(parents=True)
    (skinny / "mlflow" / "__init__.py").write_text("")
    env = {"PYTHONPATH": str(skinny)}
    with run_mltracker(tmp_path, f"sqlite:///{tmp_path}/mltracker.db", str(tmp_path / "artifacts"),
                       extra_env=env, workers=1) as server:
        for path in ("/mlflow/", "/projects/0/mlflow/", "/mlflow/static-files/static/js/main.js"):
            page = requests.get(server.url + path, headers={"Accept": "text/html"}, timeout=30)
            assert page.status_code == 404
            if not path.endswith(".js"):
                assert "pip install &#39;mltracker[mlflow-ui]&#39;" in page.text
        home = requests.get(server.url + "/", timeout=30)
        assert home.status_code == 200 and "MLflow UI" not in home.text
