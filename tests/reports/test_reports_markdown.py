"""The comment around the table: marker, verdict, plots, history round trip, compare reply."""
from mltracker.reports import REPORT_MARKER, build_report, extract_history, render_compare, render_markdown
from mltracker.reports.inputs import CandidateData

import report_samples as samples
from mltracker.service.comparison.rules import ComparisonRules


def test_marker_is_the_first_line():
    markdown = render_markdown(build_report([samples.pipeline_experiment()]))
    assert markdown.splitlines()[0] == REPORT_MARKER == "<!-- mltracker:report -->"


def test_verdict_comes_before_the_table_and_plots_after():
    report = build_report([samples.pipeline_experiment()])
    markdown = render_markdown(report, {name: f"/uploads/x/{name}" for name in report.plot_names})
    verdict = markdown.index("best candidate `lr-0.01` improves `val_acc` 0.912 → 0.931 (+2.1%) over `main`")
    table = markdown.index("| Candidate |")
    plots = markdown.index("![history of the primary metrics by step](/uploads/x/cls-resnet-history.png)")
    assert verdict < table < plots < markdown.index("![final metrics](/uploads/x/cls-resnet-metrics.png)")


def test_plots_only_when_uploaded_and_safe():
    report = build_report([samples.pipeline_experiment()])
    assert "![" not in render_markdown(report)
    assert "![" not in render_markdown(report, {"cls-resnet-history.png": "javascript:alert(1)"})
    assert "![" not in render_markdown(report, {"unknown.png": "/uploads/x/unknown.png"})


def test_links_to_ui_job_and_baseline_pipeline():
    markdown = render_markdown(build_report([samples.pipeline_experiment()]))
    assert "[lr-0.01](https://mltracker.example.com/projects/7/candidates/run-lr-0.01)" in markdown
    assert "[job](https://gitlab.example.com/ml/cls/-/jobs/1001)" in markdown
    assert "[pipeline](https://gitlab.example.com/ml/cls/-/pipelines/100)" in markdown


def test_no_baseline_says_so_and_shows_no_changes():
    markdown = render_markdown(build_report([samples.no_baseline_experiment()]))
    assert "No baseline to compare against" in markdown
    assert "▲" not in markdown and "▼" not in markdown


def test_no_history_section_without_history():
    assert "<details>" not in render_markdown(build_report([samples.pipeline_experiment()]))


def test_history_round_trip_keeps_newest_first():
    first = render_markdown(build_report([samples.no_baseline_experiment()]), pipeline="#1")
    second = render_markdown(build_report([samples.pipeline_experiment()]), history=extract_history(first),
                             pipeline="#2")
    third = render_markdown(build_report([samples.pipeline_experiment()]), history=extract_history(second),
                            pipeline="#3")
    assert extract_history(third) == [
        "**Pipeline #\u200d3** · best candidate `lr-0.01` improves `val_acc` 0.912 → 0.931 (+2.1%) over `main`",
        "**Pipeline #\u200d2** · best candidate `lr-0.01` improves `val_acc` 0.912 → 0.931 (+2.1%) over `main`",
        "**Pipeline #\u200d1** · best candidate `depth-8`: `test/rmse` 0.1234 (no baseline to compare against)",
    ]
    details = third[third.index("<details><summary>Earlier pipelines</summary>"):]
    assert "Pipeline #\u200d2" in details and "Pipeline #\u200d3" not in details


def test_no_candidates():
    experiment = samples.pipeline_experiment()
    empty = type(experiment)(experiment.name, [], experiment.baseline, experiment.rules)
    markdown = render_markdown(build_report([empty]))
    assert "this pipeline produced no candidates" in markdown
    assert "0 candidates from this pipeline" in markdown


def test_compare_second_against_first():
    a = CandidateData("1", "a", metrics={"val_loss": 0.3, "acc": 0.8}, params={"lr": "0.1"})
    b = CandidateData("2", "b", metrics={"val_loss": 0.25, "acc": 0.79}, params={"lr": "0.01"})
    reply = render_compare(a, b, rules=samples.RULES)
    assert reply.startswith("**Comparison** (`b` against `a`): `b` improves `val_loss` 0.3 → 0.25 (-16.7%) over `a`")
    assert "🔵▼ -0.05 (-16.7%)" in reply and "🟠▼ -0.01 (-1.3%)" in reply
    assert "baseline" not in reply.split("<sub>")[0]
    assert render_compare(a, b, rules=ComparisonRules(explicit_primary_metrics=["acc"])).startswith(
        "**Comparison** (`b` against `a`): `b` does not improve on `a`: `acc` 0.8 → 0.79 (-1.3%)")
