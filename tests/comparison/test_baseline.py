"""Baseline selection and the comparison report built from the database, on SQLite and PostgreSQL."""
import itertools

from mltracker.service.linking.links import JobLink, record_link
from mltracker.service.comparison.baseline import select_baseline
from mltracker.service.comparison.rules import ComparisonRules
from mltracker.service.registry import aliases
from mltracker.service.registry import registered_models as rms
from mltracker.service.registry import versions
from mltracker.service.report_data.links import Links
from mltracker.service.report_data.pipeline_report import comparison_report
from mltracker.service.tracking import experiments as exps
from mltracker.service.tracking import runs as run_store

_ids = itertools.count(1)


def _project():
    return 7000 + next(_ids)


def _candidate(conn, project, experiment, name, acc, pipeline=None, ref="main", mr=None):
    run_id = run_store.create_run(conn, project, experiment, "ci", None, [], name)
    run_store.log_batch(conn, project, run_id, [run_store.MetricPoint("val_acc", acc, 1, 0)], [], [])
    if pipeline is not None:
        record_link(conn, project, run_id, JobLink(next(_ids), pipeline, "f" * 40, ref, mr, "dev"))
    return run_id


def test_baseline_is_the_best_candidate_of_the_newest_pipeline_on_the_target_branch(database):
    project = _project()
    with database.write() as conn:
        experiment = exps.create_experiment(conn, project, "churn")
        _candidate(conn, project, experiment, "old-best", 0.99, pipeline=10)
        _candidate(conn, project, experiment, "main-a", 0.80, pipeline=11)
        best = _candidate(conn, project, experiment, "main-b", 0.85, pipeline=11)
        _candidate(conn, project, experiment, "feature", 0.95, pipeline=12, ref="feature", mr=3)
        chosen = select_baseline(conn, project, experiment, "main", ComparisonRules())
    assert (chosen.run_id, chosen.label, chosen.pipeline_id) == (best, "main", 11)


def test_lower_is_better_metric_picks_the_smallest(database):
    project = _project()
    with database.write() as conn:
        experiment = exps.create_experiment(conn, project, "reg")
        exps.set_experiment_tag(conn, project, experiment, "mltracker.primary_metric", "val_acc")
        exps.set_experiment_tag(conn, project, experiment, "mltracker.direction.val_acc", "min")
        low = _candidate(conn, project, experiment, "low", 0.1, pipeline=20)
        _candidate(conn, project, experiment, "high", 0.9, pipeline=20)
        tags = {"mltracker.primary_metric": "val_acc", "mltracker.direction.val_acc": "min"}
        assert select_baseline(conn, project, experiment, "main", ComparisonRules(tags)).run_id == low


def test_champion_alias_is_the_fallback_then_none(database):
    project = _project()
    with database.write() as conn:
        experiment = exps.create_experiment(conn, project, "fallback")
        assert select_baseline(conn, project, experiment, "main", ComparisonRules()) is None
        run_id = _candidate(conn, project, experiment, "prod", 0.9)
        rms.create(conn, project, "fallback-model")
        source = run_store.get_run_row(conn, project, run_id).artifact_uri + "/model"
        version = versions.create(conn, project, "fallback-model", source, run_id=run_id, tags=[], user_id="tester")
        aliases.set_alias(conn, project, "fallback-model", "champion", version.version)
        chosen = select_baseline(conn, project, experiment, "main", ComparisonRules())
    assert (chosen.run_id, chosen.label, chosen.pipeline_id) == (run_id, "fallback-model@champion", None)


def test_the_current_pipeline_is_never_its_own_baseline(database):
    project = _project()
    with database.write() as conn:
        experiment = exps.create_experiment(conn, project, "self")
        _candidate(conn, project, experiment, "on-main", 0.9, pipeline=30)
        assert select_baseline(conn, project, experiment, "main", ComparisonRules(), exclude_pipeline_id=30) is None


def test_comparison_report_has_baseline_first_and_verdict(database):
    project = _project()
    with database.write() as conn:
        experiment = exps.create_experiment(conn, project, "report")
        _candidate(conn, project, experiment, "base", 0.90, pipeline=40)
        better = _candidate(conn, project, experiment, "lr-0.01", 0.93, pipeline=41, ref="feature", mr=5)
        worse = _candidate(conn, project, experiment, "lr-0.1", 0.88, pipeline=41, ref="feature", mr=5)
        report = comparison_report(conn, project, [better, worse], target_branch="main",
                                   links=Links("http://ml.test", project, "http://gitlab.test/g/p"),
                                   exclude_pipeline_id=41)
    [section] = report.experiments
    assert section.rows[0].is_baseline and section.rows[0].candidate.name == "base"
    assert section.verdict.kind == "improves" and section.verdict.candidate == "lr-0.01"
    assert section.rows[1].candidate.ui_url == f"http://ml.test/projects/{project}/candidates/{better}"
    assert section.baseline.pipeline_url == "http://gitlab.test/g/p/-/pipelines/40"


def _evaluation(conn, project, experiment, name, pass_rate, pipeline, ref="main", mr=None):
    """A run as `mlflow.genai.evaluate` leaves it: its run type tag and `<scorer>/mean` metrics."""
    run_id = run_store.create_run(conn, project, experiment, "ci", None,
                                  [{"key": "mlflow.runType", "value": "genai_evaluate"}], name)
    run_store.log_batch(conn, project, run_id, [run_store.MetricPoint("latency_ok/mean", pass_rate, 1, 0)], [], [])
    record_link(conn, project, run_id, JobLink(next(_ids), pipeline, "f" * 40, ref, mr, "dev"))
    return run_id


def test_genai_scorer_means_are_higher_is_better_and_link_to_failing_examples(database):
    project = _project()
    links = Links("http://ml.test", project, "http://gitlab.test/g/p")
    with database.write() as conn:
        experiment = exps.create_experiment(conn, project, "genai-report")
        base = _evaluation(conn, project, experiment, "prompt-v1", 0.5, pipeline=50)
        better = _evaluation(conn, project, experiment, "prompt-v2", 0.75, pipeline=51, ref="feature", mr=6)
        plain = _candidate(conn, project, experiment, "not-an-evaluation", 0.1, pipeline=51, ref="feature", mr=6)
        report = comparison_report(conn, project, [better, plain], target_branch="main", links=links,
                                   exclude_pipeline_id=51)
        tagged = comparison_report(conn, project, [better], target_branch="main", links=links,
                                   exclude_pipeline_id=51, directions={"latency_ok/mean": "min"})
    [section] = report.experiments
    # By its name alone ("latency") the metric would be lower-is-better; as a scorer's pass rate it is not.
    assert section.directions["latency_ok/mean"].value == "max"
    assert section.rows[0].candidate.run_id == base
    assert section.verdict.kind == "improves" and section.verdict.candidate == "prompt-v2"
    by_name = {row.candidate.name: row.candidate for row in section.rows}
    assert by_name["prompt-v2"].failing_examples_url == (
        f"http://ml.test/projects/{project}/candidates/{better}/traces?assessment=failing")
    assert by_name["not-an-evaluation"].failing_examples_url is None
    assert tagged.experiments[0].directions["latency_ok/mean"].value == "min"
