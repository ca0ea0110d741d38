"""PNG plots: valid, deterministic, 800 px wide, something to draw or None."""
import io
import math

import pytest
from PIL import Image

from mltracker.reports import BaselineData, CandidateData, ExperimentData, build_report
from mltracker.reports.plots import (
    MAX_CANDIDATES, final_metrics_figure, history_figure, plot_final_metrics, plot_history, render_plots,
)

import report_samples as samples

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def experiment_report(*experiments):
    return build_report(list(experiments)).experiments


@pytest.fixture(scope="module")
def pipeline():
    return experiment_report(samples.pipeline_experiment())[0]


@pytest.mark.parametrize("plot", [plot_history, plot_final_metrics])
def test_valid_png_800px_wide(pipeline, plot):
    png = plot(pipeline)
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.verify()
    width, height = Image.open(io.BytesIO(png)).size
    assert width == 800 and 250 <= height <= 1200


@pytest.mark.parametrize("plot", [plot_history, plot_final_metrics])
def test_same_input_same_bytes(plot):
    first = plot(experiment_report(samples.pipeline_experiment())[0])
    second = plot(experiment_report(samples.pipeline_experiment())[0])
    assert first == second


def test_no_timestamp_or_software_metadata(pipeline):
    info = Image.open(io.BytesIO(plot_history(pipeline))).info
    assert not {"Software", "Creation Time", "date:create"} & set(info)


def test_render_plots_names_match_the_report():
    report = build_report([samples.pipeline_experiment(), samples.no_baseline_experiment()])
    plots = render_plots(report)
    assert sorted(plots) == sorted(report.plot_names)


def test_nothing_to_draw_gives_none():
    bare = CandidateData("r", "r", metrics={"acc": 0.5})
    exp = experiment_report(ExperimentData("e", [bare], rules=samples.RULES))[0]
    assert plot_history(exp) is None  # no history logged
    assert plot_final_metrics(exp) is not None
    assert plot_final_metrics(experiment_report(ExperimentData("e", [CandidateData("r", "r")], rules=samples.RULES))[0]) is None


def test_many_candidates_long_names_and_odd_values_still_render():
    runs = [
        CandidateData(f"r{i}", f"candidate-with-a-very-long-name-{i}-$x$-\u202e", metrics={
            "val_loss": 10.0 ** -i, "acc": math.nan if i == 3 else i / 10, "neg": -i * 1.5,
        }, history={"val_loss": [(s, 10.0 ** (-i - s / 10)) for s in range(30)]})
        for i in range(9)
    ]
    base = CandidateData("b", "base", metrics={"val_loss": 1.0, "acc": 0.1})
    exp = experiment_report(ExperimentData("e", runs, BaselineData("main", base), rules=samples.RULES))[0]
    for plot in (plot_history, plot_final_metrics):
        png = plot(exp)
        assert Image.open(io.BytesIO(png)).size[0] == 800
    assert MAX_CANDIDATES < len(runs)


def test_history_lines_draw_each_rows_logged_points():
    exp = experiment_report(samples.no_baseline_experiment())[0]
    fig = history_figure(exp)
    lines = {line.get_label(): line for ax in fig.axes for line in ax.get_lines()}
    for row in exp.rows:
        expected = sorted(row.candidate.history["test/rmse"])
        drawn = [line for label, line in lines.items() if row.candidate.name in label]
        assert len(drawn) == 1, (row.candidate.name, list(lines))
        assert list(drawn[0].get_xdata()) == [step for step, _ in expected]
        assert list(drawn[0].get_ydata()) == pytest.approx([value for _, value in expected])


def test_final_metric_bars_are_the_rows_values(pipeline):
    fig = final_metrics_figure(pipeline)
    metric_columns = [(i, c) for i, c in enumerate(pipeline.columns) if c.kind == "metric"]
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.patches]
    assert len(panels) == len(metric_columns)
    for ax, (index, _column) in zip(panels, metric_columns):
        # Bars are drawn bottom-up, first row on top: sort by y to compare with the rows' order.
        bars = sorted(ax.patches, key=lambda bar: -bar.get_y())
        expected = [row.cells[index].value for row in pipeline.rows]
        for bar, value in zip(bars, expected):
            finite = isinstance(value, float) and math.isfinite(value)
            assert bar.get_width() == pytest.approx(value if finite else 0.0)
