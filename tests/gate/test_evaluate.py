"""The gate's decision once the comparison domain has picked the direction and the baseline."""
import math

import pytest

from mltracker.reports import Direction
from mltracker.service.errors import MlflowError
from mltracker.service.gate.evaluate import (
    FAILED,
    NO_BASELINE,
    NO_CANDIDATES,
    PASSED,
    Candidate,
    best,
    evaluate,
    parse_direction_setting,
    parse_max_regression,
    parse_no_candidates,
    summary,
)


def _c(run_id, value, pipeline=1):
    return Candidate(run_id=run_id, run_name=run_id, value=value, pipeline_id=pipeline, job_id=10)


def _evaluate(candidates, baseline, direction=Direction.MIN, max_regression=0.0, no_candidates="pass"):
    chosen = best(baseline, "loss", direction)
    return evaluate(metric="loss", direction=direction, max_regression=max_regression, experiment="e",
                    pipeline_id=1, baseline_ref="main", candidates=candidates, baseline_candidates=baseline,
                    baseline_run_id=chosen.run_id if chosen else None, no_candidates=no_candidates)


def test_gate_regression_and_improvement():
    result = _evaluate([_c("a", 0.5), _c("b", 0.4)], [_c("base", 0.3, 0), _c("base2", 0.35, 0)])
    assert result.status == FAILED and not result.passed
    assert result.candidate.run_id == "b" and result.baseline.run_id == "base"
    assert result.regression == pytest.approx(1 / 3)
    assert summary(result).startswith("FAIL: best 'loss' is 33.33% worse than the baseline on 'main'")
    result = _evaluate([_c("a", 0.5)], [_c("base", 0.3)], max_regression=0.7)
    assert result.status == PASSED
    result = _evaluate([_c("a", 0.9)], [_c("base", 0.8)], direction=Direction.MAX)
    assert result.status == PASSED and result.regression == pytest.approx(-0.125)
    assert summary(result).startswith("PASS: best 'loss' is 12.50% better")
    result = _evaluate([_c("a", 0.3)], [_c("base", 0.3)])
    assert result.passed and "equals" in summary(result)


def test_gate_edge_cases():
    assert _evaluate([], [_c("base", 1)]).status == NO_CANDIDATES
    assert _evaluate([_c("a", None), _c("b", math.nan)], [_c("base", 1)]).status == NO_CANDIDATES
    result = _evaluate([_c("a", 1.0)], [])
    assert result.status == NO_BASELINE and result.passed and summary(result).startswith("PASS")
    result = _evaluate([_c("a", 0.1)], [_c("base", 0.0)])
    assert result.status == FAILED and math.isinf(result.regression)
    assert result.to_json()["summary"].startswith("FAIL")
    assert _evaluate([_c("a", 0.0)], [_c("base", 0.0)]).passed


def test_no_candidates_passes_with_a_warning_unless_told_to_fail():
    passed = _evaluate([], [_c("base", 1)])
    assert passed.passed and passed.warning
    failed = _evaluate([], [_c("base", 1)], no_candidates="fail")
    assert failed.status == NO_CANDIDATES and not failed.passed


@pytest.mark.parametrize("raw, value", [(None, 0.0), ("0", 0.0), ("0.05", 0.05), ("5%", 0.05), (" 2.5% ", 0.025)])
def test_parse_max_regression(raw, value):
    assert parse_max_regression(raw) == pytest.approx(value)


@pytest.mark.parametrize("raw", ["-1", "abc", "nan", "%"])
def test_parse_max_regression_refuses(raw):
    with pytest.raises(MlflowError):
        parse_max_regression(raw)


def test_parse_settings():
    assert parse_direction_setting(None) == "auto"
    assert parse_no_candidates(None) == "pass" and parse_no_candidates("FAIL") == "fail"
    for parse in (parse_direction_setting, parse_no_candidates):
        with pytest.raises(MlflowError):
            parse("sideways")
