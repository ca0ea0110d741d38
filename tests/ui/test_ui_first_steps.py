"""What a new user sees after logging a first experiment with the stock client: short names on one
line, long metric names that neither wrap the table nor push the page sideways (truncated, with the
full name in a tooltip), the experiment's name in the compare breadcrumb, charts whose gridlines
enclose every point, and dataset sources in words rather than JSON."""
from __future__ import annotations

import mlflow
import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.ui.clients import stock_client
from tests.ui.conftest import screenshot

LONG_METRICS = [f"validation_{name}_score_macro_averaged_over_folds" for name in ("accuracy", "precision", "recall")]
EXPERIMENT = "first-steps"


@pytest.fixture(scope="module")
def first_steps(local_server):
    runs = {}
    with stock_client(local_server.url):
        experiment_id = mlflow.set_experiment(EXPERIMENT).experiment_id
        for name, c in (("logreg-C1", 1.0), ("logreg-C2", 2.0), ("logreg-C10", 10.0)):
            with mlflow.start_run(run_name=name) as run:
                mlflow.log_param("C", c)
                for step in range(6):  # rises to its largest value at the last step
                    mlflow.log_metric("accuracy", 0.81 + 0.024 * step + c / 1000, step=step)
                mlflow.log_metrics({key: 0.9 for key in LONG_METRICS})
                frame = pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})
                mlflow.log_input(mlflow.data.from_pandas(frame, name="iris-train"), context="training")
            runs[name] = run.info.run_id
    return experiment_id, runs


def test_experiment_table_keeps_short_names_on_one_line_and_truncates_long_keys(page, local_server, first_steps):
    experiment_id, _ = first_steps
    page.goto(f"{local_server.url}/experiments/{experiment_id}")
    names = page.locator("table.candidates td.name a")
    expect(names).to_have_count(3)
    for i in range(3):
        assert names.nth(i).evaluate("a => a.getClientRects().length") == 1, names.nth(i).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    long_key = LONG_METRICS[0]
    header = page.locator("table.candidates thead th a.sort", has_text="validation_accuracy").first
    assert long_key in header.get_attribute("title")
    assert header.locator(".key-label").evaluate("e => e.scrollWidth > e.clientWidth")  # truncated, not wrapped
    assert header.evaluate("a => a.getClientRects().length") == 1
    screenshot(page, "30-first-steps-experiment")


def test_compare_breadcrumb_names_the_experiment(page, local_server, first_steps):
    experiment_id, runs = first_steps
    page.goto(f"{local_server.url}/compare?run={runs['logreg-C1']}&run={runs['logreg-C2']}")
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.get_by_role("link", name=EXPERIMENT)).to_have_attribute(
        "href", f"/experiments/{experiment_id}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "31-first-steps-compare")


CHART_BOUNDS = """svg => {
  const grid = [...svg.querySelectorAll('line.grid')].map(l => parseFloat(l.getAttribute('y1')));
  const points = [...svg.querySelectorAll('polyline')].flatMap(p =>
      p.getAttribute('points').trim().split(/\\s+/).map(xy => parseFloat(xy.split(',')[1])));
  return {top: Math.min(...grid), bottom: Math.max(...grid), highest: Math.min(...points), lowest: Math.max(...points)};
}"""


def test_charts_enclose_their_points(page, local_server, first_steps):
    _, runs = first_steps
    for url in (f"/candidates/{runs['logreg-C10']}", f"/compare?run={runs['logreg-C1']}&run={runs['logreg-C10']}"):
        page.goto(local_server.url + url)
        chart = page.locator("svg.chart").first
        bounds = chart.evaluate(CHART_BOUNDS)
        assert bounds["top"] <= bounds["highest"] and bounds["lowest"] <= bounds["bottom"], (url, bounds)


def test_candidate_page_shows_dataset_sources_readably(page, local_server, first_steps):
    _, runs = first_steps
    page.goto(f"{local_server.url}/candidates/{runs['logreg-C2']}")
    source = page.locator("#datasets tbody tr td").nth(2)
    expect(source).to_contain_text("code:")
    assert "{" not in source.inner_text()
    screenshot(page, "32-first-steps-candidate")
