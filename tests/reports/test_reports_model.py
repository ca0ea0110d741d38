"""The report model: columns, deltas by direction, best values, verdicts."""
import math

from mltracker.reports import BaselineData, CandidateData, ExperimentData, build_comparison, build_report
from mltracker.reports.build import build_experiment

import report_samples as samples
from mltracker.service.comparison.rules import ComparisonRules


def run(name, metrics, params=None, order=(), status="FINISHED"):
    return CandidateData(run_id=f"id-{name}", name=name, status=status, metrics=metrics,
                         params=params or {}, metric_order=order)


def experiment(candidates, baseline=None, tags=None, directions=None, primary_metrics=None):
    rules = ComparisonRules(tags or {}, directions or {}, primary_metrics)
    exp = ExperimentData("exp", candidates, BaselineData("main", baseline) if baseline else None, rules)
    return build_experiment(exp)


def cell(report, row, key):
    index = [c.key for c in report.columns].index(key)
    return report.rows[row].cells[index]


def test_columns_primary_then_metrics_then_differing_params():
    base = run("base", {"val_acc": 0.9, "val_loss": 0.3, "f1": 0.5}, {"lr": "0.1", "seed": "1", "opt": "adam"},
               order=["val_loss", "val_acc", "f1"])
    cand = run("c", {"val_acc": 0.92, "val_loss": 0.2, "f1": 0.6}, {"lr": "0.01", "seed": "1", "opt": "adam"},
               order=["val_loss", "val_acc", "f1"])
    report = experiment([cand], base, tags={"mltracker.primary_metric": "val_acc"})
    assert [(c.key, c.kind, c.primary) for c in report.columns] == [
        ("val_acc", "metric", True), ("val_loss", "metric", False), ("f1", "metric", False), ("lr", "param", False),
    ]
    assert report.rows[0].is_baseline and report.rows[0].candidate is base


def test_primary_metric_defaults_to_first_logged():
    cand = run("c", {"b": 1.0, "a": 2.0}, order=["b", "a"])
    assert experiment([cand]).primary_metrics == ("b",)
    # Without an explicit order, the order metrics appear in.
    assert experiment([run("c", {"z": 1.0, "a": 2.0})]).primary_metrics == ("z",)


def test_several_primary_metrics_and_overrides():
    cand = run("c", {"a": 1.0, "b": 2.0, "c": 3.0})
    assert experiment([cand], tags={"mltracker.primary_metric": "c, b"}).primary_metrics == ("c", "b")
    report = experiment([cand], tags={"mltracker.primary_metric": "c"}, primary_metrics=["b"])
    assert report.primary_metrics == ("b",)


def test_only_params_that_differ_including_missing_ones():
    rows = [run("a", {"m": 1.0}, {"same": "1", "differs": "x", "only_a": "1"}),
            run("b", {"m": 2.0}, {"same": "1", "differs": "y"})]
    assert [c.key for c in experiment(rows).param_columns] == ["differs", "only_a"]
    assert cell(experiment(rows), 1, "only_a").text == "—"


def test_deltas_are_coloured_by_direction_not_by_sign():
    base = run("base", {"val_acc": 0.9, "val_loss": 0.3})
    up = run("up", {"val_acc": 0.95, "val_loss": 0.4})
    report = experiment([up], base)
    acc, loss = cell(report, 1, "val_acc").delta, cell(report, 1, "val_loss").delta
    assert (acc.arrow, acc.change, acc.text, acc.percent_text) == ("▲", "better", "+0.05", "+5.6%")
    assert (loss.arrow, loss.change, loss.text, loss.percent_text) == ("▲", "worse", "+0.1", "+33.3%")
    down = experiment([run("down", {"val_acc": 0.8, "val_loss": 0.2})], base)
    assert (cell(down, 1, "val_acc").delta.arrow, cell(down, 1, "val_acc").delta.change) == ("▼", "worse")
    assert (cell(down, 1, "val_loss").delta.arrow, cell(down, 1, "val_loss").delta.change) == ("▼", "better")


def test_direction_override_flips_the_colour():
    base, cand = run("base", {"val_loss": 0.3}), run("c", {"val_loss": 0.4})
    assert cell(experiment([cand], base, directions={"val_loss": "max"}), 1, "val_loss").delta.change == "better"
    tags = {"mltracker.direction.val_loss": "max"}
    assert cell(experiment([cand], base, tags=tags), 1, "val_loss").delta.change == "better"


def test_delta_against_zero_has_no_percentage_and_equal_is_same():
    report = experiment([run("c", {"m": 0.5}), run("d", {"m": 0.0})], run("base", {"m": 0.0}))
    assert cell(report, 1, "m").delta.percent is None and cell(report, 1, "m").delta.percent_text is None
    assert cell(report, 2, "m").delta.change == "same"


