"""Baseline selection and the comparison report built from the database, on SQLite and PostgreSQL."""
from mltracker.service.comparison.baseline import select_baseline
from mltracker.service.comparison.rules import ComparisonRules
from mltracker.service.registry import aliases
from mltracker.service.registry import registered_models as rms
from mltracker.service.registry import versions
from mltracker.service.report_data.links import Links
from mltracker.service.report_data.pipeline_report import comparison_report
from mltracker.service.tracking import runs as run_store
from tests import factories
from tests.factories import PROJECT


def _candidate(conn, experiment, name, acc, pipeline=None, ref="main", mr=None):
    return factories.run(conn, experiment, name, metrics={"val_acc": acc}, status=None,
                         pipeline=pipeline, ref=ref, merge_request=mr)


def test_baseline_is_the_best_candidate_of_the_newest_pipeline_on_the_target_branch(conn):
    experiment = factories.experiment(conn, "churn")
    _candidate(conn, experiment, "old-best", 0.99, pipeline=10)
    _candidate(conn, experiment, "main-a", 0.80, pipeline=11)
    best = _candidate(conn, experiment, "main-b", 0.85, pipeline=11)
    _candidate(conn, experiment, "feature", 0.95, pipeline=12, ref="feature", mr=3)
    chosen = select_baseline(conn, PROJECT, experiment, "main", ComparisonRules())
    assert (chosen.run_id, chosen.label, chosen.pipeline_id) == (best, "main", 11)


def test_lower_is_better_metric_picks_the_smallest(conn):
    tags = {"mltracker.primary_metric": "val_acc", "mltracker.direction.val_acc": "min"}
    experiment = factories.experiment(conn, "reg", tags=tags)
    low = _candidate(conn, experiment, "low", 0.1, pipeline=20)
    _candidate(conn, experiment, "high", 0.9, pipeline=20)
    assert select_baseline(conn, PROJECT, experiment, "main", ComparisonRules(tags)).run_id == low


def test_champion_alias_is_the_fallback_then_none(conn):
    experiment = factories.experiment(conn, "fallback")
    assert select_baseline(conn, PROJECT, experiment, "main", ComparisonRules()) is None
    run_id = _candidate(conn, experiment, "prod", 0.9)
    rms.create(conn, PROJECT, "fallback-model")
    source = run_store.get_run_row(conn, PROJECT, run_id).artifact_uri + "/model"
    version = versions.create(conn, PROJECT, "fallback-model", source, run_id=run_id, tags=[], user_id="tester")
    aliases.set_alias(conn, PROJECT, "fallback-model", "champion", version.version)
    chosen = select_baseline(conn, PROJECT, experiment, "main", ComparisonRules())
    assert (chosen.run_id, chosen.label, chosen.pipeline_id) == (run_id, "fallback-model@champion", None)


def test_the_current_pipeline_is_never_its_own_baseline(conn):
    experiment = factories.experiment(conn, "self")
    _candidate(conn, experiment, "on-main", 0.9, pipeline=30)
    assert select_baseline(conn, PROJECT, experiment, "main", ComparisonRules(), exclude_pipeline_id=30) is None


def test_comparison_report_has_baseline_first_and_verdict(conn):
    experiment = factories.experiment(conn, "report")
    _candidate(conn, experiment, "base", 0.90, pipeline=40)
    better = _candidate(conn, experiment, "lr-0.01", 0.93, pipeline=41, ref="feature", mr=5)
    worse = _candidate(conn, experiment, "lr-0.1", 0.88, pipeline=41, ref="feature", mr=5)
    report = comparison_report(conn, PROJECT, [better, worse], target_branch="main",
                               links=Links("http://ml.test", PROJECT, "http://gitlab.test/g/p"),
                               exclude_pipeline_id=41)
    [section] = report.experiments
    assert section.rows[0].is_baseline and section.rows[0].candidate.name == "base"
    assert section.verdict.kind == "improves" and section.verdict.candidate == "lr-0.01"
    assert section.rows[1].candidate.ui_url == f"http://ml.test/projects/{PROJECT}/candidates/{better}"
    assert section.baseline.pipeline_url == "http://gitlab.test/g/p/-/pipelines/40"


def _evaluation(conn, experiment, name, pass_rate, pipeline, ref="main", mr=None):
    """A run as `mlflow.genai.evaluate` leaves it: its run type tag and `<scorer>/mean` metrics."""
    return factories.run(conn, experiment, name, tags={"mlflow.runType": "genai_evaluate"},
                         metrics={"latency_ok/mean": pass_rate}, status=None, pipeline=pipeline, ref=ref,
                         merge_request=mr)


def test_genai_scorer_means_are_higher_is_better_and_link_to_failing_examples(conn):
    links = Links("http://ml.test", PROJECT, "http://gitlab.test/g/p")
    experiment = factories.experiment(conn, "genai-report")
    base = _evaluation(conn, experiment, "prompt-v1", 0.5, pipeline=50)
    better = _evaluation(conn, experiment, "prompt-v2", 0.75, pipeline=51, ref="feature", mr=6)
    plain = _candidate(conn, experiment, "not-an-evaluation", 0.1, pipeline=51, ref="feature", mr=6)
    report = comparison_report(conn, PROJECT, [better, plain], target_branch="main", links=links,
                               exclude_pipeline_id=51)
    tagged = comparison_report(conn, PROJECT, [better], target_branch="main", links=links,
                               exclude_pipeline_id=51, directions={"latency_ok/mean": "min"})
    [section] = report.experiments
    # By its name alone ("latency") the metric would be lower-is-better; as a scorer's pass rate it is not.
    assert section.directions["latency_ok/mean"].value == "max"
    assert section.rows[0].candidate.run_id == base
    assert section.verdict.kind == "improves" and section.verdict.candidate == "prompt-v2"
    by_name = {row.candidate.name: row.candidate for row in section.rows}
    assert by_name["prompt-v2"].failing_examples_url == (
        f"http://ml.test/projects/{PROJECT}/candidates/{better}/traces?assessment=failing")
    assert by_name["not-an-evaluation"].failing_examples_url is None
    assert tagged.experiments[0].directions["latency_ok/mean"].value == "min"
