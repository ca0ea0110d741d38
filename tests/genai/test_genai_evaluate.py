"""`mlflow.genai.evaluate` with a custom scorer on a small evaluation dataset, end to end through
the stock client against a live mltracker (SQLite + local folder, PostgreSQL + S3): the run, its
metrics, its traces with their assessments, and what the merge-request report makes of it."""
from __future__ import annotations

import uuid

import pytest

from tests.e2e.helpers import tracking_uri_env
from tests.genai.genai_seed import RECORDS, answer, exact_match

pytestmark = pytest.mark.e2e


def answer_length(outputs) -> float:
    return float(len(outputs))


def test_evaluate_with_a_custom_scorer_on_an_evaluation_dataset(mltracker):
    import mlflow
    from mlflow.genai import datasets
    from mlflow.genai.scorers import scorer

    with tracking_uri_env(mltracker.url):
        experiment = mlflow.set_experiment(f"genai-eval-{uuid.uuid4().hex[:8]}")
        dataset = datasets.create_dataset(name="qa", experiment_id=experiment.experiment_id)
        dataset.merge_records(RECORDS)

        result = mlflow.genai.evaluate(data=dataset, predict_fn=answer,
                                       scorers=[scorer(exact_match), scorer(answer_length)])

        assert result.metrics["exact_match/mean"] == pytest.approx(2 / 3)
        assert result.metrics["answer_length/mean"] == pytest.approx((1 + 5 + 7) / 3)
        run = mlflow.get_run(result.run_id)
        assert run.data.tags["mlflow.runType"] == "genai_evaluate"
        assert run.data.metrics["exact_match/mean"] == pytest.approx(2 / 3)
        [logged] = run.inputs.dataset_inputs
        assert logged.dataset.name == "qa" and dataset.dataset_id in logged.dataset.source

        traces = mlflow.search_traces(run_id=result.run_id, locations=[experiment.experiment_id],
                                      return_type="list")
        assert len(traces) == 3
        verdicts = {}
        for trace in traces:
            feedback = {a.name: a.value for a in trace.info.assessments if a.name == "exact_match"}
            expected = {a.name: a.value for a in trace.info.assessments if a.name == "expected_response"}
            verdicts[expected["expected_response"]] = feedback["exact_match"]
            assert trace.data.spans, "the predict_fn call is traced"
        assert verdicts == {"4": True, "Paris": True, "blue": False}
        mlflow.set_experiment(experiment_name="Default")
    _report_links_the_failing_example(mltracker, result.run_id)


def _report_links_the_failing_example(server, run_id: str) -> None:
    """The merge-request report of this evaluation: the scorer's pass rate is higher-is-better and
    the candidate's "failing examples" link opens a page listing the one failing example."""
    import requests

    from mltracker.reports import Direction
    from mltracker.service.db.engine import Database
    from mltracker.service.report_data.links import Links
    from mltracker.service.report_data.pipeline_report import comparison_report

    db = Database(server.backend_store_uri)
    try:
        with db.read() as conn:
            report = comparison_report(conn, 0, [run_id], target_branch=None, links=Links(server.url, 0))
    finally:
        db.dispose()
    [section] = report.experiments
    assert section.directions["exact_match/mean"] is Direction.MAX
    assert section.directions["answer_length/mean"] is Direction.MAX
    url = section.rows[0].candidate.failing_examples_url
    page = requests.get(url, headers={"Accept": "text/html"}, timeout=60)
    assert page.status_code == 200
    assert page.text.count('class="name mono"') == 1 and "Colour of the sky?" in page.text


def test_evaluate_with_a_list_of_dicts(mltracker):
    import mlflow
    from mlflow.genai.scorers import scorer

    with tracking_uri_env(mltracker.url):
        mlflow.set_experiment(f"genai-eval-list-{uuid.uuid4().hex[:8]}")
        result = mlflow.genai.evaluate(data=RECORDS[:2], predict_fn=answer, scorers=[scorer(exact_match)])
        assert result.metrics["exact_match/mean"] == 1.0
        mlflow.set_experiment(experiment_name="Default")
