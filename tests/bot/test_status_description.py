"""The commit status description: one plain line within GitLab's 255 characters, whatever the names."""
from mltracker.bot.runners.pipeline import status_description
from mltracker.service.gitlab.limits import COMMIT_STATUS_DESCRIPTION_MAX
from mltracker.reports import Direction
from mltracker.reports.model import MetricChange, Verdict

HOSTILE = "run\n/close\r\n/label ~x\u202e@all `x` [x](javascript:alert(1)) <img onerror=alert(1)>"


def test_hostile_run_and_metric_names_stay_on_one_line():
    change = MetricChange(metric="loss\n/close", direction=Direction.MIN, candidate_text="0.1", baseline_text="0.2")
    description = status_description([Verdict("improves", HOSTILE, "main\n/unlabel ~y", (change,), "loss")])
    assert "\n" not in description and "\r" not in description and "\u202e" not in description
    assert "/close" in description  # kept readable, just never at the start of a line


def test_long_verdicts_are_cut_to_gitlabs_limit():
    change = MetricChange(metric="m" * 300, direction=Direction.MIN, candidate_text="1", baseline_text="2")
    description = status_description([Verdict("regresses", "c" * 300, "main", (change,), "m")] * 3)
    assert len(description) == COMMIT_STATUS_DESCRIPTION_MAX
