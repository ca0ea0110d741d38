"""The quality gate's decision, pure: best candidate of a pipeline vs the baseline's best."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from mltracker.service.errors import invalid

MINIMIZE, MAXIMIZE = "minimize", "maximize"
_DIRECTIONS = {
    "minimize": MINIMIZE, "min": MINIMIZE, "lower": MINIMIZE, "lower_is_better": MINIMIZE,
    "maximize": MAXIMIZE, "max": MAXIMIZE, "higher": MAXIMIZE, "higher_is_better": MAXIMIZE,
}
PASSED, FAILED, NO_BASELINE, NO_CANDIDATES = "passed", "failed", "no_baseline", "no_candidates"


@dataclass(frozen=True)
class Candidate:
    run_id: str
    run_name: str
    value: float | None
    pipeline_id: int | None = None
    job_id: int | None = None


@dataclass
class GateResult:
    status: str
    passed: bool
    metric: str
    direction: str
    max_regression: float
    experiment: str | None
    pipeline_id: int
    baseline_ref: str
    candidate: Candidate | None = None
    baseline: Candidate | None = None
    change: float | None = None  # candidate − baseline, in the metric's unit
    regression: float | None = None  # relative; > 0 means worse than the baseline
    candidates: list[Candidate] = field(default_factory=list)
    baseline_candidates: list[Candidate] = field(default_factory=list)
    reason: str = ""

    def to_json(self) -> dict:
        payload = asdict(self)
        payload["summary"] = summary(self)
        return payload


def parse_direction(raw: str | None) -> str:
    direction = _DIRECTIONS.get((raw or MINIMIZE).strip().lower())
    if direction is None:
        raise invalid(f"direction must be 'minimize' or 'maximize', got '{raw}'.")
    return direction


def parse_max_regression(raw: str | None) -> float:
    """Allowed relative regression: "0.05" or "5%" both mean 5 % worse than the baseline."""
    text = (raw or "0").strip()
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise invalid(f"max_regression must be a fraction (0.05) or a percentage (5%), got '{raw}'.") from None
    if math.isnan(value) or value < 0:
        raise invalid(f"max_regression must be zero or positive, got '{raw}'.")
    return value


def best(candidates: list[Candidate], direction: str) -> Candidate | None:
    scored = [c for c in candidates if c.value is not None and not math.isnan(c.value)]
    if not scored:
        return None
    pick = min if direction == MINIMIZE else max
    return pick(scored, key=lambda c: c.value)


def evaluate(
    *, metric: str, direction: str, max_regression: float, experiment: str | None, pipeline_id: int,
    baseline_ref: str, candidates: list[Candidate], baseline_candidates: list[Candidate],
) -> GateResult:
    result = GateResult(
        status=NO_CANDIDATES, passed=False, metric=metric, direction=direction, max_regression=max_regression,
        experiment=experiment, pipeline_id=pipeline_id, baseline_ref=baseline_ref,
        candidates=candidates, baseline_candidates=baseline_candidates,
    )
    result.candidate = best(candidates, direction)
    if result.candidate is None:
        result.reason = (
            f"no candidate of pipeline {pipeline_id} logged '{metric}'"
            if candidates else f"pipeline {pipeline_id} produced no candidates"
        )
        return result
    result.baseline = best(baseline_candidates, direction)
    if result.baseline is None:
        result.status, result.passed = NO_BASELINE, True
        result.reason = f"no baseline on '{baseline_ref}' with '{metric}' yet"
        return result
    change = result.candidate.value - result.baseline.value
    worse_by = change if direction == MINIMIZE else -change
    if result.baseline.value != 0:
        regression = worse_by / abs(result.baseline.value)
    else:
        regression = 0.0 if worse_by <= 0 else math.inf
    result.change, result.regression = change, regression
    result.passed = regression <= max_regression + 1e-12
    result.status = PASSED if result.passed else FAILED
    return result


def _pct(value: float) -> str:
    if math.isinf(value):
        return "∞"
    return f"{value * 100:.2f}%"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6g}"


def _describe(c: Candidate) -> str:
    where = ", ".join(p for p in (
        f"pipeline {c.pipeline_id}" if c.pipeline_id is not None else "",
        f"job {c.job_id}" if c.job_id is not None else "",
    ) if p)
    return f"run {c.run_id} '{c.run_name}'" + (f" ({where})" if where else "")


def summary(result: GateResult) -> str:
    """Plain text; the first line starts with PASS or FAIL (the CI job greps it)."""
    better = "lower" if result.direction == MINIMIZE else "higher"
    if result.status == NO_CANDIDATES:
        head = f"FAIL: {result.reason}"
    elif result.status == NO_BASELINE:
        head = f"PASS: {result.reason}; nothing to compare with"
    else:
        regression = result.regression or 0.0
        if regression > 0:
            verb = f"is {_pct(regression)} worse than"
        elif regression < 0:
            verb = f"is {_pct(-regression)} better than"
        else:
            verb = "equals"
        head = (
            f"{'PASS' if result.passed else 'FAIL'}: best '{result.metric}' {verb} the baseline on "
            f"'{result.baseline_ref}' (allowed regression {_pct(result.max_regression)})"
        )
    lines = [
        head,
        f"  metric      {result.metric} ({better} is better)",
        f"  experiment  {result.experiment or 'n/a'}",
        f"  pipeline    {result.pipeline_id}: {len(result.candidates)} candidate(s)",
    ]
    if result.candidate is not None:
        lines.append(f"  candidate   {_fmt(result.candidate.value):>12}  {_describe(result.candidate)}")
    if result.baseline is not None:
        lines.append(f"  baseline    {_fmt(result.baseline.value):>12}  {_describe(result.baseline)}"
                     f" on '{result.baseline_ref}'")
    if result.change is not None:
        lines.append(f"  change      {result.change:+.6g}")
    return "\n".join(lines) + "\n"
