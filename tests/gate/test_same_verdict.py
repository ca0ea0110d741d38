"""The quality gate and the merge request report judge the same pipeline the same way: same best
candidate, same baseline, same verdict, with and without a configured direction (SQLite and
PostgreSQL)."""
import pytest

from mltracker.service.gate.judge import GateQuestion, judge_pipeline
from mltracker.service.registry import aliases
from mltracker.service.registry import registered_models as rms
from mltracker.service.registry import versions
from mltracker.service.report_data.links import Links
from mltracker.service.report_data.pipeline_report import comparison_report
from mltracker.service.tracking import runs as run_store
from tests import factories
from tests.factories import PROJECT

MR_PIPELINE = 900
# The report's verdict for the best candidate, as the gate (max_regression 0) must see it.
GATE_STATUS = {"regresses": "failed", "improves": "passed", "matches": "passed", "no_baseline": "no_baseline"}


def _candidate(conn, experiment, name, metric, value, pipeline=None, ref="main", status="FINISHED"):
    return factories.run(conn, experiment, name, metrics={metric: value}, status=status, pipeline=pipeline, ref=ref)


def _both(conn, run_ids, metric, direction=None):
    report = comparison_report(conn, PROJECT, run_ids, target_branch="main",
                               links=Links("http://ml.test", PROJECT, "http://gitlab.test/g/p"),
                               exclude_pipeline_id=MR_PIPELINE,
                               directions={metric: direction} if direction else None)
    [section] = report.experiments
    gate = judge_pipeline(conn, PROJECT, GateQuestion(
        pipeline_id=MR_PIPELINE, metric=metric, target_ref="main", direction=direction or "auto"))
    return section, gate


def _assert_same(section, gate):
    assert GATE_STATUS[section.verdict.kind] == gate.status, (section.verdict, gate.status)
    assert section.best_candidate.run_id == gate.candidate.run_id
    if section.baseline is not None:
        assert section.baseline.candidate.run_id == gate.baseline.run_id
        assert section.baseline.label == gate.baseline_label
        assert section.directions[gate.metric] is gate.direction


@pytest.mark.parametrize("direction, expected", [
    (None, "regresses"),  # auto: `val_acc` is higher-is-better by its name
    ("maximize", "regresses"),
    ("minimize", "improves"),
])
def test_gate_and_report_agree_on_a_metric_named_higher_is_better(conn, direction, expected):
    experiment = factories.experiment(conn, "acc")
    _candidate(conn, experiment, "main-a", "val_acc", 0.90, pipeline=10)
    _candidate(conn, experiment, "main-b", "val_acc", 0.86, pipeline=10)
    mine = [_candidate(conn, experiment, "mr-a", "val_acc", 0.88, pipeline=MR_PIPELINE, ref="feat"),
            _candidate(conn, experiment, "mr-b", "val_acc", 0.84, pipeline=MR_PIPELINE, ref="feat")]
    section, gate = _both(conn, mine, "val_acc", direction)
    assert section.verdict.kind == expected
    _assert_same(section, gate)


@pytest.mark.parametrize("direction, expected", [(None, "improves"), ("max", "regresses")])
def test_the_experiment_tag_decides_for_both_unless_a_direction_is_configured(conn, direction, expected):
    experiment = factories.experiment(conn, "tagged", tags={"mltracker.direction.score": "min"})
    _candidate(conn, experiment, "main", "score", 10.0, pipeline=20)
    mine = [_candidate(conn, experiment, "mr", "score", 8.0, pipeline=MR_PIPELINE, ref="feat")]
    section, gate = _both(conn, mine, "score", direction)
    assert section.verdict.kind == expected
    _assert_same(section, gate)


def test_both_fall_back_to_the_champion_model_version(conn):
    experiment = factories.experiment(conn, "champ")
    champion = _candidate(conn, experiment, "prod", "val_loss", 0.20)
    rms.create(conn, PROJECT, "churn")
    source = run_store.get_run_row(conn, PROJECT, champion).artifact_uri + "/model"
    version = versions.create(conn, PROJECT, "churn", source, run_id=champion, tags=[], user_id="tester")
    aliases.set_alias(conn, PROJECT, "churn", "champion", version.version)
    mine = [_candidate(conn, experiment, "mr", "val_loss", 0.25, pipeline=MR_PIPELINE, ref="feat")]
    section, gate = _both(conn, mine, "val_loss")
    assert section.verdict.kind == "regresses" and gate.status == "failed"
    assert gate.baseline_label == "churn@champion" and gate.baseline.run_id == champion
    _assert_same(section, gate)


def test_both_prefer_a_finished_candidate_over_a_better_failed_one(conn):
    experiment = factories.experiment(conn, "failed")
    _candidate(conn, experiment, "main", "val_loss", 0.30, pipeline=30)
    mine = [_candidate(conn, experiment, "crashed", "val_loss", 0.10, pipeline=MR_PIPELINE,
                       ref="feat", status="FAILED"),
            _candidate(conn, experiment, "ok", "val_loss", 0.35, pipeline=MR_PIPELINE, ref="feat")]
    section, gate = _both(conn, mine, "val_loss")
    assert section.best_candidate.name == "ok" and gate.status == "failed"
    _assert_same(section, gate)