def test_best_value_in_bold_per_direction_ties_all_bold_and_no_bold_when_all_equal():
    report = experiment(
        [run("a", {"acc": 0.8, "loss": 0.2, "flat": 1.0}), run("b", {"acc": 0.9, "loss": 0.2, "flat": 1.0})],
        run("base", {"acc": 0.85, "loss": 0.3, "flat": 1.0}),
    )
    assert [cell(report, i, "acc").best for i in range(3)] == [False, False, True]
    assert [cell(report, i, "loss").best for i in range(3)] == [False, True, True]
    assert not any(cell(report, i, "flat").best for i in range(3))


def test_baseline_can_hold_the_best_value():
    report = experiment([run("a", {"acc": 0.8})], run("base", {"acc": 0.85}))
    assert cell(report, 0, "acc").best and not cell(report, 1, "acc").best


def test_missing_and_nan():
    report = experiment([run("a", {"acc": math.nan}), run("b", {"other": 1.0})], run("base", {"acc": 0.5}))
    nan, missing = cell(report, 1, "acc"), cell(report, 2, "acc")
    assert (nan.text, nan.delta, nan.best) == ("NaN", None, False)
    assert (missing.text, missing.delta, missing.missing) == ("—", None, True)
    assert cell(report, 0, "other").text == "—"


def test_column_precision_widens_until_values_differ():
    report = experiment([run("a", {"acc": 0.912341}), run("b", {"acc": 0.912349})])
    assert [cell(report, i, "acc").text for i in range(2)] == ["0.91234", "0.91235"]


def test_duration_metrics_are_humanised():
    report = experiment([run("a", {"epoch_time_s": 3725.0})], run("base", {"epoch_time_s": 3600.0}))
    c = cell(report, 1, "epoch_time_s")
    assert (c.text, c.delta.text, c.delta.change) == ("1 h 02 min", "+2 min 05 s", "worse")


def test_no_baseline():
    report = build_report([samples.no_baseline_experiment()]).experiments[0]
    assert report.baseline is None and not any(r.is_baseline for r in report.rows)
    assert all(c.delta is None for r in report.rows for c in r.cells)
    assert report.verdict.kind == "no_baseline" and report.verdict.candidate == "depth-8"
    assert report.verdict.text == "best candidate depth-8: test/rmse 0.1234 (no baseline)"


def test_verdict_improves():
    report = build_report([samples.pipeline_experiment()]).experiments[0]
    assert report.best_candidate.name == "lr-0.01"
    assert report.verdict.kind == "improves"
    assert report.verdict.text == "best candidate lr-0.01 improves val_acc 0.912 → 0.931 (+2.1%) over main"


def test_verdict_regresses_matches_unmeasured_and_empty():
    base = run("base", {"acc": 0.9})
    assert experiment([run("a", {"acc": 0.8})], base).verdict.kind == "regresses"
    assert experiment([run("a", {"acc": 0.9})], base).verdict.kind == "matches"
    assert experiment([run("a", {"acc": 0.8})], run("base", {"other": 1.0})).verdict.kind == "unmeasured"
    assert experiment([run("a", {"acc": math.nan})], base).verdict.kind == "no_values"
    assert experiment([], base).verdict.kind == "no_candidates"


def test_best_candidate_prefers_finished_runs_and_breaks_ties_on_next_primary():
    failed = run("failed", {"acc": 0.99}, status="FAILED")
    ok = run("ok", {"acc": 0.9})
    assert experiment([failed, ok]).best_candidate is ok
    assert experiment([failed]).best_candidate is failed
    a, b = run("a", {"acc": 0.9, "f1": 0.5}), run("b", {"acc": 0.9, "f1": 0.7})
    assert experiment([a, b], tags={"mltracker.primary_metric": "acc,f1"}).best_candidate is b


def test_baseline_not_repeated_among_candidates():
    base = run("base", {"acc": 0.9})
    report = experiment([base, run("a", {"acc": 0.8})], base)
    assert [r.candidate.name for r in report.rows] == ["base", "a"]


def test_invalid_direction_tag_is_noted():
    report = experiment([run("a", {"acc": 0.8})], tags={"mltracker.direction.acc": "up"})
    assert report.notes == ("ignored tag mltracker.direction.acc='up' (expected min or max)",)


def test_comparison_of_two_candidates():
    a, b = run("a", {"loss": 0.3}), run("b", {"loss": 0.2})
    report = build_comparison(a, b, rules=samples.RULES).experiments[0]
    assert report.compare and [r.candidate for r in report.rows] == [a, b]
    assert report.verdict.kind == "improves"
    assert report.rows[1].cells[0].delta.change == "better"


def test_experiment_keys_are_unique_and_name_plots():
    exp = ExperimentData("My Exp!", [run("a", {"m": 1.0})], rules=samples.RULES)
    report = build_report([exp, exp])
    assert [e.key for e in report.experiments] == ["my-exp", "my-exp-2"]
    assert report.plot_names == ["my-exp-history.png", "my-exp-metrics.png",
                                 "my-exp-2-history.png", "my-exp-2-metrics.png"]
