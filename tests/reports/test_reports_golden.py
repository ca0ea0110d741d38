"""Rendered comments compared with reviewed files in golden/.

After an intended change, regenerate with `REPORTS_UPDATE_GOLDEN=1 pytest tests/reports` and review
the diff of tests/reports/golden/ before committing it.
"""
import os
from pathlib import Path

import pytest

from mltracker.reports import build_report, render_compare, render_html, render_markdown

import report_samples as samples

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("REPORTS_UPDATE_GOLDEN") == "1"


def pipeline_report() -> str:
    report = build_report([samples.pipeline_experiment()])
    plots = {name: f"/uploads/0123abcd/{name}" for name in report.plot_names}
    history = [
        "**Pipeline [#\u200d99](https://gitlab.example.com/ml/cls/-/pipelines/99)** · best candidate `lr-0.1` "
        "does not improve on `main`: `val_acc` 0.912 → 0.9 (-1.3%)",
    ]
    return render_markdown(report, plots, history, pipeline="#101",
                           pipeline_url="https://gitlab.example.com/ml/cls/-/pipelines/101")


def no_baseline_report() -> str:
    return render_markdown(build_report([samples.no_baseline_experiment()]))


def compare_reply() -> str:
    experiment = samples.pipeline_experiment()
    return render_compare(experiment.candidates[0], experiment.candidates[1], rules=samples.RULES)


def two_experiments_report() -> str:
    return render_markdown(build_report([samples.pipeline_experiment(), samples.no_baseline_experiment()]),
                           pipeline="#101")


def genai_report() -> str:
    return render_markdown(build_report([samples.genai_experiment()]), pipeline="#201",
                           pipeline_url="https://gitlab.example.com/ml/bot/-/pipelines/201")


def genai_html() -> str:
    return render_html(build_report([samples.genai_experiment()]))


def pipeline_html() -> str:
    return render_html(build_report([samples.pipeline_experiment()]), {"cls-resnet-history.png": "/uploads/h.png"})


CASES = {
    "pipeline_report.md": pipeline_report,
    "no_baseline_report.md": no_baseline_report,
    "compare_reply.md": compare_reply,
    "two_experiments_report.md": two_experiments_report,
    "pipeline_report.html": pipeline_html,
    "genai_report.md": genai_report,
    "genai_report.html": genai_html,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name):
    rendered = CASES[name]()
    path = GOLDEN / name
    if UPDATE:
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"missing {path}; run with REPORTS_UPDATE_GOLDEN=1 to create it"
    assert rendered == path.read_text(encoding="utf-8")
